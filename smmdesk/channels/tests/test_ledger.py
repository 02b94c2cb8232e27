"""The publish ledger: one post per idempotency key, whatever the network offers."""

import pytest

from smmdesk.channels import actions, ledger
from smmdesk.channels.base import AdapterError, ExternalRef, PostVariant
from smmdesk.channels.models import PublishRecord


class Network:
    """What a network holds, as an adapter sees it; `lookup` says whether it can be asked by key."""

    def __init__(self, *, lookup: bool, idempotent: bool = False):
        self.posts: dict[str, str] = {}
        self.lookup = lookup
        self.idempotent_publish = idempotent
        self.fail_after_post = False

    def publish(self, variant, key):
        if self.idempotent_publish and key in self.posts:
            return ExternalRef(self.posts[key])
        self.posts.setdefault(key, f"post-{len(self.posts) + 1}")
        if self.fail_after_post:
            raise AdapterError("connection reset after the post was made")
        return ExternalRef(f"post-{len(self.posts)}")

    def find_published(self, key):
        if not self.lookup:
            raise AdapterError("no lookup", permanent=True)
        return ExternalRef(self.posts[key]) if key in self.posts else None


@pytest.fixture
def channel(cast):
    return actions.create_channel(
        cast.workspace, "fake", "Salon wall", {"account_id": "salon-wall", "api_token": "token-salon-wall"}
    )


VARIANT = PostVariant(text="Wedding haircuts this Saturday")


def test_the_same_key_twice_is_one_post(channel):
    network = Network(lookup=False)
    first = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    second = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert first == second and len(network.posts) == 1
    assert PublishRecord.objects.get().state == PublishRecord.State.SENT


def test_a_crash_after_posting_is_reconciled_by_lookup(channel):
    network = Network(lookup=True)
    network.fail_after_post = True
    with pytest.raises(AdapterError):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    network.fail_after_post = False
    ref = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert ref.external_id == "post-1" and len(network.posts) == 1


def test_without_lookup_or_network_idempotency_a_person_decides(channel):
    network = Network(lookup=False)
    network.fail_after_post = True
    with pytest.raises(AdapterError):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    network.fail_after_post = False
    network.posts.clear()  # say the post never made it: the ledger cannot know that
    with pytest.raises(AdapterError, match="may already have posted"):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert network.posts == {} and PublishRecord.objects.get().state == PublishRecord.State.UNCERTAIN
    ledger.publish_once(channel, VARIANT, "k1", adapter=network, confirmed_absent=True)
    assert len(network.posts) == 1 and PublishRecord.objects.get().state == PublishRecord.State.SENT


def test_a_network_that_drops_repeats_is_simply_asked_again(channel):
    network = Network(lookup=False, idempotent=True)
    network.fail_after_post = True
    with pytest.raises(AdapterError):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    network.fail_after_post = False
    ref = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert ref.external_id == "post-1" and len(network.posts) == 1


def test_a_key_is_required(channel):
    with pytest.raises(ValueError, match="idempotency key"):
        ledger.publish_once(channel, VARIANT, "", adapter=Network(lookup=True))


def test_a_rate_limited_attempt_posted_nothing_and_is_simply_retried(channel):
    network = Network(lookup=False)
    real_publish = network.publish

    def limited(variant, key):
        raise AdapterError("429 Too Many Requests", retry_after=3)

    network.publish = limited
    with pytest.raises(AdapterError):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    network.publish = real_publish
    ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert len(network.posts) == 1 and PublishRecord.objects.get().state == PublishRecord.State.SENT
