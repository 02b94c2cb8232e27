"""The Bluesky adapter against a local PDS (mock_api) answering like the atproto lexicons say."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.channels.base import AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.bluesky import xrpc as bluesky_xrpc
from smmdesk.channels.bluesky.richtext import MENTION, TAG, rkey_for

from .conftest import DID, HANDLE, PASSWORD, answer, error, load

OUR_POST = f"at://{DID}/app.bsky.feed.post/3kabc2salonpost"

# --- session ---------------------------------------------------------------------------------------


def test_check_logs_in_once_and_names_the_account(pds, make_adapter):
    info = make_adapter().check()
    assert info.external_id == DID
    assert info.name == f"Салон «Ленинский» (@{HANDLE})"
    assert info.url == f"https://bsky.app/profile/{HANDLE}"
    [login] = pds.api.calls("POST", "/xrpc/com.atproto.server.createSession")
    assert login.json() == {"identifier": HANDLE, "password": PASSWORD}
    # Another adapter for the same channel (another task, another worker) reuses the cached session.
    make_adapter().check()
    assert pds.logins == 1
    # The cache never holds the tokens in clear.
    from django.core.cache import cache

    stored = cache.get(make_adapter().xrpc.cache_key)
    assert stored and "access-jwt" not in stored


def test_expired_access_token_is_refreshed_not_logged_in_again(pds, make_adapter):
    adapter = make_adapter()
    adapter.check()
    pds.expire_all()
    assert make_adapter().check().external_id == DID
    assert pds.logins == 1
    assert len(pds.api.calls("POST", "/xrpc/com.atproto.server.refreshSession")) == 1
    [refresh] = pds.api.calls("POST", "/xrpc/com.atproto.server.refreshSession")
    assert refresh.headers["authorization"] == "Bearer refresh-jwt-0001-yyyyyyyy"
    # The renewed session is the one the next worker finds.
    pds.api.requests.clear()
    make_adapter().check()
    assert not pds.api.calls("POST", "/xrpc/com.atproto.server.refreshSession")


def test_a_refused_refresh_logs_in_again_with_the_app_password(pds, make_adapter):
    make_adapter().check()
    pds.expire_all()
    pds.refresh.clear()  # the refresh token expired too
    make_adapter().check()
    assert pds.logins == 2


def test_a_revoked_session_logs_in_again(pds, make_adapter):
    make_adapter().check()
    pds.revoke_all()  # 401 InvalidToken
    make_adapter().check()
    assert pds.logins == 2


def test_wrong_app_password_asks_for_reconnect_without_leaking_it(pds, make_adapter):
    with pytest.raises(AdapterError) as caught:
        make_adapter(password="wrong-pass-0000-0000").check()
    assert caught.value.reconnect and "wrong-pass" not in caught.value.message
    assert "AuthenticationRequired" in caught.value.message


def test_deleted_app_password_asks_for_reconnect_at_the_next_call(pds, make_adapter):
    make_adapter().check()
    pds.revoke_all()
    pds.password = "another-pass-1111"
    with pytest.raises(AdapterError) as caught:
        make_adapter().check()
    assert caught.value.reconnect


def test_server_error_is_temporary(mock_api, make_adapter, no_backoff):
    mock_api.route("POST", "/xrpc/com.atproto.server.createSession")(
        answer({"error": "InternalServerError", "message": "oops"}, 500)
    )
    with pytest.raises(AdapterError) as caught:
        make_adapter().check()
    assert not caught.value.permanent and not caught.value.reconnect


# --- 429 --------------------------------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out(pds, make_adapter, no_backoff):
    answers = iter([error(429, "RateLimitExceeded", "Rate Limit Exceeded", {"Retry-After": "2"})])
    get_session = pds.api.routes[("GET", "/xrpc/com.atproto.server.getSession")]
    pds.api.routes[("GET", "/xrpc/com.atproto.server.getSession")] = lambda r: (
        next(answers, None) or get_session(r)
    )
    assert make_adapter().check().external_id == DID
    assert no_backoff == [2.0]


@time_machine.travel(datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC), tick=False)
def test_429_with_ratelimit_reset_gives_retry_after(pds, make_adapter, no_backoff):
    reset = int(datetime(2024, 3, 1, 10, 4, 0, tzinfo=UTC).timestamp())
    headers = {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(reset),
        "ratelimit-policy": "3000;w=300",
    }
    pds.api.routes[("GET", "/xrpc/app.bsky.feed.searchPosts")] = lambda r: error(
        429, "RateLimitExceeded", "Rate Limit Exceeded", headers
    )
    with pytest.raises(AdapterError) as caught:
        make_adapter().search("салон", None)
    assert caught.value.retry_after == 240.0 and not caught.value.permanent
    assert len(no_backoff) == 3  # lib/http's own backoff: no Retry-After was sent


def test_client_side_write_limit(pds, make_adapter, monkeypatch, _fresh_limits):
    monkeypatch.setattr(bluesky_xrpc, "WRITES_PER_SECOND", 0.4)
    adapter = make_adapter()
    with time_machine.travel(datetime(2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC), tick=False):
        adapter.publish(PostVariant(text="один"), "k1")
        # The next write of the same 2.5 s window waits 2 s: within what a worker may sleep.
        adapter.publish(PostVariant(text="два"), "k2")
        assert _fresh_limits == [pytest.approx(2.0)]
        with pytest.raises(AdapterError) as caught:
            adapter.publish(PostVariant(text="три"), "k3")
    assert caught.value.retry_after and not caught.value.permanent
    assert len(pds.posts()) == 2


# --- inbound ----------------------------------------------------------------------------------------


def test_poll_takes_mentions_replies_and_quotes(pds, make_adapter):
    pds.api.route("GET", "/xrpc/app.bsky.notification.listNotifications")(
        answer(load("listNotifications.json"))
    )
    events, cursor = make_adapter().poll(None)
    mention, reply, quote = events  # oldest first; the like and the follow are not messages
    assert mention.external_id == "at://did:plc:anna7customer/app.bsky.feed.post/3kmention1"
    assert mention.kind == "mention" and mention.text == "@salon.bsky.social можно записаться на субботу? 🙏"
    assert mention.thread_id == mention.external_id and mention.reply_to_id == ""
    assert (mention.author_id, mention.author_name, mention.author_handle) == (
        "did:plc:anna7customer",
        "Анна 🌸",
        "@anna.bsky.social",
    )
    assert mention.author_url == "https://bsky.app/profile/anna.bsky.social"
    assert mention.created_at == datetime(2024, 3, 1, 10, 15, 30, 123000, tzinfo=UTC)
    assert mention.attachments == [
        {
            "type": "image",
            "cid": "bafkreibq7ppj2mxf7iyjwmfpquqw5ruxzonvqpvvlj2wiqe6apk2wb4bwu",
            "mime_type": "image/jpeg",
            "size": 183021,
            "description": "Фото причёски",
        }
    ]
    assert reply.kind == "comment" and reply.thread_id == OUR_POST
    assert reply.reply_to_id == f"at://{DID}/app.bsky.feed.post/3kabc2salonrep"
    assert quote.kind == "mention" and quote.attachments == [{"type": "quote", "uri": OUR_POST}]
    assert json.loads(cursor) == {"mark": "2024-03-01T10:40:01+00:00"}


def test_poll_walks_back_page_by_page_to_the_mark(pds, make_adapter):
    page = load("listNotifications.json")["notifications"]
    newer = dict(
        page[4],
        uri="at://did:plc:anna7customer/app.bsky.feed.post/3knew",
        indexedAt="2024-03-01T11:00:00.000Z",
    )
    newest = dict(
        page[4],
        uri="at://did:plc:anna7customer/app.bsky.feed.post/3knewest",
        indexedAt="2024-03-01T11:05:00.000Z",
    )

    def notifications(request):
        if request.query.get("cursor") == ["c2"]:
            return 200, {}, {"notifications": [newer, page[0]], "cursor": "c3"}
        return 200, {}, {"notifications": [newest], "cursor": "c2"}

    pds.api.route("GET", "/xrpc/app.bsky.notification.listNotifications")(notifications)
    adapter = make_adapter()
    mark = json.dumps({"mark": "2024-03-01T10:40:01+00:00"})
    events, cursor = adapter.poll(mark)
    assert [e.external_id.rsplit("/", 1)[1] for e in events] == ["3knewest"]
    assert json.loads(cursor) == {
        "mark": "2024-03-01T10:40:01+00:00",
        "top": "2024-03-01T11:05:00.000Z",
        "page": "c2",
    }
    events, cursor = adapter.poll(cursor)
    # The walk met the old mark (the follow): it ends and the mark moves up to the newest seen.
    assert [e.external_id.rsplit("/", 1)[1] for e in events] == ["3knew"]
    assert json.loads(cursor) == {"mark": "2024-03-01T11:05:00+00:00"}


def test_webhooks_are_not_offered():
    from smmdesk.channels.base import Adapter
    from smmdesk.channels.bluesky.adapter import BlueskyAdapter

    assert BlueskyAdapter.parse_webhook is Adapter.parse_webhook


# --- publishing -------------------------------------------------------------------------------------


def test_publish_with_facets_image_and_a_derived_record_key(pds, make_adapter):
    pds.api.route("GET", "/img/cut.jpg")(
        lambda r: (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8jpeg-bytes")
    )
    adapter = make_adapter()
    text = "Привет 🌸 @anna.bsky.social! Весна: #стрижка"
    ref = adapter.publish(
        PostVariant(text=text, media=[f"{pds.base}/img/cut.jpg"], link="https://salon.example"), "post-1"
    )
    rkey = rkey_for("post-1")
    assert ref.external_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert ref.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    [create] = pds.api.calls("POST", "/xrpc/com.atproto.repo.createRecord")
    body = create.json()
    assert body["repo"] == DID and body["rkey"] == rkey and body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["text"] == text + "\n\nhttps://salon.example"
    encoded = record["text"].encode("utf-8")
    assert [
        (encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0]["$type"])
        for f in record["facets"]
    ] == [
        ("@anna.bsky.social", MENTION),
        ("#стрижка", TAG),
        ("https://salon.example", "app.bsky.richtext.facet#link"),
    ]
    assert record["facets"][0]["features"][0]["did"] == "did:plc:anna7customer"
    [image] = record["embed"]["images"]
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert image["image"]["mimeType"] == "image/jpeg" and image["image"]["size"] == len(b"\xff\xd8jpeg-bytes")
    assert pds.blobs == [("image/jpeg", b"\xff\xd8jpeg-bytes")]
    # The same key again: the post is found by its key, nothing is uploaded or created twice.
    assert adapter.publish(PostVariant(text=text, media=[f"{pds.base}/img/cut.jpg"]), "post-1") == ref
    assert len(pds.posts()) == 1 and len(pds.blobs) == 1
    assert adapter.find_published("post-1") == ref
    assert adapter.find_published("post-2") is None


def test_a_create_that_finds_its_key_taken_returns_the_earlier_post(pds, make_adapter):
    adapter = make_adapter()
    first = adapter.publish(PostVariant(text="раз"), "race")
    # Another worker is about to create the same post: its lookup ran before the first one landed.
    original = pds.api.routes[("GET", "/xrpc/com.atproto.repo.getRecord")]
    lookups = iter([error(400, "RecordNotFound", "Could not locate record")])
    pds.api.routes[("GET", "/xrpc/com.atproto.repo.getRecord")] = lambda r: next(lookups, None) or original(r)
    assert adapter.publish(PostVariant(text="раз"), "race") == first
    assert len(pds.posts()) == 1


def test_publish_refuses_what_bluesky_would(pds, make_adapter):
    pds.api.route("GET", "/doc.pdf")(lambda r: (200, {"Content-Type": "application/pdf"}, b"%PDF"))
    pds.api.route("GET", "/big.png")(lambda r: (200, {"Content-Type": "image/png"}, b"x" * 1_000_001))
    adapter = make_adapter()
    for variant in (
        PostVariant(text="я" * 301),
        PostVariant(text="ok", media=[f"{pds.base}/doc.pdf"]),
        PostVariant(text="ok", media=[f"{pds.base}/big.png"]),
    ):
        with pytest.raises(AdapterError) as caught:
            adapter.publish(variant, "k")
        assert caught.value.permanent
    assert adapter.publish(PostVariant(text="👍🏽" * 300), "emoji").external_id  # 300 graphemes fit
    assert pds.posts()[0]["value"]["text"] == "👍🏽" * 300


# --- replies, moderation ----------------------------------------------------------------------------


def test_reply_names_root_and_parent_and_uses_the_key(pds, make_adapter):
    adapter = make_adapter()
    parent = "at://did:plc:anna7customer/app.bsky.feed.post/3kreply1"
    ref = adapter.send_reply(
        OutboundReply(text="Работаем! #ждём", thread_id=OUR_POST, reply_to_id=parent, idempotency_key="r-1")
    )
    [create] = pds.api.calls("POST", "/xrpc/com.atproto.repo.createRecord")
    record = create.json()["record"]
    assert record["reply"] == {
        "root": {"uri": OUR_POST, "cid": "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q"},
        "parent": {"uri": parent, "cid": "bafyreireply"},
    }
    assert create.json()["rkey"] == rkey_for("r-1", "reply")
    assert ref.parent_id == parent
    again = adapter.send_reply(
        OutboundReply(text="Работаем! #ждём", thread_id=OUR_POST, reply_to_id=parent, idempotency_key="r-1")
    )
    assert again.external_id == ref.external_id and len(pds.posts()) == 1


def test_reply_to_a_thread_start_roots_at_it(pds, make_adapter):
    make_adapter().send_reply(OutboundReply(text="Спасибо!", thread_id=OUR_POST))
    record = pds.posts()[0]["value"]
    assert (
        record["reply"]["root"]
        == record["reply"]["parent"]
        == {
            "uri": OUR_POST,
            "cid": "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q",
        }
    )


def test_delete_our_post_and_hide_a_reply_in_our_thread(pds, make_adapter):
    adapter = make_adapter()
    ref = adapter.publish(PostVariant(text="ошибка"), "oops")
    adapter.moderate(ref, "delete")
    assert pds.posts() == []
    [delete] = pds.api.calls("POST", "/xrpc/com.atproto.repo.deleteRecord")
    assert delete.json() == {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey_for("oops")}
    reply = "at://did:plc:anna7customer/app.bsky.feed.post/3kreply1"
    adapter.moderate(ExternalRef(reply), "hide")
    adapter.moderate(ExternalRef(reply), "hide")  # twice: listed once
    [gate] = pds.posts("app.bsky.feed.threadgate")
    assert gate["uri"] == f"at://{DID}/app.bsky.feed.threadgate/3kabc2salonpost"
    assert gate["value"]["post"] == OUR_POST and gate["value"]["hiddenReplies"] == [reply]
    with pytest.raises(AdapterError) as caught:
        adapter.moderate(ExternalRef(reply), "delete")
    assert caught.value.permanent


# --- metrics, entries, listening ----------------------------------------------------------------------


def test_metrics(pds, make_adapter):
    points = make_adapter().metrics(
        [ExternalRef(OUR_POST), ExternalRef(f"at://{DID}/app.bsky.feed.post/gone")]
    )
    assert {(p.name, p.value) for p in points} == {
        ("likes", 12.0),
        ("reposts", 4.0),
        ("comments", 3.0),
        ("quotes", 1.0),
    }
    assert {p.external_id for p in points} == {OUR_POST}


def test_entries_from_likes_reposts_and_thread_replies(pds, make_adapter):
    def likes(request):
        return (
            200,
            {},
            load(
                "getLikes_page2.json" if request.query.get("cursor") == ["page2"] else "getLikes_page1.json"
            ),
        )

    pds.api.route("GET", "/xrpc/app.bsky.feed.getLikes")(likes)
    pds.api.route("GET", "/xrpc/app.bsky.feed.getRepostedBy")(answer(load("getRepostedBy.json")))
    pds.api.route("GET", "/xrpc/app.bsky.feed.getPostThread")(answer(load("getPostThread.json")))
    entries = {e.author_id: e for e in make_adapter().entries(ExternalRef(OUR_POST))}
    assert set(entries) == {
        "did:plc:anna7customer",
        "did:plc:olga9fan",
        "did:plc:petr8customer",
    }  # not ourselves
    anna = entries["did:plc:anna7customer"]
    assert anna.kinds == {"like", "comment"} and anna.text == "Участвую! 🎉"
    assert anna.author_name == "@anna.bsky.social"
    assert entries["did:plc:petr8customer"].kinds == {"repost", "comment"}
    assert entries["did:plc:olga9fan"].kinds == {"like"}
    assert len(pds.api.calls("GET", "/xrpc/app.bsky.feed.getLikes")) == 2


def test_search_posts_since(pds, make_adapter):
    pds.api.route("GET", "/xrpc/app.bsky.feed.searchPosts")(answer(load("searchPosts.json")))
    [event] = make_adapter().search("салон", datetime(2024, 3, 1, tzinfo=UTC))
    [call] = pds.api.calls("GET", "/xrpc/app.bsky.feed.searchPosts")
    assert call.query["q"] == ["салон"] and call.query["since"] == ["2024-03-01T00:00:00Z"]
    assert call.headers["authorization"].startswith("Bearer access-jwt")
    assert event.kind == "mention" and event.text == "Кто знает салон «Ленинский»? #стрижка"
