"""The Facebook Page adapter against a local server playing the Graph API: check, every documented inbound
event kind, polling, publishing (once per key through the ledger), replies, moderation, metrics, entries."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import ledger
from smmdesk.channels.base import AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.facebook.adapter import FacebookAdapter
from smmdesk.channels.facebook.tests.conftest import (
    APP_SECRET,
    PAGE_ID,
    PAGE_TOKEN,
    fixture,
    ok,
    path,
    raw,
    sign,
)
from smmdesk.channels.forms import build_form_class

POST = f"{PAGE_ID}_2000000000000001"


def deliver(adapter, name):
    body = raw(name)
    return adapter.parse_webhook(body, {"X-Hub-Signature-256": sign(body)})


def test_check_names_the_page_and_proves_the_app(mock_api, facebook):
    mock_api.route("GET", path(PAGE_ID))(ok("page"))
    info = facebook().check()
    assert (info.external_id, info.name, info.url) == (
        PAGE_ID,
        "Salon Leninsky",
        "https://www.facebook.com/salonleninsky",
    )
    [call] = mock_api.calls("GET", path(PAGE_ID))
    assert call.query["fields"] == ["name,link"]
    # The token travels in a header, not the URL; the call is signed with the app secret.
    assert call.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert "access_token" not in call.query
    proof = hmac.new(APP_SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()
    assert call.query["appsecret_proof"] == [proof]


def test_the_kind_is_registered_and_its_form_builds():
    kinds = {k.kind: k for k in channel_actions.describe_kinds()}
    assert {"inbox", "reply", "publish", "moderate"} <= set(kinds["facebook"].capabilities)
    assert FacebookAdapter.paid_capabilities == frozenset()
    form = build_form_class(FacebookAdapter)
    assert {"page_id", "page_access_token", "app_secret", "verify_token", "graph_url", "api_version"} <= set(
        form.base_fields
    )


def test_feed_changes_become_comments(facebook):
    first, reply, visitor = deliver(facebook(), "webhook_feed")
    assert first.external_id == "2000000000000001_4000000000000001" and first.kind == "comment"
    assert first.thread_id == POST and first.reply_to_id == ""
    assert (first.author_id, first.author_name) == ("7100000000000001", "Anna Petrova")
    assert first.text == "Do you have a free slot on Saturday?"
    assert first.created_at == datetime.fromtimestamp(1764150000, UTC)
    # A reply to a comment answers that comment, in the same post's thread.
    assert reply.thread_id == POST and reply.reply_to_id == "2000000000000001_4000000000000001"
    assert reply.attachments == [
        {"type": "photo", "url": "https://scontent.xx.fbcdn.net/v/t39.30808-6/son.jpg"}
    ]
    # A visitor's post on the Page is a conversation of its own; edits, reactions and our own posts are not
    # customer messages.
    assert visitor.external_id == f"{PAGE_ID}_2000000000000077" and visitor.thread_id == visitor.external_id
    assert visitor.text == "Thank you for the wonderful haircut!"


def test_messenger_messages_become_direct_messages(facebook):
    text, image, button = deliver(facebook(), "webhook_messages")
    assert text.kind == "dm" and text.external_id == "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAj"
    assert text.thread_id == text.author_id == "6000000000000001"
    # Messenger counts in milliseconds.
    assert text.created_at == datetime.fromtimestamp(1764150500.123, UTC)
    assert image.attachments == [{"type": "image", "url": "https://scontent.xx.fbcdn.net/v/nails.jpg"}]
    assert image.reply_to_id == "m_PAGEREPLY0001"
    # A button press reads as its title; echoes of our own messages and receipts are left out.
    assert button.text == "Book a visit" and button.thread_id == "6000000000000002"


def test_mentions_are_looked_up_when_meta_sends_no_text(mock_api, facebook):
    mock_api.route("GET", path("7200000000000001_3000000000000001"))(ok("mention_post"))
    on_post, in_comment = deliver(facebook(), "webhook_mention")
    assert on_post.kind == "mention" and on_post.external_id == "7200000000000001_3000000000000001"
    assert on_post.author_name == "Dina K." and on_post.author_id == "7200000000000001"
    assert on_post.text == "Just had my hair done at @Salon Leninsky, love it"
    assert on_post.attachments == [
        {"type": "link", "url": "https://www.facebook.com/7200000000000001/posts/3000000000000001"}
    ]
    # The comment mention came with its text: no lookup for it.
    assert in_comment.external_id == "3000000000000005_5000000000000001"
    assert in_comment.thread_id == "7200000000000002_3000000000000005"
    assert in_comment.text == "@Salon Leninsky best colourist in town"
    assert len(mock_api.requests) == 1


def test_a_mention_whose_text_cannot_be_read_is_kept(mock_api, facebook):
    mock_api.route("GET", path("7200000000000001_3000000000000001"))(ok("error_not_found", 400))
    on_post, _in_comment = deliver(facebook(), "webhook_mention")
    assert on_post.external_id == "7200000000000001_3000000000000001" and on_post.text == ""


def test_entries_for_another_page_are_ignored(facebook):
    assert deliver(facebook(), "webhook_other_page") == []


def test_a_malformed_body_is_refused_after_the_signature(facebook):
    body = b"{not json"
    with pytest.raises(AdapterError) as failed:
        facebook().parse_webhook(body, {"X-Hub-Signature-256": sign(body)})
    assert failed.value.permanent


def test_poll_reads_new_comments_after_its_cursor(mock_api, facebook):
    mock_api.route("GET", path(PAGE_ID, "feed"))(ok("feed_poll"))
    adapter = facebook()
    events, cursor = adapter.poll("2026-11-26T09:50:00+0000")
    assert [e.external_id for e in events] == ["2000000000000001_4000000000000003"]
    assert events[0].thread_id == POST and events[0].author_name == "Dina K."
    assert cursor == "2026-11-26T10:05:00+0000"
    # The same page again: only the comment at the cursor's second, which ingestion already has.
    events, again = adapter.poll(cursor)
    assert [e.external_id for e in events] == ["2000000000000001_4000000000000003"] and again == cursor
    older, _ = adapter.poll("2026-11-26T09:00:00+0000")
    reply = next(e for e in older if e.external_id == "2000000000000001_4000000000000002")
    assert reply.reply_to_id == "2000000000000001_4000000000000001"
    assert reply.attachments == [{"type": "photo", "url": "https://scontent.xx.fbcdn.net/v/son.jpg"}]
    [call, *_] = mock_api.calls("GET", path(PAGE_ID, "feed"))
    assert call.query["limit"] == ["10"] and "comments.filter(stream)" in call.query["fields"][0]


@pytest.fixture
def page_channel(cast, mock_api):
    values = {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "graph_url": mock_api.base,
    }
    return channel_actions.create_channel(cast.workspace, "facebook", "Salon Page", values)


def test_the_same_key_twice_makes_one_post(mock_api, page_channel):
    mock_api.route("POST", path(PAGE_ID, "feed"))(ok("post_created"))
    variant = PostVariant(text="Autumn offer", link="https://salon.example/autumn")
    first = ledger.publish_once(page_channel, variant, "post-3:facebook")
    again = ledger.publish_once(page_channel, variant, "post-3:facebook")
    assert first.external_id == again.external_id == f"{PAGE_ID}_2000000000000010"
    assert first.url == f"https://www.facebook.com/{PAGE_ID}_2000000000000010"
    [call] = mock_api.calls("POST", path(PAGE_ID, "feed"))
    assert call.form()["message"] == "Autumn offer" and call.form()["link"] == "https://salon.example/autumn"
    assert page_channel.adapter().find_published("post-3:facebook") is None


def test_publish_with_one_or_several_photos(mock_api, facebook):
    uploads = iter(["photo_created", "photo_unpublished", "photo_unpublished"])
    mock_api.route("POST", path(PAGE_ID, "photos"))(lambda r: (200, {}, fixture(next(uploads))))
    mock_api.route("POST", path(PAGE_ID, "feed"))(ok("post_created"))
    adapter = facebook()
    one = adapter.publish(PostVariant(text="New look", media=["https://img.example/1.jpg"]), "k1")
    assert one.external_id == f"{PAGE_ID}_2000000000000011"
    first_upload = mock_api.calls("POST", path(PAGE_ID, "photos"))[0].form()
    assert first_upload["url"] == "https://img.example/1.jpg" and first_upload["caption"] == "New look"
    two = adapter.publish(
        PostVariant(
            text="Before and after", media=["https://img.example/2.jpg", "https://img.example/3.jpg"]
        ),
        "k2",
    )
    assert two.external_id == f"{PAGE_ID}_2000000000000010"
    later = [c.form() for c in mock_api.calls("POST", path(PAGE_ID, "photos"))[1:]]
    assert all(form["published"] == "false" for form in later)
    [post] = mock_api.calls("POST", path(PAGE_ID, "feed"))
    assert json.loads(post.form()["attached_media[0]"]) == {"media_fbid": "3100000000000002"}
    assert "attached_media[1]" in post.form()


def test_replies_go_to_comments_or_messenger(mock_api, facebook):
    mock_api.route("POST", path("2000000000000001_4000000000000001", "comments"))(ok("comment_created"))
    mock_api.route("POST", path(POST, "comments"))(ok("comment_created"))
    mock_api.route("POST", path(PAGE_ID, "messages"))(ok("message_sent"))
    adapter = facebook()
    ref = adapter.send_reply(
        OutboundReply(text="Yes, 11:00", thread_id=POST, reply_to_id="2000000000000001_4000000000000001")
    )
    assert ref.external_id == "2000000000000001_4000000000000009" and ref.parent_id == POST
    adapter.send_reply(OutboundReply(text="Thank you!", thread_id=POST))
    assert mock_api.calls("POST", path(POST, "comments"))[0].form()["message"] == "Thank you!"
    dm = adapter.send_reply(
        OutboundReply(
            text="1500 roubles",
            thread_id="6000000000000001",
            reply_to_id="m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAj",
            recipient_id="6000000000000001",
        )
    )
    assert dm.external_id == "m_SENT0001"
    [message] = mock_api.calls("POST", path(PAGE_ID, "messages"))
    assert message.json() == {
        "recipient": {"id": "6000000000000001"},
        "messaging_type": "RESPONSE",
        "message": {"text": "1500 roubles"},
    }


def test_a_message_outside_the_24_hour_window_is_refused_for_good(mock_api, facebook):
    mock_api.route("POST", path(PAGE_ID, "messages"))(ok("error_window", 400))
    with pytest.raises(AdapterError) as failed:
        facebook().send_reply(OutboundReply(text="Hello again", thread_id="6000000000000001"))
    assert failed.value.permanent and "outside of allowed window" in failed.value.message


def test_moderation_hides_and_deletes_comments(mock_api, facebook):
    comment = "2000000000000001_4000000000000002"
    mock_api.route("POST", path(comment))(ok("success"))
    mock_api.route("DELETE", path(comment))(ok("success"))
    adapter = facebook()
    adapter.moderate(ExternalRef(comment), "hide")
    assert mock_api.calls("POST", path(comment))[0].form()["is_hidden"] == "true"
    adapter.moderate(ExternalRef(comment), "delete")
    assert len(mock_api.calls("DELETE", path(comment))) == 1
    with pytest.raises(AdapterError) as refused:
        adapter.moderate(ExternalRef("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"), "delete")
    assert refused.value.permanent


def test_metrics_count_reactions_comments_and_shares(mock_api, facebook):
    mock_api.route("GET", path(POST))(ok("post_metrics"))
    mock_api.route("GET", path(f"{PAGE_ID}_2000000000000404"))(ok("error_not_found", 400))
    points = facebook().metrics([ExternalRef(POST), ExternalRef(f"{PAGE_ID}_2000000000000404")])
    assert {p.name: p.value for p in points} == {"likes": 42, "comments": 7, "reposts": 3}
    assert {p.external_id for p in points} == {POST}


def test_entries_merge_comments_and_reactions(mock_api, facebook):
    pages = iter(["comments_page1", "comments_page2"])
    mock_api.route("GET", path(POST, "comments"))(lambda r: (200, {}, fixture(next(pages))))
    mock_api.route("GET", path(POST, "reactions"))(ok("reactions"))
    entries = {e.author_id: e for e in facebook().entries(ExternalRef(POST))}
    # The Page's own comment is no entry.
    assert set(entries) == {"7100000000000001", "7100000000000002", "7100000000000007"}
    anna = entries["7100000000000001"]
    assert anna.kinds == {"comment", "like"} and anna.text == "I'm in!"
    assert anna.created_at == datetime(2026, 11, 26, 9, 40, tzinfo=UTC)
    assert entries["7100000000000007"].kinds == {"like"} and entries["7100000000000007"].author_name == "Zoya"
    second = mock_api.calls("GET", path(POST, "comments"))[1]
    assert second.query["after"] == ["NDMyNzQyODI3OTQw"] and second.query["filter"] == ["stream"]


@time_machine.travel(datetime(2026, 11, 28, 9, 45, tzinfo=UTC), tick=False)
def test_a_first_poll_looks_back_two_days_only(mock_api, facebook):
    mock_api.route("GET", path(PAGE_ID, "feed"))(ok("feed_poll"))
    for cursor in (None, "not a time"):
        events, new_cursor = facebook().poll(cursor)
        assert [e.external_id for e in events] == ["2000000000000001_4000000000000003"]
        assert new_cursor == "2026-11-26T10:05:00+0000"
