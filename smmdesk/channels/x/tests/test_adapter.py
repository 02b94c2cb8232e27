"""The X adapter against a local server playing X's API v2: check, mentions with cursors, publishing
(once per key, through the ledger), replies, hidden replies, metrics, entries and search."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import ledger
from smmdesk.channels.base import AdapterError, Capability, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import PublishRecord
from smmdesk.channels.x import client, tweets
from smmdesk.channels.x.adapter import XAdapter
from smmdesk.channels.x.tests.conftest import TOKEN, fixture, ok

MENTIONS = "/2/users/1460000000000000001/mentions"


def test_check_names_the_account_and_sends_the_bearer_token(mock_api, make_adapter, me):
    info = make_adapter().check()
    assert info.external_id == "1460000000000000001"
    assert info.name == "Salon Leninsky"
    assert info.url == "https://x.com/salon_leninsky"
    [call] = mock_api.calls("GET", "/2/users/me")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_kind_is_registered_with_its_paid_capabilities():
    [info] = [k for k in channel_actions.describe_kinds() if k.kind == "x"]
    assert "inbox" in info.capabilities and "publish" in info.capabilities
    # Posting works on every plan; reading and hiding need paid access.
    assert Capability.PUBLISH not in XAdapter.paid_capabilities
    assert {Capability.INBOX, Capability.SEARCH, Capability.METRICS} <= XAdapter.paid_capabilities
    form = build_form_class(XAdapter)
    assert {"access_token", "refresh_token", "client_id", "api_url"} <= set(form.base_fields)


def test_mentions_parse_into_inbox_events(mock_api, make_adapter, me):
    mock_api.route("GET", MENTIONS)(ok("mentions_first"))
    events, _cursor = make_adapter().poll(None)
    first, second = events
    assert first.external_id == "1800000000000000105" and first.kind == "mention"
    assert first.author_id == "2244994945" and first.author_name == "Anna K."
    assert first.author_handle == "anna_k" and first.author_url == "https://x.com/anna_k"
    assert first.thread_id == "1800000000000000105" and first.reply_to_id == ""
    assert first.created_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    # A reply to our post: the conversation is the thread, the answered post the reply target.
    assert second.thread_id == "1800000000000000090"
    assert second.reply_to_id == "1800000000000000090"
    assert second.attachments == [
        {
            "type": "photo",
            "url": "https://pbs.twimg.com/media/colour.jpg",
            "media_key": "3_1800000000000000777",
        }
    ]
    assert second.raw["id"] == "1800000000000000101"
    [call] = mock_api.calls("GET", MENTIONS)
    assert "author_id" in call.query["expansions"][0]
    assert "conversation_id" in call.query["tweet.fields"][0]


def test_poll_keeps_its_cursor_across_pages(mock_api, make_adapter, me):
    pages = iter(["mentions_first", "mentions_new_page1", "mentions_new_page2", "mentions_empty"])
    mock_api.route("GET", MENTIONS)(lambda request: (200, {}, fixture(next(pages))))
    adapter = make_adapter()
    # The first poll takes the latest page only, not the whole history behind next_token.
    events, cursor = adapter.poll(None)
    assert len(events) == 2 and json.loads(cursor) == {"since": "1800000000000000105"}
    # New mentions span two pages: the batch is read backwards, since_id held until the last page.
    events, cursor = adapter.poll(cursor)
    assert [e.external_id for e in events] == ["1800000000000000210"]
    state = json.loads(cursor)
    assert state["since"] == "1800000000000000105" and state["top"] == "1800000000000000210" and state["next"]
    events, cursor = adapter.poll(cursor)
    assert [e.external_id for e in events] == ["1800000000000000200"]
    assert json.loads(cursor) == {"since": "1800000000000000210"}
    # Nothing new: the same cursor comes back, so the poller stops.
    events, again = adapter.poll(cursor)
    assert events == [] and again == cursor
    calls = mock_api.calls("GET", MENTIONS)
    assert "since_id" not in calls[0].query
    assert calls[1].query["since_id"] == ["1800000000000000105"] and "pagination_token" not in calls[1].query
    assert calls[2].query["since_id"] == ["1800000000000000105"]
    assert calls[2].query["pagination_token"] == ["b26v89c19zqg8o3fpzbkk8cvkaxn1krqq0tp9xtdbpjh"]
    assert calls[3].query["since_id"] == ["1800000000000000210"]
    # The account's id is asked once, not at every poll (X bills each user read).
    assert len(mock_api.calls("GET", "/2/users/me")) == 1


@pytest.fixture
def x_channel(cast, mock_api):
    return channel_actions.create_channel(
        cast.workspace, "x", "Salon on X", {"access_token": TOKEN, "api_url": mock_api.base}
    )


def test_the_same_key_twice_makes_one_post(mock_api, x_channel):
    mock_api.route("POST", "/2/tweets")(ok("create_tweet", 201))
    variant = PostVariant(text="Autumn offer: 20% off colouring until Sunday")
    first = ledger.publish_once(x_channel, variant, "post-17:x")
    again = ledger.publish_once(x_channel, variant, "post-17:x")
    assert first.external_id == again.external_id == "1800000000000000300"
    assert first.url == "https://x.com/i/web/status/1800000000000000300"
    assert len(mock_api.calls("POST", "/2/tweets")) == 1
    assert PublishRecord.objects.get(channel=x_channel).state == PublishRecord.State.SENT
    # X keeps nothing to look a post up by: reconciliation has to trust the ledger.
    assert x_channel.adapter().find_published("post-17:x") is None


def test_publish_sends_text_and_link(mock_api, make_adapter):
    mock_api.route("POST", "/2/tweets")(ok("create_tweet", 201))
    make_adapter().publish(PostVariant(text="New price list", link="https://salon.example/prices"), "k1")
    [call] = mock_api.calls("POST", "/2/tweets")
    assert call.json() == {"text": "New price list\nhttps://salon.example/prices"}


def test_publish_uploads_images_first(mock_api, make_adapter):
    image = b"\xff\xd8\xff\xe0" + b"0" * 2000
    mock_api.route("GET", "/media/offer.jpg")(lambda r: (200, {"Content-Type": "image/jpeg"}, image))
    mock_api.route("POST", "/2/media/upload")(ok("media_upload"))
    mock_api.route("POST", "/2/tweets")(ok("create_tweet", 201))
    ref = make_adapter().publish(
        PostVariant(text="Autumn offer", media=[f"{mock_api.base}/media/offer.jpg"]), "k2"
    )
    assert ref.external_id == "1800000000000000300"
    [upload] = mock_api.calls("POST", "/2/media/upload")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert image in upload.body and b"tweet_image" in upload.body
    [post] = mock_api.calls("POST", "/2/tweets")
    assert post.json()["media"] == {"media_ids": ["1880028106020515840"]}


def test_publish_refuses_what_x_would_refuse(mock_api, make_adapter):
    adapter = make_adapter()
    # X weighs CJK and emoji double: 141 of them are 282 units.
    with pytest.raises(AdapterError) as too_long:
        adapter.publish(PostVariant(text="漢" * 141), "k3")
    assert too_long.value.permanent
    with pytest.raises(AdapterError):
        adapter.publish(PostVariant(text="photos", media=["https://img.example/1.jpg"] * 5), "k4")
    assert mock_api.requests == []
    # 280 Cyrillic letters fit; a long URL counts as 23.
    assert tweets.weighted_length("я" * 280) == 280
    assert tweets.weighted_length("see https://salon.example/" + "a" * 200) == 4 + 23


def test_reply_answers_the_post_it_replies_to(mock_api, make_adapter):
    mock_api.route("POST", "/2/tweets")(ok("create_tweet", 201))
    ref = make_adapter().send_reply(
        OutboundReply(
            text="@anna_k Yes, 11:00 is free",
            thread_id="1800000000000000105",
            reply_to_id="1800000000000000105",
        )
    )
    assert ref.external_id == "1800000000000000300" and ref.parent_id == "1800000000000000105"
    [call] = mock_api.calls("POST", "/2/tweets")
    assert call.json() == {
        "text": "@anna_k Yes, 11:00 is free",
        "reply": {"in_reply_to_tweet_id": "1800000000000000105"},
    }


def test_moderation_hides_replies_and_deletes_own_posts(mock_api, make_adapter):
    mock_api.route("PUT", "/2/tweets/1800000000000000101/hidden")(ok("hidden"))
    mock_api.route("DELETE", "/2/tweets/1800000000000000300")(ok("deleted"))
    mock_api.route("DELETE", "/2/tweets/1800000000000000101")(ok("forbidden_delete", 403))
    adapter = make_adapter()
    adapter.moderate(ExternalRef("1800000000000000101"), "hide")
    [hide] = mock_api.calls("PUT", "/2/tweets/1800000000000000101/hidden")
    assert hide.json() == {"hidden": True}
    adapter.moderate(ExternalRef("1800000000000000300"), "delete")
    assert len(mock_api.calls("DELETE", "/2/tweets/1800000000000000300")) == 1
    # Someone else's post cannot be deleted: a permanent refusal with X's reason.
    with pytest.raises(AdapterError) as refused:
        adapter.moderate(ExternalRef("1800000000000000101"), "delete")
    assert refused.value.permanent and "not allowed to delete" in refused.value.message


def test_metrics_read_public_counters_and_skip_deleted_posts(mock_api, make_adapter):
    mock_api.route("GET", "/2/tweets")(ok("tweets_metrics"))
    points = make_adapter().metrics([ExternalRef("1800000000000000300"), ExternalRef("1800000000000000999")])
    values = {p.name: p.value for p in points}
    assert values == {"likes": 31, "reposts": 4, "comments": 2, "quotes": 1, "views": 1520}
    assert {p.external_id for p in points} == {"1800000000000000300"}
    [call] = mock_api.calls("GET", "/2/tweets")
    assert call.query["ids"] == ["1800000000000000300,1800000000000000999"]
    assert call.query["tweet.fields"] == ["public_metrics"]


def test_entries_merge_likes_reposts_and_replies(mock_api, make_adapter):
    pages = iter(["liking_users", "liking_users_2"])
    mock_api.route("GET", "/2/tweets/1800000000000000300/liking_users")(
        lambda r: (200, {}, fixture(next(pages)))
    )
    mock_api.route("GET", "/2/tweets/1800000000000000300/retweeted_by")(ok("retweeted_by"))
    mock_api.route("GET", "/2/tweets/search/recent")(ok("search_conversation"))
    entries = {e.author_id: e for e in make_adapter().entries(ExternalRef("1800000000000000300"))}
    assert set(entries) == {"2244994945", "17874544", "6253282", "99000111"}
    assert entries["2244994945"].kinds == {"like", "comment"}
    assert entries["2244994945"].text.startswith("@salon_leninsky I'm in!")
    assert entries["17874544"].kinds == {"like", "repost"} and entries["17874544"].author_name == "Vera"
    assert entries["99000111"].kinds == {"comment"}
    likes = mock_api.calls("GET", "/2/tweets/1800000000000000300/liking_users")
    assert "pagination_token" not in likes[0].query
    assert likes[1].query["pagination_token"] == ["7140dibdnow9c7btw3z2vwioavpvutgzrzm9icis4ndix"]
    [search] = mock_api.calls("GET", "/2/tweets/search/recent")
    assert search.query["query"] == ["conversation_id:1800000000000000300"]


@time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False)
def test_search_stays_within_the_recent_window(mock_api, make_adapter):
    mock_api.route("GET", "/2/tweets/search/recent")(ok("search_conversation"))
    adapter = make_adapter()
    found = adapter.search("salon leninsky", datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert [e.external_id for e in found] == ["1800000000000000311", "1800000000000000312"]
    assert all(e.kind == "mention" for e in found)
    # A since older than seven days is moved to the edge of what recent search covers.
    adapter.search("salon leninsky", datetime(2026, 10, 1, tzinfo=UTC))
    first, second = mock_api.calls("GET", "/2/tweets/search/recent")
    assert first.query["start_time"] == ["2026-11-25T08:00:00Z"]
    assert second.query["start_time"] == ["2026-11-19T12:01:00Z"]


@time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False)
def test_calls_are_paced_per_account(mock_api, make_adapter, me, paced, monkeypatch):
    monkeypatch.setattr(client, "PER_SECOND", 1.0)
    mock_api.route("GET", MENTIONS)(ok("mentions_empty"))
    adapter = make_adapter()
    adapter.check()
    adapter.poll(json.dumps({"since": "1"}))
    # Two calls in the same second: the second waited for the next one.
    assert paced == [1.0]


def test_a_cursor_it_did_not_write_starts_like_a_first_poll(mock_api, make_adapter, me):
    mock_api.route("GET", MENTIONS)(ok("mentions_first"))
    events, cursor = make_adapter().poll("12345-not-json")
    assert len(events) == 2 and json.loads(cursor) == {"since": "1800000000000000105"}
    assert "since_id" not in mock_api.calls("GET", MENTIONS)[0].query


def test_an_image_needs_no_text(mock_api, make_adapter):
    mock_api.route("GET", "/media/offer.png")(
        lambda r: (200, {"Content-Type": "image/png"}, b"\x89PNG" + b"0" * 100)
    )
    mock_api.route("POST", "/2/media/upload")(ok("media_upload"))
    mock_api.route("POST", "/2/tweets")(ok("create_tweet", 201))
    make_adapter().publish(PostVariant(text="", media=[f"{mock_api.base}/media/offer.png"]), "k5")
    assert mock_api.calls("POST", "/2/tweets")[0].json() == {
        "media": {"media_ids": ["1880028106020515840"]},
    }
    # Only images: anything else is refused before the upload.
    mock_api.route("GET", "/media/page.html")(
        lambda r: (200, {"Content-Type": "text/html"}, b"<html></html>")
    )
    with pytest.raises(AdapterError) as refused:
        make_adapter().publish(PostVariant(text="x", media=[f"{mock_api.base}/media/page.html"]), "k6")
    assert refused.value.permanent and len(mock_api.calls("POST", "/2/media/upload")) == 1
