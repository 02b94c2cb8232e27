"""The publish ledger: one post per idempotency key, whatever the network offers."""

import pytest

from smmdesk.channels import actions, ledger
from smmdesk.channels.base import AdapterError, ExternalRef, PostVariant
from smmdesk.channels.models import PublishRecord


class Network:
    """What a network holds, as an adapter sees it; `lookup` says whether it can be asked by key."""

    def __init__(self, *, lookup: bool, idempotent: bool = False, finds: bool = False):
        self.posts: dict[str, str] = {}
        self.lookup = lookup
        self.idempotent_publish = idempotent
        # The lookup is sure: "not there" means not there.
        self.finds_published = finds
        self.fail_after_post = False
        self.fail_before_post = False
        self.lookup_error: AdapterError | None = None

    def publish(self, variant, key):
        if self.fail_before_post:
            raise AdapterError("HTTP 503 Service Unavailable")
        if self.idempotent_publish and key in self.posts:
            return ExternalRef(self.posts[key])
        self.posts.setdefault(key, f"post-{len(self.posts) + 1}")
        if self.fail_after_post:
            raise AdapterError("connection reset after the post was made")
        return ExternalRef(f"post-{len(self.posts)}")

    def find_published(self, key):
        if self.lookup_error is not None:
            raise self.lookup_error
        if not self.lookup:
            raise AdapterError("no lookup", permanent=True)
        return ExternalRef(self.posts[key]) if key in self.posts else None


@pytest.fixture
def channel(cast):
    return actions.create_channel(
        cast.workspace, "fake", "Salon wall", {"account_id": "salon-wall", "api_token": "token-salon-wall"}
    )


VARIANT = PostVariant(text="Wedding haircuts this Saturday")


def failed_once(channel, network, how: str = "fail_after_post") -> None:
    """A first attempt that fails `how` (after or before the post is made); then the network behaves."""
    setattr(network, how, True)
    with pytest.raises(AdapterError):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    setattr(network, how, False)


def test_the_same_key_twice_is_one_post(channel):
    network = Network(lookup=False)
    first = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    second = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert first == second and len(network.posts) == 1
    assert PublishRecord.objects.get().state == PublishRecord.State.SENT


def test_a_crash_after_posting_is_reconciled_by_lookup(channel):
    network = Network(lookup=True)
    failed_once(channel, network)
    ref = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert ref.external_id == "post-1" and len(network.posts) == 1


def test_without_lookup_or_network_idempotency_a_person_decides(channel):
    network = Network(lookup=False)
    failed_once(channel, network)
    network.posts.clear()  # say the post never made it: the ledger cannot know that
    with pytest.raises(AdapterError, match="may already have posted"):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert network.posts == {} and PublishRecord.objects.get().state == PublishRecord.State.UNCERTAIN
    ledger.publish_once(channel, VARIANT, "k1", adapter=network, confirmed_absent=True)
    assert len(network.posts) == 1 and PublishRecord.objects.get().state == PublishRecord.State.SENT


def test_a_network_that_drops_repeats_is_simply_asked_again(channel):
    network = Network(lookup=False, idempotent=True)
    failed_once(channel, network)
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


def test_a_network_that_can_be_asked_gets_the_post_after_a_failure_before_it(channel):
    network = Network(lookup=True, finds=True)
    failed_once(channel, network, "fail_before_post")
    # Its "not there" is sure, so nobody has to confirm anything: the retry posts, once.
    ref = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert ref.external_id == "post-1" and len(network.posts) == 1
    assert PublishRecord.objects.get().state == PublishRecord.State.SENT


def test_the_same_failure_on_a_network_that_cannot_say_for_sure_waits_for_a_person(channel):
    network = Network(lookup=True)
    failed_once(channel, network, "fail_before_post")
    with pytest.raises(AdapterError, match="may already have posted"):
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert network.posts == {} and PublishRecord.objects.get().state == PublishRecord.State.UNCERTAIN


@pytest.mark.parametrize(
    "lookup_error",
    [AdapterError("lookup timed out"), AdapterError("HTTP 401", reconnect=True)],
    ids=["transient", "reconnect"],
)
def test_a_lookup_that_fails_is_not_taken_for_not_there(channel, lookup_error):
    network = Network(lookup=True, finds=True)
    failed_once(channel, network)
    network.lookup_error = lookup_error
    with pytest.raises(AdapterError) as refused:
        ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert refused.value is lookup_error and len(network.posts) == 1
    assert PublishRecord.objects.get().state == PublishRecord.State.SENDING
    network.lookup_error = None
    ref = ledger.publish_once(channel, VARIANT, "k1", adapter=network)
    assert ref.external_id == "post-1" and len(network.posts) == 1
    assert PublishRecord.objects.get().state == PublishRecord.State.SENT
