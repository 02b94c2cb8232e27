"""Time zones and DST, recurring posts, Huey ETAs and the sweeper, and publishing exactly once: a task
run twice, a crash with the outcome unknown, retries with backoff, holding on a revoked token."""

import subprocess
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smmdesk.channels import registry
from smmdesk.channels.base import AdapterError, ExternalRef
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel, PublishRecord
from smmdesk.inbox.models import Notification
from smmdesk.lib.workers import worker_name
from smmdesk.publishing import actions, publisher, scheduling
from smmdesk.publishing.models import Post, Variant
from smmdesk.publishing.tests.core_fixtures import *  # noqa: F403
from smmdesk.publishing.tests.core_fixtures import DUE, network_posts

VState = Variant.State
BRATISLAVA = ZoneInfo("Europe/Bratislava")
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# --- the wall clock -------------------------------------------------------------------------------------


def test_local_times_across_dst():
    # Spring forward (30 March 2025, 02:00 → 03:00): 02:30 does not exist and lands an hour later.
    assert scheduling.to_utc(datetime(2025, 3, 30, 2, 30), BRATISLAVA) == utc(2025, 3, 30, 1, 30)
    assert scheduling.to_local(utc(2025, 3, 30, 1, 30), BRATISLAVA).hour == 3
    # Fall back (26 October 2025, 03:00 → 02:00): 02:30 happens twice; the first is meant.
    assert scheduling.to_utc(datetime(2025, 10, 26, 2, 30), BRATISLAVA) == utc(2025, 10, 26, 0, 30)
    # Yekaterinburg keeps +05:00 all year.
    assert scheduling.to_utc(datetime(2025, 3, 30, 9, 0), YEKATERINBURG) == utc(2025, 3, 30, 4, 0)
    assert scheduling.to_utc(datetime(2025, 7, 1, 9, 0), YEKATERINBURG) == utc(2025, 7, 1, 4, 0)


def test_daily_repeats_keep_the_wall_clock_across_spring_forward():
    anchor = scheduling.to_utc(datetime(2025, 3, 29, 9, 0), BRATISLAVA)
    assert anchor == utc(2025, 3, 29, 8, 0)
    following = scheduling.next_occurrence(anchor, anchor, "daily", BRATISLAVA)
    assert following == utc(2025, 3, 30, 7, 0)  # 09:00 CEST
    assert scheduling.to_local(following, BRATISLAVA).hour == 9


def test_a_repeat_in_the_spring_gap_moves_forward_and_comes_back():
    anchor = scheduling.to_utc(datetime(2025, 3, 29, 2, 30), BRATISLAVA)
    in_gap = scheduling.next_occurrence(anchor, anchor, "daily", BRATISLAVA)
    assert scheduling.to_local(in_gap, BRATISLAVA).replace(tzinfo=None) == datetime(2025, 3, 30, 3, 30)
    after = scheduling.next_occurrence(anchor, in_gap, "daily", BRATISLAVA)
    assert scheduling.to_local(after, BRATISLAVA).replace(tzinfo=None) == datetime(2025, 3, 31, 2, 30)


def test_weekly_repeats_across_fall_back():
    anchor = scheduling.to_utc(datetime(2025, 10, 20, 10, 0), BRATISLAVA)  # Monday, CEST
    following = scheduling.next_occurrence(anchor, anchor, "weekly", BRATISLAVA)
    assert following == utc(2025, 10, 27, 9, 0)  # 10:00 CET
    assert following - anchor == timedelta(days=7, hours=1)


def test_monthly_on_the_31st_uses_the_last_day_and_comes_back():
    anchor = scheduling.to_utc(datetime(2026, 1, 31, 18, 0), YEKATERINBURG)
    february = scheduling.next_occurrence(anchor, anchor, "monthly", YEKATERINBURG)
    march = scheduling.next_occurrence(anchor, february, "monthly", YEKATERINBURG)
    assert scheduling.to_local(february, YEKATERINBURG).date() == date(2026, 2, 28)
    assert scheduling.to_local(march, YEKATERINBURG).date() == date(2026, 3, 31)


def test_a_series_ends_on_its_last_day():
    anchor = utc(2026, 3, 1, 6, 0)
    last = scheduling.next_occurrence(anchor, anchor, "daily", YEKATERINBURG, until=date(2026, 3, 2))
    assert last == utc(2026, 3, 2, 6, 0)
    assert scheduling.next_occurrence(anchor, last, "daily", YEKATERINBURG, until=date(2026, 3, 2)) is None


