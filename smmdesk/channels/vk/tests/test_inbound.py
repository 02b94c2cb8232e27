"""VK inbound: every documented event kind parsed from payloads shaped like VK's docs, the Callback API
(confirmation, secret key, the "ok" answer, nothing stored for a bad delivery) through the real webhook
endpoint, and Bots Long Poll with its cursor and failure codes."""

import json
from datetime import UTC, datetime

import pytest

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import AdapterError, SignatureError
from smmdesk.channels.models import Channel
from smmdesk.channels.vk import events
from smmdesk.channels.vk.tests.conftest import CODE, GROUP, LP_BASE, SECRET, delivery, fixture
from smmdesk.inbox import ingest_tasks
from smmdesk.inbox.models import Message, RawEvent


def parse(adapter, name, **over):
    return adapter.parse_webhook(delivery(name, **over), {})


def test_community_message_becomes_a_dm_in_the_peer_conversation(make_adapter):
    [event] = parse(make_adapter(), "message_new")
    assert event.kind == "dm"
    assert event.external_id == "m5551001_41"
    assert event.thread_id == "5551001"
    assert event.author_id == "5551001"
    assert event.author_url == "https://vk.com/id5551001" and event.author_handle == "id5551001"
    assert event.text == "Здравствуйте! Можно записаться на стрижку в субботу?"
    assert event.created_at == datetime.fromtimestamp(1764158400, tz=UTC)
    # Metadata only, with the largest size of the photo.
    assert event.attachments == [
        {"type": "photo", "id": "photo5551001_457239017", "url": "https://sun9-1.userapi.com/impg/w.jpg"}
    ]
    assert "secret" not in event.raw and event.raw["type"] == "message_new"


def test_group_chat_message_is_a_chat_and_keeps_its_quote(make_adapter):
    [event] = parse(make_adapter(), "message_new_chat")
    assert (event.kind, event.thread_id, event.external_id) == ("chat", "2000000003", "m2000000003_7")
    assert event.reply_to_id == "m2000000003_5"


def test_edited_message_is_a_new_message_next_to_the_original(make_adapter):
    adapter = make_adapter()
    [edit] = parse(adapter, "message_edit")
    assert edit.external_id.startswith("m5551001_41~edit~")
    assert edit.reply_to_id == "m5551001_41"
    assert edit.text.endswith("в воскресенье?")
    assert edit.created_at == datetime.fromtimestamp(1764158460, tz=UTC)
    # The same edit delivered again has the same id, so the inbox keeps it once.
    assert parse(adapter, "message_edit")[0].external_id == edit.external_id


def test_wall_comment_threads_under_its_post(make_adapter):
    [event] = parse(make_adapter(), "wall_reply_new")
    assert event.kind == "comment"
    assert event.external_id == f"wall-{GROUP}_120_r77"
    assert event.thread_id == f"wall-{GROUP}_120"
    assert event.reply_to_id == ""
    assert event.text == "Сколько стоит окрашивание?"


def test_answer_to_a_comment_points_at_it(make_adapter):
    [event] = parse(make_adapter(), "wall_reply_new_answer")
    assert event.reply_to_id == f"wall-{GROUP}_120_r77"
    assert event.attachments == [{"type": "sticker"}]


def test_edited_and_restored_comments(make_adapter):
    adapter = make_adapter()
    [edit] = parse(adapter, "wall_reply_edit")
    assert edit.external_id.startswith(f"wall-{GROUP}_120_r77~edit~")
    assert edit.reply_to_id == f"wall-{GROUP}_120_r77" and edit.text.endswith("и стрижка?")
    [restored] = parse(adapter, "wall_reply_restore")
    assert restored.external_id == f"wall-{GROUP}_120_r77"


def test_posts_by_others_and_reposts_with_words_are_mentions(make_adapter):
    adapter = make_adapter()
    [suggested] = parse(adapter, "wall_post_new_suggest")
    assert (suggested.kind, suggested.external_id, suggested.author_id) == (
        "mention",
        f"wall-{GROUP}_122",
        "5551003",
    )
    [repost] = parse(adapter, "wall_repost")
    assert (repost.kind, repost.external_id, repost.thread_id) == (
        "mention",
        "wall5551003_15",
        "wall5551003_15",
    )
    assert repost.text == "Девочки, участвую, присоединяйтесь!"


