"""Best times on synthetic metrics: slots in the business's time zone, the Bayesian smoothing that keeps
one lucky post from topping the list, rates versus counts, and the documented defaults with too little
data."""

from datetime import UTC, datetime, timedelta

import pytest

from smmdesk.publishing import besttime
from smmdesk.publishing.besttime import DEFAULT_SLOTS, MIN_POSTS, PRIOR_WEIGHT, Slot, rank, suggest
from smmdesk.publishing.models import Post, Variant, VariantMetric
from smmdesk.publishing.scheduling import zone
from smmdesk.publishing.tests.feeds import make_channel, published

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday
TUE, SUN, MON = 1, 6, 0


def local_utc(weekday: int, hour: int, weeks_back: int) -> datetime:
    """A time in the past at that weekday and hour in Asia/Yekaterinburg (UTC+5, the cast's zone)."""
    monday = datetime(2026, 5, 25, tzinfo=UTC) - timedelta(weeks=weeks_back)
    return monday + timedelta(days=weekday, hours=hour - 5)


def rate_post(channel, weekday, hour, rate, weeks_back):
    reach = 1000.0
    engaged = rate * reach
    return published(
        channel,
        local_utc(weekday, hour, weeks_back),
        {"reach": reach, "likes": engaged * 0.7, "comments": engaged * 0.2, "shares": engaged * 0.1},
    )


def test_rank_is_a_bayesian_average_toward_the_mean():
    scored = [(TUE, 19, 0.08)] * 5 + [(SUN, 3, 0.10)] + [(MON, 9, 0.03)] * 6
    mean, slots = rank(scored)
    assert mean == pytest.approx((0.4 + 0.10 + 0.18) / 12)
    tue = (0.4 + PRIOR_WEIGHT * mean) / (5 + PRIOR_WEIGHT)
    sun = (0.10 + PRIOR_WEIGHT * mean) / (1 + PRIOR_WEIGHT)
    # By raw average Sunday 03:00 (one post at 0.10) beats Tuesday 19:00 (five at 0.08); smoothed, the
    # slot with the evidence wins.
    assert [(s.weekday, s.hour) for s in slots] == [(TUE, 19), (SUN, 3), (MON, 9)]
    assert slots[0].score == pytest.approx(tue) and slots[1].score == pytest.approx(sun)
    assert slots[0].posts == 5
    assert rank([]) == (None, [])


def test_rank_without_smoothing_would_pick_the_outlier():
    scored = [(TUE, 19, 0.08)] * 5 + [(SUN, 3, 0.10)] + [(MON, 9, 0.03)] * 6
    _mean, slots = rank(scored, prior_weight=0)
    assert (slots[0].weekday, slots[0].hour) == (SUN, 3)


@pytest.mark.django_db
def test_suggestions_from_history_in_the_business_time_zone(cast):
    vk = make_channel(cast.workspace, "VK", stands_for="vk")
    for week in range(5):
        rate_post(vk, TUE, 19, 0.08, week)
    rate_post(vk, SUN, 3, 0.10, 1)
    for week in range(6):
        rate_post(vk, MON, 9, 0.03, week)
    # Not counted: another channel, an unpublished variant, a post older than the look-back.
    other = make_channel(cast.workspace, "Telegram", stands_for="telegram")
    for week in range(3):
        rate_post(other, SUN, 3, 0.9, week)
    failed = rate_post(vk, SUN, 3, 0.9, 2)
    Variant.objects.filter(pk=failed.pk).update(state=Variant.State.FAILED)
    rate_post(vk, SUN, 3, 0.9, 30)

    found = suggest(vk, now=NOW)
    assert found.source == "history" and found.measure == "rate"
    assert found.posts == 12
    assert [(s.weekday, s.hour, s.posts) for s in found.slots] == [(TUE, 19, 5), (SUN, 3, 1), (MON, 9, 6)]
    # Tuesday 19:00 local went out at 14:00 UTC: slots are read on the business's clock, not the server's.
    assert found.mean == pytest.approx(0.68 / 12)


@pytest.mark.django_db
def test_counts_when_the_network_reports_no_reach(cast):
    masto = make_channel(cast.workspace, "Mastodon", stands_for="mastodon")
    for week in range(6):
        published(masto, local_utc(TUE, 10, week), {"likes": 30, "comments": 5, "shares": 5})
        published(masto, local_utc(MON, 8, week), {"likes": 3, "comments": 0, "shares": 1})
    found = suggest(masto, now=NOW)
    assert found.source == "history" and found.measure == "engagement"
    assert (found.slots[0].weekday, found.slots[0].hour) == (TUE, 10)
    assert found.slots[0].score == pytest.approx((6 * 40 + PRIOR_WEIGHT * 22) / (6 + PRIOR_WEIGHT))


@pytest.mark.django_db
def test_the_latest_reading_of_a_counter_counts(cast):
    vk = make_channel(cast.workspace)
    variants = [rate_post(vk, TUE, 19, 0.01, week) for week in range(MIN_POSTS)]
    # A later sync saw many more likes on one post.
    VariantMetric.objects.create(
        variant=variants[0],
        name="likes",
        value=900,
        measured_at=variants[0].published_at + timedelta(hours=5),
    )
    found = suggest(vk, now=NOW)
    assert found.slots[0].score > 0.05


@pytest.mark.django_db
def test_too_little_data_gives_the_networks_documented_defaults(cast):
    vk = make_channel(cast.workspace, "VK", stands_for="vk")
    tg = make_channel(cast.workspace, "Telegram", stands_for="telegram")
    for week in range(MIN_POSTS - 1):
        rate_post(vk, SUN, 3, 0.5, week)
    # Published but never measured: no evidence either.
    post = Post.objects.create(workspace=cast.workspace, state=Post.State.PUBLISHED, scheduled_at=NOW)
    Variant.objects.create(
        post=post, channel=vk, state=Variant.State.PUBLISHED, published_at=NOW - timedelta(days=1)
    )
    found = suggest(vk, now=NOW)
    assert found.source == "default" and found.posts == MIN_POSTS - 1 and found.mean is None
    assert [(s.weekday, s.hour) for s in found.slots] == list(DEFAULT_SLOTS["vk"])
    assert [(s.weekday, s.hour) for s in suggest(tg, now=NOW).slots] == list(DEFAULT_SLOTS["telegram"])
    assert all(s.score is None for s in found.slots)
    # One more measured post and the history speaks.
    rate_post(vk, SUN, 3, 0.5, MIN_POSTS)
    assert suggest(vk, now=NOW).source == "history"


@pytest.mark.django_db
def test_suggest_all_covers_publishing_channels_only(cast):
    make_channel(cast.workspace, "VK")
    make_channel(cast.workspace, "Off", status="disabled")
    make_channel(cast.workspace, "Mailbox", kind="email")  # cannot publish
    names = [s.channel for s in besttime.suggest_all(cast.workspace, NOW)]
    assert names == ["VK"]


def test_next_time_is_the_next_local_slot_across_dst():
    bratislava = zone("Europe/Bratislava")
    # Saturday 28 March 2026, noon UTC; the clocks go forward that night.
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert besttime.next_time(Slot(TUE, 19), bratislava, after) == datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
    assert besttime.next_time(Slot(5, 10), bratislava, after) == datetime(2026, 4, 4, 8, 0, tzinfo=UTC)
    assert besttime.next_time(Slot(5, 14), bratislava, after) == datetime(2026, 3, 28, 13, 0, tzinfo=UTC)