def test_naive_input_is_the_workspaces_wall_clock(clock, queue, make_post, members):
    # The cast's business is in Yekaterinburg (+05:00).
    post = make_post(author="owner", scheduled_at="2026-03-14T09:30")
    assert post.scheduled_at == utc(2026, 3, 14, 4, 30)


# --- recurring posts ------------------------------------------------------------------------------------


def test_the_next_occurrence_follows_a_published_one(clock, queue, make_post, members, cast):
    cast.workspace.profile.timezone = "Europe/Bratislava"
    cast.workspace.profile.save()
    first = scheduling.to_utc(datetime(2026, 3, 27, 9, 0), BRATISLAVA)  # a Friday, CET
    post = make_post(
        author="owner", scheduled_at=first, recurrence="weekly", recurrence_until=date(2026, 4, 3)
    )
    actions.schedule(members["owner"], post, first)
    clock.move_to(first)
    for variant in post.variants.all():
        publisher.publish_variant(variant.pk)
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED
    following = Post.objects.get(series=post)
    assert following.state == Post.State.SCHEDULED
    assert following.scheduled_at == utc(2026, 4, 3, 7, 0)  # 09:00 CEST
    assert following.approved_by == members["owner"]
    assert set(following.variants.values_list("occurrence", flat=True)) == {following.scheduled_at}
    assert {eta for _pk, eta in queue.later} >= {following.scheduled_at}
    # Publishing the same occurrence again plans nothing more.
    publisher.plan_next(post)
    assert Post.objects.filter(series=post).count() == 1
    # The last one (until 3 April) ends the series.
    clock.move_to(following.scheduled_at)
    for variant in following.variants.all():
        assert publisher.publish_variant(variant.pk) == "published"
    assert Post.objects.filter(series=post).count() == 1
    keys = {p["key"] for p in network_posts("salon-vk")}
    assert len(keys) == 2


# --- getting to a worker ---------------------------------------------------------------------------------