@pytest.mark.parametrize(
    "name",
    [
        "wall_post_new_own",  # our own post: the echo of publishing
        "wall_repost_plain",  # a repost without words: counted by entries(), not an inbox message
        "message_reply",  # our own outgoing message
        "wall_reply_delete",
        "like_add",
        "group_join",
    ],
)
def test_kinds_without_inbox_text_are_acknowledged_and_skipped(make_adapter, name):
    assert parse(make_adapter(), name) == []


def test_every_silent_kind_is_skipped(make_adapter):
    adapter = make_adapter()
    for kind in sorted(events.SILENT_TYPES - {"confirmation"}):
        assert adapter.parse_webhook(delivery("like_add", type=kind), {}) == [], kind


@pytest.mark.parametrize(
    "body",
    [
        delivery("message_new", secret=None),
        delivery("message_new", secret="not-the-secret-at-all"),
        delivery("message_new", secret=""),
        delivery("message_new", secret=SECRET + "x"),
    ],
)
def test_a_delivery_without_the_secret_key_is_refused(make_adapter, body):
    with pytest.raises(SignatureError):
        make_adapter().parse_webhook(body, {})


def test_a_channel_without_a_secret_key_refuses_every_delivery(make_adapter):
    with pytest.raises(SignatureError, match="no Callback API secret key"):
        make_adapter(secret_key=None).parse_webhook(delivery("message_new"), {})


def test_malformed_deliveries_are_permanent_errors(make_adapter):
    adapter = make_adapter()
    for body in (b"{not json", b"[1, 2]", "\udcff".encode("utf-8", "surrogatepass")):
        with pytest.raises(AdapterError) as failed:
            adapter.parse_webhook(body, {})
        assert failed.value.permanent and not isinstance(failed.value, SignatureError)
    broken = json.loads(delivery("wall_reply_new"))
    del broken["object"]["post_id"]
    with pytest.raises(AdapterError, match="malformed wall_reply_new"):
        adapter.parse_webhook(json.dumps(broken).encode(), {})
    with pytest.raises(AdapterError, match="another community"):
        adapter.parse_webhook(delivery("message_new", group_id=GROUP + 1), {})


# --- the Callback API through the real endpoint --------------------------------------------------------


def post(client, channel, body: bytes):
    return client.post(f"/hooks/{channel.pk}/", data=body, content_type="application/json")


def counts():
    return RawEvent.objects.count(), Message.objects.count()


def test_confirmation_is_answered_with_the_code_as_text(client, vk_channel):
    response = post(client, vk_channel, json.dumps(fixture("confirmation")).encode())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == CODE
    assert counts() == (0, 0)


def test_confirmation_without_a_stored_code_asks_vk(client, vk, cast, settings_for):
    channel = channel_actions.create_channel(cast.workspace, "vk", "VK", settings_for(confirmation_code=""))
    response = post(client, channel, json.dumps(fixture("confirmation")).encode())
    assert response.content.decode() == "fetched9"
    [call] = vk.calls("groups.getCallbackConfirmationCode")
    assert call["group_id"] == str(GROUP)


@pytest.mark.parametrize("over", [{"group_id": GROUP + 1}, {"secret": "wrong-secret-value-1234"}])
def test_a_confirmation_for_another_community_or_with_a_wrong_secret_is_403(client, vk_channel, over):
    body = json.dumps({**fixture("confirmation"), **over}).encode()
    response = post(client, vk_channel, body)
    assert response.status_code == 403
    assert CODE not in response.content.decode()


@pytest.mark.parametrize("secret", [None, "wrong-secret-value-1234"])
def test_a_bad_secret_is_403_and_nothing_is_stored(client, vk_channel, secret):
    response = post(client, vk_channel, delivery("wall_reply_new", secret=secret))
    assert response.status_code == 403
    assert counts() == (0, 0)


def test_a_malformed_delivery_is_400_and_nothing_is_stored(client, vk_channel):
    assert post(client, vk_channel, b"{oops").status_code == 400
    assert counts() == (0, 0)


