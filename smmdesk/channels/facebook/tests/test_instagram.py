"""The Instagram adapter against a local server playing the Graph API: check, comments and mentions from
webhooks, polling, publishing through media containers (once per key through the ledger), replies,
moderation, metrics and entries."""

from datetime import UTC, datetime

import pytest

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import ledger
from smmdesk.channels.base import AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.facebook.instagram import InstagramAdapter
from smmdesk.channels.facebook.tests.conftest import APP_SECRET, IG_ID, IG_TOKEN, fixture, ok, path, raw, sign
from smmdesk.channels.forms import build_form_class

MEDIA = "17900000000000001"


def deliver(adapter, name):
    body = raw(name)
    return adapter.parse_webhook(body, {"X-Hub-Signature-256": sign(body)})


def test_check_names_the_account(mock_api, instagram):
    mock_api.route("GET", path(IG_ID))(ok("ig_user"))
    info = instagram().check()
    assert (info.external_id, info.name, info.url) == (
        IG_ID,
        "Salon Leninsky",
        "https://www.instagram.com/salon_leninsky",
    )
    [call] = mock_api.calls("GET", path(IG_ID))
    assert call.query["fields"] == ["username,name"]
    assert call.headers["authorization"] == f"Bearer {IG_TOKEN}"


def test_the_kind_is_registered_and_its_form_builds():
    kinds = {k.kind: k for k in channel_actions.describe_kinds()}
    assert {"inbox", "reply", "publish", "moderate", "metrics", "entries"} <= set(
        kinds["instagram"].capabilities
    )
    assert InstagramAdapter.limits.max_media == 10 and not InstagramAdapter.limits.supports_link
    assert {"ig_user_id", "access_token", "app_secret", "verify_token"} <= set(
        build_form_class(InstagramAdapter).base_fields
    )


def test_comment_notices_become_comments(instagram):
    top, reply, live = deliver(instagram(), "ig_webhook_comments")
    assert top.kind == "comment" and top.external_id == "17860000000000001"
    assert top.thread_id == MEDIA and top.reply_to_id == ""
    assert (top.author_id, top.author_name, top.author_handle) == (
        "232323232",
        "anna.petrova",
        "anna.petrova",
    )
    assert top.author_url == "https://www.instagram.com/anna.petrova"
    assert top.text == "How much is this colour?"
    # The notice has no time of its own: the delivery's.
    assert top.created_at == datetime.fromtimestamp(1764151000, UTC)
    assert reply.reply_to_id == "17860000000000001" and reply.thread_id == MEDIA
    assert live.thread_id == "17900000000000009" and live.text == "Hi from the stream"


def test_mention_notices_are_completed_by_a_lookup(mock_api, instagram):
    def lookup(request):
        fields = request.query["fields"][0]
        if fields.startswith("mentioned_comment.comment_id(17870000000000001)"):
            return 200, {}, fixture("ig_mentioned_comment")
        if fields.startswith("mentioned_media.media_id(17920000000000002)"):
            return 200, {}, fixture("ig_mentioned_media")
        return 400, {}, fixture("error_not_found")

    mock_api.route("GET", path(IG_ID))(lookup)
    in_comment, in_caption = deliver(instagram(), "ig_webhook_mentions")
    assert (
        in_comment.kind == "mention"
        and in_comment.external_id == "mention:17920000000000001:17870000000000001"
    )
    assert in_comment.thread_id == "17920000000000001"
    assert in_comment.text == "@salon_leninsky do you do balayage?"
    assert (in_comment.author_id, in_comment.author_name) == ("676767676", "dina.k")
    assert in_comment.created_at == datetime(2026, 11, 26, 10, 11, tzinfo=UTC)
    assert in_caption.external_id == "mention:17920000000000002"
    assert in_caption.text == "New look thanks to @salon_leninsky" and in_caption.author_name == "egor.m"
    assert in_caption.attachments == [{"type": "link", "url": "https://www.instagram.com/p/DAbCdEf1234/"}]


