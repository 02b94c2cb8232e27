"""The Telegram channel inside smmdesk: the webhook endpoint, polling with a stored cursor, the publish
ledger, the credentials check and a revoked token, all against the local Bot API."""

import json

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions, health, ledger
from smmdesk.channels.base import AdapterError, PostVariant
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import Channel, PublishRecord
from smmdesk.channels.telegram.adapter import SECRET_HEADER, TelegramAdapter
from smmdesk.inbox import ingest_tasks
from smmdesk.inbox.models import Conversation, Message, Notification, RawEvent

from .conftest import BOT_ID, SECRET, update


@pytest.fixture
def channel(cast, values):
    channel = actions.create_channel(cast.workspace, "telegram", "Salon bot", values)
    # As after a passed check: the bot's id is the channel's account id (the echo guard's).
    Channel.objects.filter(pk=channel.pk).update(status=Channel.Status.OK, account_id=str(BOT_ID))
    channel.refresh_from_db()
    return channel


@pytest.fixture
def run_tasks():
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def deliver(client, channel, name, secret=SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    body = json.dumps(update(name)).encode()
    return client.post(f"/hooks/{channel.pk}/", data=body, content_type="application/json", headers=headers)


def counts():
    return RawEvent.objects.count(), Message.objects.count(), Conversation.objects.count()


@pytest.mark.parametrize("secret", ["wrong", None])
def test_webhook_with_a_wrong_or_missing_secret_is_403_and_stores_nothing(
    client, channel, secret, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, channel, "private_message", secret=secret)
    assert response.status_code == 403
    assert SECRET_HEADER in response.json()["error"]
    assert counts() == (0, 0, 0)


def test_webhook_deliveries_become_conversations(
    client, channel, run_tasks, django_capture_on_commit_callbacks
):
    names = [
        "private_message",
        "private_reply",
        "group_message",
        "supergroup_reply",
        "forum_topic_message",
        "forum_topic_reply",
        "discussion_comment",
        "discussion_comment_legacy",
        "discussion_reply",
        "automatic_forward",
        "my_chat_member",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for name in names:
            assert deliver(client, channel, name).status_code == 200
        # Telegram repeats a delivery it did not see answered: nothing changes.
        assert deliver(client, channel, "discussion_comment").json() == {"accepted": 1}
    assert RawEvent.objects.count() == 10  # the two updates the inbox does not take leave nothing
    assert Message.objects.count() == 9
    keys = {c.thread_key: c for c in Conversation.objects.all()}
    assert sorted(keys) == [
        "chat:-1001700000003",
        "chat:-1001800000004/5",
        "chat:-4012345678",
        "dm:111000111",
        "post:-1001500000001:42",
    ]
    # The comments and the reply to one of them are one conversation: the channel post's.
    post = keys["post:-1001500000001:42"]
    assert post.kind == "comment"
    assert sorted(post.messages.values_list("author_name", flat=True)) == ["Vera", "Борис", "Глеб Орлов"]
    assert keys["chat:-4012345678"].kind == "chat"
    assert keys["dm:111000111"].messages.count() == 2


def test_poll_stores_the_cursor_and_reads_on_from_it(bot, channel):
    bot.answer(
        "getUpdates",
        {"ok": True, "result": [update("private_message"), update("discussion_comment")]},
        "getUpdates_empty",
    )
    result = ingest_tasks.poll_channel(channel.pk)
    assert len(result.created) == 2
    assert Channel.objects.get(pk=channel.pk).cursor == "500301"
    # The next minute's run starts from there.
    ingest_tasks.poll_channel(channel.pk)
    assert bot.calls("getUpdates")[-1]["offset"] == 500301
    assert Message.objects.count() == 2


def test_poll_with_a_revoked_token_sets_needs_reconnect_and_tells_the_owner(
    bot, channel, django_capture_on_commit_callbacks
):
    bot.answer("getUpdates", "unauthorized")
    with django_capture_on_commit_callbacks(execute=True):
        ingest_tasks.poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    assert "no longer valid" in channel.last_error
    notice = Notification.objects.get(kind="channel")
    assert notice.membership.role == "owner" and "Salon bot" in notice.text
    assert channel.pk not in ingest_tasks.channels_to_poll()


def test_reply_with_a_revoked_token_through_health(bot, channel, django_capture_on_commit_callbacks):
    from smmdesk.channels.base import OutboundReply

    bot.answer("sendMessage", "unauthorized")
    with pytest.raises(AdapterError) as caught:
        channel.adapter().send_reply(OutboundReply("Здравствуйте", "111000111"))
    assert caught.value.reconnect
    with django_capture_on_commit_callbacks(execute=True):
        assert health.record_failure(channel, caught.value) == "reconnect"
    assert Channel.objects.get(pk=channel.pk).status == Channel.Status.NEEDS_RECONNECT
    assert Notification.objects.filter(kind="channel").count() == 1


def test_check_shows_the_bot_on_the_channel(bot, channel):
    bot.answer("getChatMember", "getChatMember_admin")
    checked = actions.check_channel(channel.pk)
    assert checked.status == Channel.Status.OK
    assert (checked.account_id, checked.account_name) == (str(BOT_ID), "Salon Helper @salon_helper_bot")


def test_the_same_key_twice_makes_one_post(bot, channel, time_machine):
    time_machine.move_to("2025-03-01 10:00:00", tick=False)
    posts = bot.channel_posts()
    first = ledger.publish_once(channel, PostVariant("Розыгрыш!"), "variant-7")
    second = ledger.publish_once(channel, PostVariant("Розыгрыш!"), "variant-7")
    assert first.external_id == second.external_id == "-1001500000001:101"
    assert len(posts) == 1
    record = PublishRecord.objects.get(channel=channel, idempotency_key="variant-7")
    assert record.state == PublishRecord.State.SENT and record.url == "https://t.me/salon_news/101"
    # Another key is another post (once the channel's 20-a-minute pace allows the next one).
    time_machine.shift(3)
    ledger.publish_once(channel, PostVariant("Второй пост"), "variant-8")
    assert len(posts) == 2


def test_an_attempt_of_unknown_outcome_is_not_posted_again(bot, channel):
    posts = bot.channel_posts()
    # A worker died between Telegram's answer and the ledger's record: "sending" is all that is known,
    # and a bot cannot look the post up.
    PublishRecord.objects.create(channel=channel, idempotency_key="variant-9")
    assert TelegramAdapter.idempotent_publish is False
    for _ in range(2):
        with pytest.raises(AdapterError) as caught:
            ledger.publish_once(channel, PostVariant("Розыгрыш!"), "variant-9")
        assert caught.value.permanent
    assert posts == []
    record = PublishRecord.objects.get(idempotency_key="variant-9")
    assert record.state == PublishRecord.State.UNCERTAIN
    # A person looked at the channel and the post is not there: now it is made, once.
    ref = ledger.publish_once(channel, PostVariant("Розыгрыш!"), "variant-9", confirmed_absent=True)
    assert len(posts) == 1 and ref.external_id == "-1001500000001:101"


def test_a_refused_post_is_recorded_as_failed(bot, channel):
    bot.answer("sendMessage", "kicked")
    with pytest.raises(AdapterError):
        ledger.publish_once(channel, PostVariant("x"), "variant-10")
    record = PublishRecord.objects.get(idempotency_key="variant-10")
    assert record.state == PublishRecord.State.FAILED and "kicked" in record.error


def test_kind_is_listed_with_its_capabilities_and_the_form_builds():
    [info] = [k for k in actions.describe_kinds() if k.kind == "telegram"]
    assert info.capabilities == ["entries", "inbox", "moderate", "publish", "reply"]
    assert info.limits.max_text == 4096 and info.limits.max_media == 10
    form = build_form_class(TelegramAdapter)()
    assert {"bot_token", "channel_chat_id", "webhook_secret", "api_url"} <= set(form.fields)
    assert "BotFather" in str(TelegramAdapter.help_text)


def test_the_webhook_secret_is_never_stored_in_clear(client, channel, django_capture_on_commit_callbacks):
    """Telegram's header is the secret itself: the stored delivery holds it encrypted, and the worker
    still verifies it."""
    with django_capture_on_commit_callbacks(execute=False):
        response = deliver(client, channel, "private_message")
    assert response.status_code == 200
    raw = RawEvent.objects.get()
    assert SECRET not in json.dumps(raw.headers)
    assert ingest_tasks.process_raw_event(raw.pk) is not None
    assert Message.objects.count() == 1