def test_a_good_delivery_is_answered_ok_and_lands_in_the_inbox(
    client, vk_channel, run_tasks, django_capture_on_commit_callbacks
):
    for name in ("message_new", "wall_reply_new", "message_new"):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, vk_channel, delivery(name))
        assert response.status_code == 200
        assert response.content == b"ok" and response["Content-Type"].startswith("text/plain")
    # VK repeats a delivery it got no "ok" for: the second one changes nothing.
    assert RawEvent.objects.count() == 3
    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        "m5551001_41",
        f"wall-{GROUP}_120_r77",
    ]
    comment = Message.objects.get(external_id=f"wall-{GROUP}_120_r77")
    assert comment.conversation.kind == "comment" and comment.author_external_id == "5551002"


def test_events_without_inbox_text_are_answered_ok_and_not_stored(client, vk_channel):
    for name in ("like_add", "group_join", "wall_post_new_own"):
        response = post(client, vk_channel, delivery(name))
        assert (response.status_code, response.content) == (200, b"ok")
    assert counts() == (0, 0)


def test_our_own_comment_is_recognised_as_an_echo(
    client, vk_channel, run_tasks, django_capture_on_commit_callbacks
):
    channel_actions.check_channel(vk_channel.pk)
    vk_channel.refresh_from_db()
    assert vk_channel.account_id == f"-{GROUP}"
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, vk_channel, delivery("wall_reply_own")).status_code == 200
    assert RawEvent.objects.count() == 1
    assert Message.objects.count() == 0


# --- Bots Long Poll -----------------------------------------------------------------------------------


def lp_update(name: str) -> dict:
    return fixture(name)


def test_poll_reads_from_the_session_ts_and_returns_the_next_one(vk, make_adapter):
    adapter = make_adapter()
    assert adapter.poll(None) == ([], str(LP_BASE))
    vk.updates += [lp_update("message_new"), lp_update("like_add"), lp_update("wall_reply_new")]
    found, cursor = adapter.poll(str(LP_BASE))
    assert [e.external_id for e in found] == ["m5551001_41", f"wall-{GROUP}_120_r77"]
    assert cursor == str(LP_BASE + 3)
    # Names come with polling: one users.get for the page.
    assert [e.author_name for e in found] == ["Анна Смирнова", "Игорь Петров"]
    assert vk.calls("users.get")[-1]["user_ids"] == "5551001,5551002"
    # The cursor is only the event number: the session key is never stored.
    assert vk.lp_key not in cursor
    assert adapter.poll(cursor) == ([], cursor)


def test_poll_failures_follow_vks_rules(vk, make_adapter):
    vk.updates += [lp_update("message_new")]
    adapter = make_adapter()
    # failed=1: history partly lost; go on from the ts VK gives.
    vk.lp_failures.append({"failed": 1, "ts": str(LP_BASE)})
    found, cursor = adapter.poll("7")
    assert [e.external_id for e in found] == ["m5551001_41"] and cursor == str(LP_BASE + 1)
    # failed=2: the key expired; a new key, the same ts.
    vk.lp_key = "lp-key-2"
    vk.updates += [lp_update("message_new_chat")]
    found, cursor = adapter.poll(cursor)
    assert [e.external_id for e in found] == ["m2000000003_7"] and cursor == str(LP_BASE + 2)
    assert len(vk.calls("groups.getLongPollServer")) == 2
    # failed=3: key and history lost; start again from the present.
    vk.lp_failures.append({"failed": 3})
    vk.updates += [lp_update("wall_reply_new")]
    assert adapter.poll(cursor) == ([], str(LP_BASE + 3))


def test_callback_channels_do_not_poll(vk, make_adapter):
    assert make_adapter(inbound="callback").poll("1042") == ([], "1042")
    assert vk.api.requests == []


def test_polling_task_ingests_and_stores_the_cursor(vk, vk_channel):
    vk.updates += [lp_update("message_new"), lp_update("wall_reply_new")]
    Channel.objects.filter(pk=vk_channel.pk).update(cursor=str(LP_BASE))
    result = ingest_tasks.poll_channel(vk_channel.pk)
    assert len(result.created) == 2
    vk_channel.refresh_from_db()
    assert vk_channel.cursor == str(LP_BASE + 2)
    assert Message.objects.get(external_id="m5551001_41").author_name == "Анна Смирнова"
    # The same events read again (a crash before the cursor was saved) change nothing.
    Channel.objects.filter(pk=vk_channel.pk).update(cursor=str(LP_BASE))
    again = ingest_tasks.poll_channel(vk_channel.pk)
    assert again.created == [] and again.duplicates == 2
    assert Message.objects.count() == 2