def test_a_mention_that_cannot_be_looked_up_is_kept(mock_api, instagram):
    mock_api.route("GET", path(IG_ID))(ok("error_throttle", 400))
    in_comment, in_caption = deliver(instagram(), "ig_webhook_mentions")
    assert in_comment.external_id == "mention:17920000000000001:17870000000000001" and in_comment.text == ""


def test_deliveries_of_other_objects_or_accounts_are_ignored(instagram):
    # A Page delivery sent to an Instagram channel's address carries nothing for it.
    assert deliver(instagram(), "webhook_feed") == []
    assert deliver(instagram(ig_user_id="17841400000000999"), "ig_webhook_comments") == []


def test_poll_reads_comments_and_replies_after_the_cursor(mock_api, instagram):
    mock_api.route("GET", path(IG_ID, "media"))(ok("ig_media_poll"))
    events, cursor = instagram().poll("2026-11-26T10:00:00+0000")
    assert [e.external_id for e in events] == ["17860000000000004", "17860000000000005"]
    assert events[1].reply_to_id == "17860000000000004" and events[1].thread_id == MEDIA
    # Our own reply comes back too: the inbox's echo guard knows it by the account id.
    assert events[1].author_id == IG_ID
    assert cursor == "2026-11-26T10:21:00+0000"
    [call] = mock_api.calls("GET", path(IG_ID, "media"))
    assert call.query["limit"] == ["10"] and "replies{" in call.query["fields"][0]


@pytest.fixture
def ig_channel(cast, mock_api):
    values = {
        "ig_user_id": IG_ID,
        "access_token": IG_TOKEN,
        "app_secret": APP_SECRET,
        "graph_url": mock_api.base,
    }
    return channel_actions.create_channel(cast.workspace, "instagram", "Salon IG", values)


def test_the_same_key_twice_makes_one_post(mock_api, ig_channel):
    mock_api.route("POST", path(IG_ID, "media"))(ok("ig_container"))
    mock_api.route("POST", path(IG_ID, "media_publish"))(ok("ig_published"))
    mock_api.route("GET", path("17920238422030506"))(ok("ig_permalink"))
    variant = PostVariant(text="Autumn colours #salon", media=["https://img.example/autumn.jpg"])
    first = ledger.publish_once(ig_channel, variant, "post-9:instagram")
    again = ledger.publish_once(ig_channel, variant, "post-9:instagram")
    assert first.external_id == again.external_id == "17920238422030506"
    assert first.url == "https://www.instagram.com/p/DAbCdEf9999/"
    [container] = mock_api.calls("POST", path(IG_ID, "media"))
    assert container.form()["image_url"] == "https://img.example/autumn.jpg"
    assert container.form()["caption"] == "Autumn colours #salon"
    [publish] = mock_api.calls("POST", path(IG_ID, "media_publish"))
    assert publish.form()["creation_id"] == "17889455560051444"
    assert ig_channel.adapter().find_published("post-9:instagram") is None


def test_a_carousel_is_built_from_its_items(mock_api, instagram):
    answers = iter(["ig_child_1", "ig_child_2", "ig_container"])
    mock_api.route("POST", path(IG_ID, "media"))(lambda r: (200, {}, fixture(next(answers))))
    mock_api.route("POST", path(IG_ID, "media_publish"))(ok("ig_published"))
    # The permalink lookup failing does not make the published post an error.
    mock_api.route("GET", path("17920238422030506"))(ok("error_transient", 500))
    ref = instagram().publish(
        PostVariant(text="Before / after", media=["https://img.example/a.jpg", "https://img.example/b.jpg"]),
        "k",
    )
    assert ref.external_id == "17920238422030506" and ref.url == ""
    child, _child, carousel = [c.form() for c in mock_api.calls("POST", path(IG_ID, "media"))]
    assert child["is_carousel_item"] == "true" and "caption" not in child
    assert carousel["media_type"] == "CAROUSEL"
    assert carousel["children"] == "17889455560051401,17889455560051402"
    assert carousel["caption"] == "Before / after"