def test_scheduling_queues_a_huey_task_per_variant_at_its_eta(
    clock, make_post, members, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        post = make_post(author="owner")
        with django_capture_on_commit_callbacks(execute=True):
            actions.schedule(members["owner"], post, DUE)
        scheduled = HUEY.scheduled()
        assert sorted(task.args[0] for task in scheduled) == sorted(
            post.variants.values_list("pk", flat=True)
        )
        assert {task.eta.replace(tzinfo=UTC) for task in scheduled} == {DUE}
        assert {task.name for task in scheduled} == {"publish_variant_task"}
    finally:
        HUEY.storage.flush_all()
        HUEY.immediate = False


def test_a_task_run_twice_publishes_once(clock, queue, make_post, members):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.first()
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "published"
    assert publisher.publish_variant(variant.pk) == "skipped"
    assert len(network_posts("salon-vk")) == 1


def test_an_early_task_does_nothing_and_the_sweeper_catches_a_lost_one(clock, queue, make_post, members):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.first()
    clock.move_to(DUE - timedelta(minutes=1))
    assert publisher.publish_variant(variant.pk) == "skipped"
    # The ETA tasks vanished (a killed worker): the sweep after the grace queues them again.
    queue.now.clear()
    clock.move_to(DUE + timedelta(seconds=30))
    assert scheduling.sweep()["late"] == 0
    clock.move_to(DUE + scheduling.SWEEP_GRACE + timedelta(seconds=1))
    assert scheduling.sweep()["late"] == 2
    assert sorted(queue.now) == sorted(post.variants.values_list("pk", flat=True))


def test_a_dead_workers_claim_is_taken_back(clock, queue, make_post, members):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.first()
    clock.move_to(DUE)
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = worker_name()
    Variant.objects.filter(pk=variant.pk).update(
        state=VState.PUBLISHING, claimed_at=DUE, claimed_by=f"{alive.rpartition(':')[0]}:{gone.pid}"
    )
    other = post.variants.exclude(pk=variant.pk).get()
    Variant.objects.filter(pk=other.pk).update(state=VState.PUBLISHING, claimed_at=DUE, claimed_by=alive)
    assert scheduling.sweep()["freed"] == 1
    assert queue.now == [variant.pk]
    assert publisher.publish_variant(variant.pk) == "published"
    # A living worker's claim stays until it is stale.
    clock.move_to(DUE + scheduling.CLAIM_STALE + timedelta(seconds=1))
    assert scheduling.sweep()["freed"] == 1


# --- exactly once after a crash ----------------------------------------------------------------------------


def crashed_mid_publish(post, posted: bool):
    """A worker claimed the variant, wrote the ledger's "sending" row, maybe posted, and died."""
    variant = post.variants.get(channel__name="VK group")
    Variant.objects.filter(pk=variant.pk).update(
        state=VState.PUBLISHING, claimed_at=DUE, claimed_by="elsewhere:1", occurrence=DUE, attempts=1
    )
    variant.refresh_from_db()
    key = variant.idempotency_key()
    PublishRecord.objects.create(channel=variant.channel, idempotency_key=key)
    if posted:
        FakeNetwork.account("salon-vk").posts["post-earlier"] = {
            "text": "Spring offer: 20% off",
            "key": key,
            "media": [],
            "likes": 0,
            "reposts": 0,
            "comments": 0,
            "deleted": False,
        }
    return variant


def test_a_network_that_can_be_asked_settles_a_crash_without_a_second_post(
    clock, queue, make_post, members, monkeypatch
):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = crashed_mid_publish(post, posted=True)
    calls = []
    monkeypatch.setattr(FakeAdapter, "publish", lambda self, v, key: calls.append(key))
    clock.move_to(DUE + scheduling.CLAIM_STALE + timedelta(minutes=1))
    scheduling.sweep()
    assert publisher.publish_variant(variant.pk) == "published"
    variant.refresh_from_db()
    assert variant.external_id == "post-earlier"
    assert calls == []
    assert len(network_posts("salon-vk")) == 1


class BlindFake(FakeAdapter):
    """A network like Telegram or X: no way to look a post up by our key, and every call posts."""

    def publish(self, variant, idempotency_key):
        post_id = FakeNetwork.next_id("post")
        self._account.posts[post_id] = {"text": variant.text, "key": idempotency_key, "likes": 0}
        return ExternalRef(post_id, f"https://fake.invalid/{self.config.account_id}/{post_id}")

    def find_published(self, idempotency_key):
        raise AdapterError("this network cannot look posts up", permanent=True)


class IdempotentFake(FakeAdapter):
    """A network like VK, Mastodon or Bluesky: a repeat with the same key gives back the first post
    (the fake network does drop repeats by key)."""

    idempotent_publish = True


def test_an_unknown_outcome_fails_until_a_person_confirms(clock, queue, make_post, members, monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "fake", BlindFake)
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = crashed_mid_publish(post, posted=False)
    clock.move_to(DUE + scheduling.CLAIM_STALE + timedelta(minutes=1))
    scheduling.sweep()
    assert publisher.publish_variant(variant.pk) == "failed"
    variant.refresh_from_db()
    assert variant.state == VState.FAILED and "may already have posted" in variant.error
    assert network_posts("salon-vk") == []
    assert actions.needs_confirmation(variant)
    assert Notification.objects.filter(membership=members["owner"], kind="post_failed").exists()
    with pytest.raises(actions.PublishingError) as refused:
        actions.retry_variant(members["owner"], variant)
    assert refused.value.field == "confirmed_absent"
    actions.retry_variant(members["owner"], variant, confirmed_absent=True)
    assert publisher.publish_variant(variant.pk) == "published"
    assert publisher.publish_variant(variant.pk) == "skipped"
    assert len(network_posts("salon-vk")) == 1
    variant.refresh_from_db()
    assert variant.state == VState.PUBLISHED and not variant.confirmed_absent


# --- retries and holds -------------------------------------------------------------------------------------


def flaky(monkeypatch, errors):
    """The channel's network fails with `errors` first, then works."""
    adapter = registry.ADAPTERS["fake"]
    original = adapter.publish

    def publish(self, variant, key):
        if errors:
            raise errors.pop(0)
        return original(self, variant, key)

    monkeypatch.setattr(adapter, "publish", publish)


def test_transient_errors_retry_with_backoff(clock, queue, make_post, members, monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "fake", IdempotentFake)
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.get(channel__name="VK group")
    flaky(monkeypatch, [AdapterError("timeout"), AdapterError("502 from the network")])
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "retry"
    variant.refresh_from_db()
    assert variant.state == VState.PENDING and variant.attempts == 1 and variant.error == "timeout"
    assert variant.next_attempt_at == DUE + timedelta(seconds=30)
    assert (variant.pk, DUE + timedelta(seconds=30)) in queue.later
    clock.move_to(DUE + timedelta(seconds=10))
    assert publisher.publish_variant(variant.pk) == "skipped"
    clock.move_to(DUE + timedelta(seconds=30))
    assert publisher.publish_variant(variant.pk) == "retry"
    variant.refresh_from_db()
    assert variant.next_attempt_at == DUE + timedelta(seconds=90)
    clock.move_to(DUE + timedelta(seconds=90))
    assert publisher.publish_variant(variant.pk) == "published"
    assert len(network_posts("salon-vk")) == 1


def test_a_transient_error_on_a_network_that_cannot_be_asked_is_not_reposted_blindly(
    clock, queue, make_post, members, monkeypatch
):
    # A timeout may have posted; Telegram or X cannot tell, so the retry stops for a person to check.
    monkeypatch.setitem(registry.ADAPTERS, "fake", BlindFake)
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.get(channel__name="VK group")
    flaky(monkeypatch, [AdapterError("read timeout")])
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "retry"
    clock.move_to(DUE + timedelta(seconds=30))
    assert publisher.publish_variant(variant.pk) == "failed"
    variant.refresh_from_db()
    assert actions.needs_confirmation(variant)
    assert network_posts("salon-vk") == []


def test_retries_end_in_a_failure(clock, queue, make_post, members, monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "fake", IdempotentFake)
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.get(channel__name="VK group")
    flaky(monkeypatch, [AdapterError("timeout") for _ in range(publisher.MAX_ATTEMPTS)])
    moment = DUE
    for attempt in range(1, publisher.MAX_ATTEMPTS + 1):
        clock.move_to(moment)
        expected = "retry" if attempt < publisher.MAX_ATTEMPTS else "failed"
        assert publisher.publish_variant(variant.pk) == expected
        moment += timedelta(seconds=publisher.backoff(attempt))
    variant.refresh_from_db()
    assert variant.state == VState.FAILED and variant.attempts == publisher.MAX_ATTEMPTS


def test_a_rate_limit_waits_as_told_without_using_an_attempt(clock, queue, make_post, members, monkeypatch):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.get(channel__name="VK group")
    flaky(monkeypatch, [AdapterError("slow down", retry_after=120)])
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "retry"
    variant.refresh_from_db()
    assert variant.attempts == 0 and variant.next_attempt_at == DUE + timedelta(seconds=120)
    clock.move_to(DUE + timedelta(seconds=120))
    assert publisher.publish_variant(variant.pk) == "published"


def test_a_revoked_token_holds_and_reconnecting_releases(clock, queue, make_post, members):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.get(channel__name="VK group")
    other = post.variants.exclude(pk=variant.pk).get()
    FakeNetwork.account("salon-vk").revoked = True
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "held"
    assert publisher.publish_variant(other.pk) == "published"
    variant.refresh_from_db()
    post.refresh_from_db()
    assert variant.state == VState.HELD and variant.attempts == 0
    assert post.state == Post.State.PUBLISHING  # not failed: nothing was dropped
    channel = variant.channel
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    assert "held" in list(post.events.values_list("action", flat=True))
    # While the channel is broken the sweeper leaves it; a task for it holds it again without calling.
    assert scheduling.sweep()["released"] == 0
    FakeNetwork.account("salon-vk").revoked = False
    from smmdesk.channels.actions import check_channel

    check_channel(channel.pk)
    assert scheduling.sweep()["released"] == 1
    assert variant.pk in queue.now
    assert publisher.publish_variant(variant.pk) == "published"
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED
    assert len(network_posts("salon-vk")) == 1


def test_a_disabled_channel_holds_without_calling_the_network(clock, queue, make_post, members, monkeypatch):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    variant = post.variants.get(channel__name="VK group")
    Channel.objects.filter(pk=variant.channel_id).update(status=Channel.Status.DISABLED)
    monkeypatch.setattr(FakeAdapter, "publish", lambda *args: pytest.fail("the network was called"))
    clock.move_to(DUE)
    assert publisher.publish_variant(variant.pk) == "held"
