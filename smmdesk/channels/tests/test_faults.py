"""The fake network's fault injector: each kind of fault reaches the product as the error a real network's
does (lib/http's OutboundError, judged by the adapter), a lost answer comes after the write, and the
same seed gives the same faults whatever order the calls come in."""

import re

import pytest
from pydantic import SecretStr

from smmdesk.channels import health
from smmdesk.channels.base import AdapterError, OutboundReply, PostVariant
from smmdesk.channels.fake.adapter import FakeAdapter, FakeConfig, FakeNetwork
from smmdesk.channels.fake.faults import ENDPOINT, Fault, FaultConfig, FaultInjector, Kind
from smmdesk.lib import http

ACCOUNT = "shop-1"


def adapter(token="token-1") -> FakeAdapter:
    return FakeAdapter(FakeConfig(account_id=ACCOUNT, api_token=SecretStr(token)))


def inject(**config) -> FaultInjector:
    FakeNetwork.faults = FaultInjector(FaultConfig(**config))
    return FakeNetwork.faults


def reply(text="Friday at 15:00 is free", key="reply-key-1") -> OutboundReply:
    return OutboundReply(text=text, thread_id="chat-1", idempotency_key=key)


@pytest.mark.parametrize(
    ("kind", "verdict", "statuses"),
    [
        (Kind.TIMEOUT, "transient", set()),
        (Kind.RESET, "transient", set()),
        (Kind.SERVER_ERROR, "transient", {"500", "503"}),
        (Kind.RATE_LIMIT, "rate_limited", {"429"}),
    ],
)
def test_each_fault_before_the_write_is_the_error_a_real_network_gives(kind, verdict, statuses):
    injector = inject(rate=1.0, kinds=(kind,), lost_response=0.0, retry_after=7)
    with pytest.raises(AdapterError) as refused:
        adapter().send_reply(reply())
    assert health.verdict(refused.value) == verdict
    assert not refused.value.permanent and not refused.value.reconnect
    assert refused.value.retry_after == (7 if kind == Kind.RATE_LIMIT else None)
    assert refused.value.message.startswith("fake reply: POST https://fake.invalid ")
    assert set(re.findall(r"HTTP (\d+)", refused.value.message)) <= statuses
    assert ("HTTP" in refused.value.message) == bool(statuses)
    assert FakeNetwork.account(ACCOUNT).replies == {}
    assert injector.injected == {kind: 1} and injector.lost_responses == 0


@pytest.mark.parametrize("kind", [Kind.TIMEOUT, Kind.RESET, Kind.SERVER_ERROR])
def test_a_lost_answer_comes_after_the_write(kind):
    injector = inject(rate=1.0, kinds=(kind,), lost_response=1.0)
    with pytest.raises(AdapterError) as refused:
        adapter().send_reply(reply())
    assert health.verdict(refused.value) == "transient"
    assert list(FakeNetwork.account(ACCOUNT).replies) == ["reply-key-1"]
    assert injector.lost_responses == 1


def test_a_post_whose_answer_was_lost_is_there_for_the_lookup():
    FakeNetwork.account(ACCOUNT).drops_repeats = False
    inject(rate=1.0, kinds=(Kind.TIMEOUT,), lost_response=1.0)
    with pytest.raises(AdapterError):
        adapter().publish(PostVariant(text="Spring offer"), "variant-1")
    FakeNetwork.faults = None
    found = adapter().find_published("variant-1")
    assert (
        found is not None and FakeNetwork.account(ACCOUNT).posts[found.external_id]["text"] == "Spring offer"
    )
    # Without keys honoured, repeating the call posts again: only the lookup can prevent it.
    adapter().publish(PostVariant(text="Spring offer"), "variant-1")
    assert len(FakeNetwork.account(ACCOUNT).posts) == 2


