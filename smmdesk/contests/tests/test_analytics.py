"""Contest analytics: entrants over time, new members during the contest (the proxy), the post's reach."""

from datetime import timedelta

import pytest

from smmdesk.channels.base import Entry
from smmdesk.contests import actions, analytics
from smmdesk.contests.tests.conftest import NOW, on_post, person, run_to
from smmdesk.publishing.models import Post, Variant, VariantMetric

pytestmark = pytest.mark.django_db


def test_the_chart_counts_entrants_per_day_cumulatively(clock, make_contest, members):
    contest = make_contest(opens_at=NOW - timedelta(days=3), closes_at=NOW + timedelta(days=4))
    on_post(
        [
            person(1, at=NOW - timedelta(days=3)),
            person(2, at=NOW - timedelta(days=2)),
            person(3, {"like"}, at=NOW - timedelta(days=2)),
            person(4, at=NOW),
        ]
    )
    actions.collect(actions.open_contest(members["owner"], contest), members["owner"])
    chart = analytics.entries_chart(contest)
    assert [(day.isoformat(), seen, good) for day, seen, good in chart.days] == [
        ("2026-10-30", 1, 1),
        ("2026-10-31", 3, 2),
        ("2026-11-01", 3, 2),
        ("2026-11-02", 4, 3),
    ]
    assert chart.top == 4
    xs = [float(p.split(",")[0]) for p in chart.all_points.split()]
    ys = [float(p.split(",")[1]) for p in chart.all_points.split()]
    assert xs == sorted(xs) and ys[-1] == analytics.PAD and ys == sorted(ys, reverse=True)


def test_no_entrants_no_chart(clock, make_contest):
    assert analytics.entries_chart(make_contest()) is None


def test_new_members_are_members_first_seen_during_the_contest_and_not_in_earlier_contests(
    clock, make_contest, members
):
    manager = members["owner"]
    earlier = make_contest(title="Earlier", post_external_id="post-1")
    on_post([person(1, {"comment", "member"}), person(2, {"comment"})], post="post-1")
    run_to(earlier, "drawn", manager)
    clock.move_to(NOW + timedelta(days=1), tick=False)
    contest = make_contest(opens_at=NOW, closes_at=NOW + timedelta(days=5))
    on_post(
        [
            person(1, {"comment", "member"}, at=NOW + timedelta(hours=1)),  # a member already last time
            person(2, {"comment", "member"}, at=NOW + timedelta(hours=2)),  # took part, but joined now
            person(3, {"comment", "subscriber"}, at=NOW + timedelta(hours=3)),
            person(4, {"comment"}, at=NOW + timedelta(hours=4)),  # not a member
            Entry("id5", "Old", frozenset({"member", "comment"}), "x", NOW - timedelta(days=2)),  # before
        ]
    )
    actions.collect(actions.open_contest(manager, contest), manager)
    assert analytics.new_members(contest) == 2


def test_reach_comes_from_the_published_variants_metrics(clock, make_contest, members, channel):
    post = Post.objects.create(workspace=channel.workspace, title="Giveaway", state="published")
    variant = Variant.objects.create(
        post=post, channel=channel, text="Win", state="published", external_id="post-42", published_at=NOW
    )
    VariantMetric.objects.create(variant=variant, name="views", value=1500, measured_at=NOW)
    VariantMetric.objects.create(variant=variant, name="likes", value=80, measured_at=NOW)
    typed_in = make_contest()  # the same post typed in: its variant is found by channel and id
    figures = analytics.reach(typed_in)
    assert figures is not None and (figures.reach, figures.likes) == (1500, 80)
    assert analytics.reach(make_contest(post_external_id="elsewhere")) is None
