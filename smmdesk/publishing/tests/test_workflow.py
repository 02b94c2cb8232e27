"""The state machine: draft → in review → approved → scheduled → publishing → published | failed, its
audit trail and notices, the approval switch, editing after approval, and the publisher's outcomes."""

from datetime import timedelta

import pytest

from smmdesk.channels.base import AdapterError
from smmdesk.channels.fake.adapter import FakeAdapter
from smmdesk.inbox.models import Notification
from smmdesk.publishing import actions, publisher, workflow
from smmdesk.publishing.models import Post, Variant
from smmdesk.publishing.tests.core_fixtures import *  # noqa: F403
from smmdesk.publishing.tests.core_fixtures import DUE, network_posts

State = Post.State
VState = Variant.State


def trail(post):
    return list(post.events.values_list("action", flat=True))


def notices(member, kind):
    return list(Notification.objects.filter(membership=member, kind=kind).values_list("text", flat=True))


def test_drafted_submitted_approved_and_scheduled(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    assert post.state == State.DRAFT and post.created_by == members["content_manager"]

    actions.submit(members["content_manager"], post)
    post.refresh_from_db()
    assert post.state == State.IN_REVIEW
    # Both approvers hear of it, the author does not.
    assert notices(members["owner"], "post_review") and notices(members["smm_manager"], "post_review")
    assert not notices(members["content_manager"], "post_review")

    actions.approve(members["smm_manager"], post)
    post.refresh_from_db()
    assert post.state == State.SCHEDULED
    assert post.approved_by == members["smm_manager"] and post.approved_at is not None
    assert "approved" in notices(members["content_manager"], "post_review")[0]
    # One task per variant at the due time.
    assert sorted(queue.later) == sorted((v.pk, DUE) for v in post.variants.all())
    assert set(post.variants.values_list("next_attempt_at", flat=True)) == {DUE}
    assert trail(post) == ["created", "submitted", "approved", "scheduled"]


def test_published_when_every_variant_is_out(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    actions.submit(members["content_manager"], post)
    actions.approve(members["owner"], post)
    clock.move_to(DUE)
    first, second = post.variants.order_by("pk")
    assert publisher.publish_variant(first.pk) == "published"
    post.refresh_from_db()
    assert post.state == State.PUBLISHING
    assert publisher.publish_variant(second.pk) == "published"
    post.refresh_from_db()
    assert post.state == State.PUBLISHED
    first.refresh_from_db()
    assert first.external_id and first.url.startswith("https://fake.invalid/salon-vk/")
    assert first.published_at == DUE
    assert [p["text"] for p in network_posts("salon-vk")] == ["Spring offer: 20% off"]
    assert trail(post)[-2:] == ["published", "published"]


def test_rejected_goes_back_to_the_author_with_the_reason(clock, queue, make_post, members):
    post = make_post()
    actions.submit(members["content_manager"], post)
    with pytest.raises(actions.InvalidInput) as refused:
        actions.reject(members["owner"], post, "  ")
    assert refused.value.field_errors()[0][0] == "comment"
    actions.reject(members["owner"], post, "Add the price, please")
    post.refresh_from_db()
    assert post.state == State.DRAFT and post.review_comment == "Add the price, please"
    assert "Add the price, please" in notices(members["content_manager"], "post_review")[0]
    assert post.events.last().detail == {"comment": "Add the price, please"}


def test_approval_switched_off_lets_a_drafter_schedule(clock, queue, make_post, members, cast):
    post = make_post()
    with pytest.raises(actions.NotAllowed):
        actions.schedule(members["content_manager"], post, DUE)
    actions.update_settings(members["owner"], approval_required=False)
    actions.schedule(members["content_manager"], post, DUE)
    post.refresh_from_db()
    assert post.state == State.SCHEDULED and post.approved_by is None
    # Submitting is approving at once when nobody needs to review.
    other = make_post(scheduled_at=DUE)
    actions.submit(members["content_manager"], other)
    other.refresh_from_db()
    assert other.state == State.SCHEDULED
    assert not Notification.objects.filter(kind="post_review").exists()


def test_an_approver_scheduling_a_draft_approves_it(clock, queue, make_post, members):
    post = make_post(author="smm_manager")
    actions.schedule(members["smm_manager"], post, DUE)
    post.refresh_from_db()
    assert post.state == State.SCHEDULED and post.approved_by == members["smm_manager"]
    assert trail(post) == ["created", "approved", "scheduled"]


def test_a_drafters_edit_after_approval_sends_the_post_back_to_review(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    actions.submit(members["content_manager"], post)
    actions.approve(members["owner"], post)
    variant = post.variants.first()
    changed = [{"channel": variant.channel_id, "text": "Spring offer: 30% off"}]
    actions.update_post(members["content_manager"], post, {"variants": changed})
    post.refresh_from_db()
    assert post.state == State.IN_REVIEW and post.approved_by is None
    assert post.variants.count() == 1
    # The task queued for the approved version finds nothing to publish.
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "skipped"
    assert network_posts("salon-vk") == []


def test_a_managers_edit_keeps_the_approval_and_a_new_time_rearms(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    actions.approve(members["owner"], post)
    later = DUE + timedelta(hours=2)
    actions.update_post(members["smm_manager"], post, {"title": "Renamed", "scheduled_at": later})
    post.refresh_from_db()
    assert post.state == State.SCHEDULED and post.title == "Renamed"
    assert {eta for _pk, eta in queue.later} == {DUE, later}
    clock.move_to(DUE)
    assert {publisher.publish_variant(v.pk) for v in post.variants.all()} == {"skipped"}
    clock.move_to(later)
    assert {publisher.publish_variant(v.pk) for v in post.variants.all()} == {"published"}


def test_reschedule_moves_a_scheduled_post(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    actions.approve(members["owner"], post)
    earlier = DUE - timedelta(hours=5)
    actions.reschedule(members["content_manager"], post, earlier)
    post.refresh_from_db()
    assert post.scheduled_at == earlier
    assert post.events.last().detail["previous"] == DUE.isoformat()
    clock.move_to(earlier)
    assert {publisher.publish_variant(v.pk) for v in post.variants.all()} == {"published"}
    with pytest.raises(actions.NotAllowed):
        actions.reschedule(members["content_manager"], post, DUE)


def test_schedule_refuses_a_time_long_past(clock, queue, make_post, members):
    post = make_post(author="owner")
    with pytest.raises(actions.InvalidInput) as refused:
        actions.schedule(members["owner"], post, DUE - timedelta(days=30))
    assert refused.value.field_errors()[0][0] == "scheduled_at"


def test_unschedule_takes_it_off_the_queue(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    actions.approve(members["owner"], post)
    actions.unschedule(members["content_manager"], post)
    post.refresh_from_db()
    assert post.state == State.APPROVED
    clock.move_to(DUE)
    assert {publisher.publish_variant(v.pk) for v in post.variants.all()} == {"skipped"}


def test_one_failed_variant_fails_the_post_and_tells_the_owners(
    clock, queue, make_post, members, monkeypatch
):
    post = make_post(scheduled_at=DUE)
    actions.approve(members["owner"], post)
    clock.move_to(DUE)
    ok, bad = post.variants.order_by("pk")
    original = FakeAdapter.publish

    def refuse_second(self, variant, key):
        if self.config.account_id == "salon-tg":
            raise AdapterError("content refused by the network", permanent=True)
        return original(self, variant, key)

    monkeypatch.setattr(FakeAdapter, "publish", refuse_second)
    assert publisher.publish_variant(bad.pk) == "failed"
    post.refresh_from_db()
    # The other variant is still to go: not failed yet.
    assert post.state == State.PUBLISHING
    assert publisher.publish_variant(ok.pk) == "published"
    post.refresh_from_db()
    bad.refresh_from_db()
    assert post.state == State.FAILED
    assert bad.state == VState.FAILED and bad.error == "content refused by the network"
    assert "content refused" in notices(members["owner"], "post_failed")[0]
    assert not notices(members["smm_manager"], "post_failed")


def test_validation_names_the_variant_field(clock, members, channels, cast):
    from smmdesk.channels.models import Channel

    telegram = Channel.objects.create(workspace=cast.workspace, kind="telegram", name="TG")
    rss = Channel.objects.create(workspace=cast.workspace, kind="rss", name="Feed")
    data = {
        "variants": [
            {"channel": channels[0].pk, "text": "x" * 2001},
            {"channel": telegram.pk, "text": "hi", "first_comment": "more"},
            {"channel": rss.pk, "text": "hi"},
            {"channel": channels[1].pk, "text": "", "link": "ftp://example.com"},
            {"channel": cast.other.channels.create(kind="fake", name="Theirs").pk, "text": "hi"},
            {"channel": channels[1].pk, "text": "hi", "hashtags": ["ok", "not ok!"]},
        ]
    }
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_post(members["content_manager"], data)
    fields = [name for name, _message in refused.value.field_errors()]
    assert fields == [
        "variants.0.text",
        "variants.1.first_comment",
        "variants.2.channel",
        "variants.3.link",
        "variants.4.channel",
        "variants.5.hashtags",
    ]
    assert not Post.objects.exists()


def test_text_is_counted_with_hashtags_and_link(clock, members, channels):
    text = "x" * 1980
    data = {"variants": [{"channel": channels[0].pk, "text": text, "hashtags": ["spring", "sale"]}]}
    actions.create_post(members["content_manager"], data)
    data["variants"][0]["link"] = "https://salon.example/offer"
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_post(members["content_manager"], data)
    assert "2024" in refused.value.field_errors()[0][1]


def test_x_counts_links_as_23_and_wide_characters_double():
    assert actions.text_length("x", "https://example.com/a/very/long/path/indeed") == 23
    assert actions.text_length("x", "日本") == 4
    assert actions.text_length("vk", "日本") == 2


def test_campaigns_by_name_and_id(clock, members, channels, make_post):
    post = make_post(new_campaign="Spring")
    assert post.campaign.name == "Spring"
    again = make_post(campaign=post.campaign_id)
    assert again.campaign_id == post.campaign_id
    with pytest.raises(actions.InvalidInput) as refused:
        make_post(campaign=999999)
    assert refused.value.field_errors()[0][0] == "campaign"


def test_derive_state():
    assert workflow.derive_state([VState.PUBLISHED, VState.PUBLISHED]) == State.PUBLISHED
    assert workflow.derive_state([VState.PUBLISHED, VState.FAILED]) == State.FAILED
    assert workflow.derive_state([VState.HELD, VState.FAILED]) == State.PUBLISHING
    assert workflow.derive_state([VState.PENDING, VState.HELD]) == State.SCHEDULED
    assert workflow.derive_state([VState.PENDING, VState.PUBLISHED]) == State.PUBLISHING
