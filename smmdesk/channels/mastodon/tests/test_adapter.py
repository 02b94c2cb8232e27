"""The Mastodon adapter against a scripted local server answering with payloads shaped like the docs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import time_machine

from smmdesk.channels.base import AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.mastodon import client as mastodon_client
from smmdesk.channels.mastodon.adapter import mastodon_length
from smmdesk.channels.mastodon.payloads import html_to_text

from .conftest import SHOP_ID, TOKEN, answer, load

# --- credentials ---------------------------------------------------------------------------------


def test_check_names_the_account_and_sends_the_token(masto, make_adapter):
    info = make_adapter().check()
    assert info.external_id == SHOP_ID
    host = masto.base.split("//")[1].split(":")[0]
    assert info.name == f"Салон «Ленинский» (@salon@{host})"
    assert info.url == "https://mastodon.example/@salon"
    [call] = masto.calls("GET", "/api/v1/accounts/verify_credentials")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_revoked_token_asks_for_reconnect_without_leaking_it(mock_api, make_adapter):
    mock_api.route("GET", "/api/v1/accounts/verify_credentials")(
        answer({"error": "The access token was revoked"}, 401)
    )
    with pytest.raises(AdapterError) as caught:
        make_adapter().check()
    assert caught.value.reconnect and caught.value.permanent
    assert TOKEN not in caught.value.message


def test_missing_scope_asks_for_reconnect(mock_api, make_adapter):
    mock_api.route("GET", "/api/v1/accounts/verify_credentials")(
        answer({"error": "This action is outside the authorized scopes"}, 403)
    )
    with pytest.raises(AdapterError) as caught:
        make_adapter().check()
    assert caught.value.reconnect


def test_server_error_is_temporary(mock_api, make_adapter, no_backoff):
    mock_api.route("GET", "/api/v1/accounts/verify_credentials")(answer({"error": "boom"}, 502))
    with pytest.raises(AdapterError) as caught:
        make_adapter().check()
    assert not caught.value.permanent and not caught.value.reconnect and caught.value.retry_after is None
    assert len(no_backoff) == 3  # lib/http retried a GET three times before giving up


# --- 429 ------------------------------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_then_answered(masto, make_adapter, no_backoff):
    calls = iter([(429, {"Retry-After": "3"}, {"error": "Too many requests"})])

    def notifications(request):
        return next(calls, (200, {}, load("notifications_mentions.json")))

    masto.route("GET", "/api/v1/notifications")(notifications)
    events, cursor = make_adapter().poll(None)
    assert no_backoff == [3.0]
    assert len(events) == 3 and cursor == "4003"


@time_machine.travel(datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC), tick=False)
def test_429_with_only_the_reset_time_gives_retry_after(masto, make_adapter, no_backoff):
    # Mastodon's own answer to a throttled request: X-RateLimit-Reset as ISO 8601, no Retry-After.
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2024-03-01T10:02:30.000000Z",
    }
    masto.route("GET", "/api/v1/notifications")(answer({"error": "Too many requests"}, 429, headers))
    with pytest.raises(AdapterError) as caught:
        make_adapter().poll("4000")
    assert caught.value.retry_after == 150.0 and not caught.value.permanent
    assert len(no_backoff) == 3  # lib/http's own backoff, since the server named no Retry-After


def test_client_side_limit_spaces_calls_to_one_a_second(masto, make_adapter, monkeypatch, _fresh_limits):
    monkeypatch.setattr(mastodon_client, "REQUESTS_PER_SECOND", 1.0)
    adapter = make_adapter()
    with time_machine.travel(datetime(2024, 3, 1, 10, 0, 0, 200000, tzinfo=UTC), tick=False):
        adapter.check()
        adapter.check()
        assert _fresh_limits == [pytest.approx(0.8)]
        adapter.check()
        # A third call in the same second would wait longer than a worker should: a retryable error.
        with pytest.raises(AdapterError) as caught:
            adapter.check()
    assert caught.value.retry_after and not caught.value.permanent
    assert len(masto.calls("GET", "/api/v1/accounts/verify_credentials")) == 3


# --- inbound --------------------------------------------------------------------------------------


def test_poll_turns_mentions_and_direct_messages_into_events(masto, make_adapter):
    masto.route("GET", "/api/v1/notifications")(answer(load("notifications_mentions.json")))
    events, cursor = make_adapter().poll(None)
    [call] = masto.calls("GET", "/api/v1/notifications")
    assert call.query["types[]"] == ["mention"] and "min_id" not in call.query
    assert cursor == "4003"
    public, direct, reply = events  # oldest first
    assert public.external_id == "111000000000000101" and public.kind == "mention"
    assert public.text == (
        "@salon Здравствуйте! Можно записаться на субботу? Цена <2000> & скидка?\n"
        "Смотрите: https://example.com/price/list/2024/spring\n\nСпасибо 🙏 #стрижка"
    )
    assert public.author_id == "109348745392010777" and public.author_name == "Анна 🌸"
    assert public.author_handle == f"@anna@{masto.base.split('//')[1].split(':')[0]}"
    assert public.author_url == "https://mastodon.example/@anna"
    assert public.thread_id == public.external_id and public.reply_to_id == ""
    assert public.created_at == datetime(2024, 3, 1, 10, 15, 30, 123000, tzinfo=UTC)
    assert public.attachments == [
        {
            "type": "image",
            "id": "22345792",
            "url": "https://files.mastodon.example/media_attachments/files/022/345/792/original/57859aede991da25.jpeg",
            "preview_url": "https://files.mastodon.example/media_attachments/files/022/345/792/small/57859aede991da25.jpeg",
            "description": "Фото причёски",
        }
    ]
    assert public.raw["id"] == "4001"
    # A direct status is a private message, threaded per person.
    assert direct.kind == "dm" and direct.author_handle == "@petr@social.example.ru"
    assert direct.thread_id == "109348745392010888" and "мой телефон" in direct.text
    # A reply keeps its chain, and its content warning comes first.
    assert reply.reply_to_id == "111000000000000050" and reply.thread_id == "111000000000000050"
    assert reply.text == "Вопрос про запись\n\n@salon а в воскресенье?"


def test_poll_goes_on_from_the_cursor_and_keeps_it_when_nothing_is_new(masto, make_adapter):
    pages = iter([load("notifications_favourite.json"), []])
    masto.route("GET", "/api/v1/notifications")(lambda request: (200, {}, next(pages)))
    adapter = make_adapter()
    events, cursor = adapter.poll("4003")
    # A server that ignores types[] still gives no message for a favourite; the cursor moves past it.
    assert events == [] and cursor == "4004"
    events, again = adapter.poll(cursor)
    assert events == [] and again == "4004"
    assert [c.query["min_id"] for c in masto.calls("GET", "/api/v1/notifications")] == [["4003"], ["4004"]]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a &amp; b &lt;script&gt;</p>", "a & b <script>"),
        ("<p>one<br>two<br/>three</p><p>four</p>", "one\ntwo\nthree\n\nfour"),
        ("<p>hi<script>alert(1)</script> there</p>", "hi there"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("<p>  spaced\n  out  </p>", "spaced out"),
        ("", ""),
    ],
)
def test_html_becomes_plain_text(html, text):
    assert html_to_text(html) == text


def test_text_length_counts_links_as_mastodon_does():
    assert mastodon_length("see https://example.com/" + "x" * 200) == 4 + 23
    assert mastodon_length("hi @anna@social.example.ru") == len("hi @anna")


# --- publishing -----------------------------------------------------------------------------------


@pytest.fixture
def statuses(masto):
    """POST /api/v1/statuses that honours Idempotency-Key as Mastodon does."""
    made: dict[str, dict] = {}
    posted: list[dict] = []

    @masto.route("POST", "/api/v1/statuses")
    def create(request):
        key = request.headers.get("idempotency-key")
        if key and key in made:
            return 200, {}, made[key]
        body = request.json()
        status = load("status_ours.json") | {
            "id": str(111000000000000900 + len(posted)),
            "visibility": body["visibility"],
        }
        status["url"] = f"https://mastodon.example/@salon/{status['id']}"
        posted.append(body)
        if key:
            made[key] = status
        return 200, {}, status

    return posted


def test_publish_uploads_media_and_a_repeat_with_the_key_makes_no_second_post(masto, make_adapter, statuses):
    masto.route("GET", "/img/cut.jpg")(lambda request: (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8jpeg"))
    masto.route("POST", "/api/v2/media")(answer(load("media.json")))
    adapter = make_adapter(visibility="unlisted")
    variant = PostVariant(
        text="Весенние скидки 🌸", media=[f"{masto.base}/img/cut.jpg"], link="https://salon.example/sale"
    )
    first = adapter.publish(variant, "post-42")
    second = adapter.publish(variant, "post-42")
    assert first == second and first.external_id == "111000000000000900"
    assert first.url == "https://mastodon.example/@salon/111000000000000900"
    assert statuses == [
        {
            "status": "Весенние скидки 🌸\n\nhttps://salon.example/sale",
            "visibility": "unlisted",
            "media_ids": ["22348641"],
        }
    ]
    calls = masto.calls("POST", "/api/v1/statuses")
    assert [c.headers["idempotency-key"] for c in calls] == ["post-42", "post-42"]
    upload = masto.calls("POST", "/api/v2/media")[0]
    assert b'filename="cut.jpg"' in upload.body and b"\xff\xd8jpeg" in upload.body
    assert adapter.find_published("post-42") is None  # Mastodon has no lookup; the key itself protects


def test_media_still_processing_is_awaited(masto, make_adapter, statuses, _fresh_limits):
    masto.route("GET", "/img/clip.mp4")(lambda request: (200, {"Content-Type": "video/mp4"}, b"mp4"))
    masto.route("POST", "/api/v2/media")(answer(load("media.json") | {"url": None}, 202))
    states = iter([(206, {}, load("media.json") | {"url": None}), (200, {}, load("media.json"))])
    masto.route("GET", "/api/v1/media/22348641")(lambda request: next(states))
    make_adapter().publish(PostVariant(text="clip", media=[f"{masto.base}/img/clip.mp4"]), "k")
    assert _fresh_limits == [1.0, 1.0]
    assert statuses[0]["media_ids"] == ["22348641"]


def test_publish_refuses_text_over_the_limit_and_unsafe_media(masto, make_adapter, statuses, settings):
    with pytest.raises(AdapterError) as caught:
        make_adapter().publish(PostVariant(text="x" * 501), "k1")
    assert caught.value.permanent
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(AdapterError) as caught:
        make_adapter(instance_url="https://mastodon.example").publish(
            PostVariant(text="x", media=["http://127.0.0.1/secret"]), "k2"
        )
    assert caught.value.permanent and statuses == []


def test_validation_error_is_permanent(masto, make_adapter):
    masto.route("POST", "/api/v1/statuses")(
        answer({"error": "Validation failed: Text character limit of 500 exceeded"}, 422)
    )
    with pytest.raises(AdapterError) as caught:
        make_adapter().publish(PostVariant(text="hi"), "k")
    assert caught.value.permanent and not caught.value.reconnect and "character limit" in caught.value.message


# --- replies and moderation -------------------------------------------------------------------------


def test_reply_answers_in_the_thread_mentioning_the_author(masto, make_adapter, statuses):
    parent = load("notifications_mentions.json")[1]["status"]  # the direct one, from a remote account
    masto.route("GET", f"/api/v1/statuses/{parent['id']}")(answer(parent))
    ref = make_adapter().send_reply(
        OutboundReply(
            text="Перезвоним сегодня", thread_id="x", reply_to_id=parent["id"], idempotency_key="r-1"
        )
    )
    assert statuses == [
        {
            "status": "@petr@social.example.ru Перезвоним сегодня",
            "visibility": "direct",
            "in_reply_to_id": parent["id"],
        }
    ]
    assert ref.parent_id == parent["id"]
    assert masto.calls("POST", "/api/v1/statuses")[0].headers["idempotency-key"] == "r-1"


def test_reply_without_a_status_writes_privately_to_the_recipient(masto, make_adapter, statuses):
    masto.route("GET", "/api/v1/accounts/109348745392010777")(
        answer(load("notifications_mentions.json")[0]["account"])
    )
    make_adapter().send_reply(
        OutboundReply(text="Здравствуйте", thread_id="", recipient_id="109348745392010777")
    )
    assert statuses == [{"status": "@anna Здравствуйте", "visibility": "direct"}]


def test_delete_and_hide(masto, make_adapter):
    masto.route("DELETE", "/api/v1/statuses/111")(answer(load("status_ours.json")))
    masto.route("DELETE", "/api/v1/statuses/222")(answer({"error": "Record not found"}, 404))
    adapter = make_adapter()
    adapter.moderate(ExternalRef("111"), "delete")
    adapter.moderate(ExternalRef("222"), "delete")  # already gone: done
    assert len(masto.calls("DELETE", "/api/v1/statuses/111")) == 1
    with pytest.raises(AdapterError) as caught:
        adapter.moderate(ExternalRef("111"), "hide")
    assert caught.value.permanent


def test_deleting_someone_elses_status_is_refused(masto, make_adapter):
    masto.route("DELETE", "/api/v1/statuses/333")(answer({"error": "This action is not allowed"}, 403))
    with pytest.raises(AdapterError) as caught:
        make_adapter().moderate(ExternalRef("333"), "delete")
    assert caught.value.permanent and not caught.value.reconnect


# --- metrics, entries, listening --------------------------------------------------------------------


def test_metrics_read_favourites_boosts_and_replies_and_skip_deleted(masto, make_adapter):
    masto.route("GET", "/api/v1/statuses/111000000000000050")(answer(load("status_ours.json")))
    masto.route("GET", "/api/v1/statuses/404")(answer({"error": "Record not found"}, 404))
    points = make_adapter().metrics([ExternalRef("111000000000000050"), ExternalRef("404")])
    assert {(p.external_id, p.name, p.value) for p in points} == {
        ("111000000000000050", "likes", 7.0),
        ("111000000000000050", "reposts", 3.0),
        ("111000000000000050", "comments", 2.0),
    }


def test_entries_gather_favourites_boosts_and_replies_across_pages(masto, make_adapter):
    base = "/api/v1/statuses/111000000000000050"
    link = f'<{masto.base}{base}/favourited_by?limit=80&max_id=9001>; rel="next", <{masto.base}{base}/favourited_by?min_id=9002>; rel="prev"'

    def favourited(request):
        if request.query.get("max_id") == ["9001"]:
            return 200, {}, load("favourited_by_page2.json")
        return 200, {"Link": link}, load("favourited_by_page1.json")

    masto.route("GET", f"{base}/favourited_by")(favourited)
    masto.route("GET", f"{base}/reblogged_by")(answer(load("reblogged_by.json")))
    masto.route("GET", f"{base}/context")(answer(load("context.json")))
    entries = {e.author_id: e for e in make_adapter().entries(ExternalRef("111000000000000050"))}
    assert len(masto.calls("GET", f"{base}/favourited_by")) == 2
    assert set(entries) == {"109348745392010777", "109348745392010999", "109348745392010888"}  # not ourselves
    anna = entries["109348745392010777"]
    assert anna.kinds == {"like", "comment"} and anna.text == "Участвую! 🎉"
    assert anna.created_at == datetime(2024, 3, 1, 11, 0, tzinfo=UTC)
    assert entries["109348745392010888"].kinds == {"repost", "comment"}
    assert entries["109348745392010999"].kinds == {"like"}


def test_search_by_hashtag_reads_the_tag_timeline_since_a_time(masto, make_adapter):
    # The tag goes percent-encoded in the path, as any non-ASCII path segment.
    masto.route("GET", "/api/v1/timelines/tag/" + quote("стрижка"))(answer(load("timeline_tag.json")))
    events = make_adapter().search("#стрижка", datetime(2024, 3, 1, tzinfo=UTC))
    assert [e.external_id for e in events] == ["111000000000000201"]
    assert events[0].kind == "mention" and events[0].text == "Лучшая #стрижка в городе"


def test_search_by_words_uses_full_text_search(masto, make_adapter):
    masto.route("GET", "/api/v2/search")(answer(load("search_v2.json")))
    [event] = make_adapter().search("салон Ленинский", None)
    [call] = masto.calls("GET", "/api/v2/search")
    assert call.query == {"q": ["салон Ленинский"], "type": ["statuses"], "limit": ["40"]}
    assert event.text == "Кто знает салон «Ленинский»?"


# --- webhooks (a server's admin webhook) ----------------------------------------------------------


def _hook(name: str, secret: str = "hook-secret-0123456789"):
    from smmdesk.channels.mastodon.adapter import sign

    body = json.dumps(load(name), ensure_ascii=False).encode()
    return body, {"X-Hub-Signature": sign(secret, body)}


def test_webhook_takes_statuses_that_mention_us(masto, make_adapter):
    adapter = make_adapter(webhook_secret="hook-secret-0123456789")
    body, headers = _hook("webhook_status_created.json")
    [event] = adapter.parse_webhook(body, headers)
    assert event.external_id == "111000000000000401" and event.text == "@salon вы работаете сегодня?"
    assert event.raw["event"] == "status.created"
    assert adapter.parse_webhook(*_hook("webhook_status_unrelated.json")) == []
    assert adapter.parse_webhook(*_hook("webhook_account_created.json")) == []
    # Who we are is asked once and remembered.
    assert len(masto.calls("GET", "/api/v1/accounts/verify_credentials")) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Hub-Signature": "sha256=" + "0" * 64}, {"X-Hub-Signature": "sha256=ünicode"}],
)
def test_webhook_with_a_bad_signature_is_refused(make_adapter, headers):
    from smmdesk.channels.base import SignatureError

    body, _good = _hook("webhook_status_created.json")
    with pytest.raises(SignatureError):
        make_adapter(webhook_secret="hook-secret-0123456789").parse_webhook(body, headers)
    body, signed = _hook("webhook_status_created.json", secret="another-secret-012345")
    with pytest.raises(SignatureError):
        make_adapter(webhook_secret="hook-secret-0123456789").parse_webhook(body, signed)


def test_malformed_webhook_body_is_permanent(make_adapter):
    from smmdesk.channels.mastodon.adapter import sign

    body = b"{not json"
    with pytest.raises(AdapterError) as caught:
        make_adapter(webhook_secret="hook-secret-0123456789").parse_webhook(
            body, {"X-Hub-Signature": sign("hook-secret-0123456789", body)}
        )
    assert caught.value.permanent
