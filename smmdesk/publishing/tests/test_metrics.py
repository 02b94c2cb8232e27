"""The hourly metrics sync: readings per variant, one per metric and hour, in one vocabulary."""

from datetime import timedelta

from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.publishing import actions, metrics, publisher
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
    network_post.update(likes=3, reposts=1, comments=2)
    clock.move_to(DUE + timedelta(minutes=35))
    assert variant.channel_id in metrics.channels_to_sync()
    assert metrics.sync_channel(variant.channel_id) == 3
    network_post["likes"] = 5
    clock.move_to(DUE + timedelta(minutes=50))
    metrics.sync_channel(variant.channel_id)
    hour = (DUE + timedelta(minutes=35)).replace(minute=0)
    # "reposts" is stored as "shares"; the second sync in the hour overwrote, not added.
    assert readings(variant) == [("comments", 2.0, hour), ("likes", 5.0, hour), ("shares", 1.0, hour)]
    clock.move_to(DUE + timedelta(minutes=95))
    metrics.sync_channel(variant.channel_id)
    assert VariantMetric.objects.filter(variant=variant).count() == 6
    assert metrics.latest(variant) == {"comments": 2.0, "likes": 5.0, "shares": 1.0}


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
