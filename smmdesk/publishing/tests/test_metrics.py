"""The hourly metrics sync: readings per variant, one per metric and hour, in one vocabulary."""

from datetime import timedelta

import pytest

from smmdesk.channels.fake.adapter import FakeNetwork, fake_reach
from smmdesk.channels.models import Channel
from smmdesk.publishing import actions, metrics, publisher, reports
from smmdesk.publishing.models import VariantMetric
from smmdesk.publishing.tests.core_fixtures import *  # noqa: F403
from smmdesk.publishing.tests.core_fixtures import DUE


def published(make_post, members, clock):
    post = make_post(author="owner")
    actions.schedule(members["owner"], post, DUE)
    clock.move_to(DUE)
    for variant in post.variants.all():
        assert publisher.publish_variant(variant.pk) == "published"
    return post.variants.get(channel__name="VK group")


def readings(variant):
    return sorted(VariantMetric.objects.filter(variant=variant).values_list("name", "value", "measured_at"))


def test_sync_is_idempotent_within_the_hour(clock, queue, make_post, members):
    variant = published(make_post, members, clock)
    network_post = FakeNetwork.account("salon-vk").posts[variant.external_id]
    network_post.update(reach=400, likes=3, reposts=1, comments=2)
    clock.move_to(DUE + timedelta(minutes=35))
    assert variant.channel_id in metrics.channels_to_sync()
    assert metrics.sync_channel(variant.channel_id) == 4
    network_post["likes"] = 5
    clock.move_to(DUE + timedelta(minutes=50))
    metrics.sync_channel(variant.channel_id)
    hour = (DUE + timedelta(minutes=35)).replace(minute=0)
    # "reposts" is stored as "shares"; the second sync in the hour overwrote, not added.
    assert readings(variant) == [
        ("comments", 2.0, hour),
        ("likes", 5.0, hour),
        ("reach", 400.0, hour),
        ("shares", 1.0, hour),
    ]
    clock.move_to(DUE + timedelta(minutes=95))
    metrics.sync_channel(variant.channel_id)
    assert VariantMetric.objects.filter(variant=variant).count() == 8
    assert metrics.latest(variant) == {"comments": 2.0, "likes": 5.0, "reach": 400.0, "shares": 1.0}


def test_a_fake_post_reports_a_steady_reach_so_the_demo_shows_rates(clock, queue, make_post, members):
    variant = published(make_post, members, clock)
    FakeNetwork.account("salon-vk").posts[variant.external_id].update(likes=12, comments=3)
    clock.move_to(DUE + timedelta(minutes=35))
    metrics.sync_channel(variant.channel_id)
    first = metrics.latest(variant)["reach"]
    clock.move_to(DUE + timedelta(minutes=95))
    metrics.sync_channel(variant.channel_id)
    # Plausible for a salon's post, the same on every reading, and so an engagement rate can be shown.
    assert 200 <= first < 2000 and metrics.latest(variant)["reach"] == first
    figures = reports.figures(metrics.latest(variant))
    assert figures.rate == pytest.approx(15 / first)


def test_the_fake_reach_follows_the_post_id():
    # The same numbers in every process (a digest, not Python's salted hash), different per post.
    reaches = [fake_reach(post_id) for post_id in ("post1", "post2", "post3", "post17")]
    assert reaches == [407, 1501, 1889, 247]


def test_old_posts_and_broken_channels_are_not_asked(clock, queue, make_post, members):
    variant = published(make_post, members, clock)
    clock.move_to(DUE + metrics.WINDOW + timedelta(hours=1))
    assert metrics.channels_to_sync() == []
    assert metrics.sync_channel(variant.channel_id) == 0
    clock.move_to(DUE + timedelta(hours=1))
    Channel.objects.filter(pk=variant.channel_id).update(status=Channel.Status.NEEDS_RECONNECT)
    assert variant.channel_id not in metrics.channels_to_sync()
    assert metrics.sync_channel(variant.channel_id) == 0


def test_a_revoked_token_during_sync_marks_the_channel(clock, queue, make_post, members):
    variant = published(make_post, members, clock)
    FakeNetwork.account("salon-vk").revoked = True
    clock.move_to(DUE + timedelta(hours=1))
    assert metrics.sync_channel(variant.channel_id) == 0
    assert Channel.objects.get(pk=variant.channel_id).status == Channel.Status.NEEDS_RECONNECT