def test_a_revoked_token_answers_401_until_a_new_one_is_saved():
    injector = inject(rate=0.0, revoke_after={ACCOUNT: 2})
    adapter().send_reply(reply(key="k1"))
    for key in ("k2", "k3"):
        with pytest.raises(AdapterError) as refused:
            adapter().send_reply(reply(key=key))
        assert health.verdict(refused.value) == "reconnect" and refused.value.permanent
        assert "HTTP 401" in refused.value.message
    adapter(token="token-2").send_reply(reply(key="k4"))
    assert list(FakeNetwork.account(ACCOUNT).replies) == ["k1", "k4"]
    assert injector.revoked_accounts == {ACCOUNT} and injector.injected == {Kind.REVOKED: 2}


@pytest.mark.parametrize(("status", "headers"), [(429, {"Retry-After": "2"}), (502, {}), (503, {})])
def test_an_injected_answer_is_what_lib_http_raises_for_a_real_one(mock_api, no_backoff, status, headers):
    mock_api.routes[("POST", "/api")] = lambda request: (status, headers, {"error": "busy"})
    with pytest.raises(http.OutboundError) as real:
        http.post(f"{mock_api.base}/api", retries=0)
    injected = Fault(Kind.SERVER_ERROR, status=status, retry_after=2 if status == 429 else None).error()
    assert (injected.status, injected.retry_after, injected.permanent) == (
        real.value.status,
        real.value.retry_after,
        real.value.permanent,
    )
    assert injected.message == real.value.message.replace(mock_api.base, ENDPOINT.rsplit("/", 1)[0])


def test_the_same_seed_gives_each_call_the_same_fate_in_any_order():
    subjects = [f"post {i}" for i in range(200)]

    def fates(order):
        injector = FaultInjector(FaultConfig(rate=0.3, seed=11))
        return {subject: injector.draw(ACCOUNT, "t", "publish", subject) for subject in order}

    forward, backward = fates(subjects), fates(reversed(subjects))
    assert forward == backward
    assert forward != {subject: None for subject in subjects}
    other_seed = FaultInjector(FaultConfig(rate=0.3, seed=12))
    assert forward != {subject: other_seed.draw(ACCOUNT, "t", "publish", subject) for subject in subjects}


def test_a_retry_of_the_same_call_draws_again_and_a_lookup_by_key_counts_as_its_subject():
    injector = FaultInjector(FaultConfig(rate=0.5, seed=5))
    tries = [injector.draw(ACCOUNT, "t", "publish", "offer", key="k1") for _try in range(40)]
    assert len({fault is None for fault in tries}) == 2  # each try draws anew: some fail, some pass
    by_key = [injector.draw(ACCOUNT, "t", "find_published", key="k1") for _try in range(40)]
    named = FaultInjector(FaultConfig(rate=0.5, seed=5))
    assert by_key == [named.draw(ACCOUNT, "t", "find_published", "offer") for _try in range(40)]


def test_the_rate_and_the_mix_of_kinds_hold_over_many_calls():
    injector = FaultInjector(FaultConfig(rate=0.3, seed=2))
    for i in range(4000):
        injector.draw(ACCOUNT, "t", "reply", f"reply {i}")
    assert 0.27 < injector.total / 4000 < 0.33
    assert set(injector.injected) == {Kind.TIMEOUT, Kind.RESET, Kind.SERVER_ERROR, Kind.RATE_LIMIT}
    lossy = injector.total - injector.injected[Kind.RATE_LIMIT]
    assert 0.4 < injector.lost_responses / lossy < 0.6


def test_without_an_injector_nothing_fails():
    for i in range(50):
        adapter().send_reply(reply(key=f"k{i}"))
    assert len(FakeNetwork.account(ACCOUNT).replies) == 50


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"rate": 1.5}, "rate"),
        ({"lost_response": -0.1}, "lost_response"),
        ({"retry_after": -1}, "retry_after"),
        ({"kinds": (Kind.REVOKED,)}, "kinds"),
        ({"kinds": ()}, "kinds"),
        ({"revoke_after": {"shop-9": 0}}, r"revoke_after\[shop-9\]"),
    ],
)
def test_a_bad_config_names_its_field(config, field):
    with pytest.raises(ValueError, match=field):
        FaultConfig(**config)