def test_instagram_needs_an_image(mock_api, instagram):
    with pytest.raises(AdapterError) as refused:
        instagram().publish(PostVariant(text="Text only"), "k")
    assert refused.value.permanent and "image" in refused.value.message
    with pytest.raises(AdapterError):
        instagram().publish(PostVariant(text="x" * 2201, media=["https://img.example/a.jpg"]), "k")
    assert mock_api.requests == []


def test_a_container_not_ready_is_retried_later(mock_api, instagram):
    mock_api.route("POST", path(IG_ID, "media"))(ok("ig_container"))
    mock_api.route("POST", path(IG_ID, "media_publish"))(ok("ig_error_not_ready", 400))
    with pytest.raises(AdapterError) as failed:
        instagram().publish(PostVariant(text="Soon", media=["https://img.example/a.jpg"]), "k")
    assert failed.value.retry_after == 30 and not failed.value.permanent


def test_replies_go_to_comments_mentions_or_the_post(mock_api, instagram):
    mock_api.route("POST", path("17860000000000001", "replies"))(ok("ig_comment_created"))
    mock_api.route("POST", path(IG_ID, "mentions"))(ok("ig_comment_created"))
    mock_api.route("POST", path(MEDIA, "comments"))(ok("ig_comment_created"))
    adapter = instagram()
    ref = adapter.send_reply(
        OutboundReply(text="3500 roubles", thread_id=MEDIA, reply_to_id="17860000000000001")
    )
    assert ref.external_id == "17870000000000099" and ref.parent_id == MEDIA
    assert mock_api.calls("POST", path("17860000000000001", "replies"))[0].form()["message"] == "3500 roubles"
    adapter.send_reply(
        OutboundReply(
            text="Yes we do!",
            thread_id="17920000000000001",
            reply_to_id="mention:17920000000000001:17870000000000001",
        )
    )
    adapter.send_reply(
        OutboundReply(
            text="Thank you!", thread_id="17920000000000002", reply_to_id="mention:17920000000000002"
        )
    )
    on_comment, on_caption = [
        {k: v for k, v in c.form().items() if k != "appsecret_proof"}
        for c in mock_api.calls("POST", path(IG_ID, "mentions"))
    ]
    assert on_comment == {
        "media_id": "17920000000000001",
        "comment_id": "17870000000000001",
        "message": "Yes we do!",
    }
    assert on_caption == {"media_id": "17920000000000002", "message": "Thank you!"}
    adapter.send_reply(OutboundReply(text="Welcome!", thread_id=MEDIA))
    assert mock_api.calls("POST", path(MEDIA, "comments"))[0].form()["message"] == "Welcome!"


def test_moderation_hides_and_deletes_comments(mock_api, instagram):
    mock_api.route("POST", path("17860000000000002"))(ok("success"))
    mock_api.route("DELETE", path("17860000000000002"))(ok("success"))
    adapter = instagram()
    adapter.moderate(ExternalRef("17860000000000002"), "hide")
    assert mock_api.calls("POST", path("17860000000000002"))[0].form()["hide"] == "true"
    adapter.moderate(ExternalRef("17860000000000002"), "delete")
    assert len(mock_api.calls("DELETE", path("17860000000000002"))) == 1
    with pytest.raises(AdapterError) as refused:
        adapter.moderate(ExternalRef("mention:17920000000000002"), "hide")
    assert refused.value.permanent


def test_metrics_and_entries(mock_api, instagram):
    mock_api.route("GET", path("17920238422030506"))(ok("ig_media_metrics"))
    mock_api.route("GET", path("17920238422030999"))(ok("error_not_found", 400))
    mock_api.route("GET", path("17920238422030506", "comments"))(ok("ig_comments_entries"))
    adapter = instagram()
    points = adapter.metrics([ExternalRef("17920238422030506"), ExternalRef("17920238422030999")])
    assert {p.name: p.value for p in points} == {"likes": 120, "comments": 14}
    entries = {e.author_id: e for e in adapter.entries(ExternalRef("17920238422030506"))}
    assert set(entries) == {"232323232", "454545454"}
    assert entries["232323232"].kinds == {"comment"} and entries["232323232"].text == "Me!"
    assert entries["454545454"].author_name == "boris.iv"
