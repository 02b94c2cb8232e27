"""The VK credentials check, error classification (VK's error codes in an HTTP 200, and HTTP-level 429/5xx),
a revoked token setting *needs reconnect* with the owners told, the client-side rate budget, and no key in
any error text. Also the registry and the generated connection form."""

import logging
from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health
from smmdesk.channels.base import AccountInfo, AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import Channel
from smmdesk.channels.vk import api as vk_api
from smmdesk.channels.vk.adapter import VKAdapter
from smmdesk.channels.vk.tests.conftest import COMMUNITY, GROUP, SECRET, SERVICE, USER
from smmdesk.inbox import ingest_tasks
from smmdesk.inbox.models import Notification

KEYS = (COMMUNITY, USER, SERVICE, SECRET)


def test_check_names_the_community(vk, make_adapter):
    info = make_adapter().check()
    assert info == AccountInfo(
        external_id=f"-{GROUP}", name="Салон «Ленинский»", url="https://vk.com/salon_leninsky"
    )
    first = vk.api.calls("POST", "/method/groups.getById")[0]
    # Every call: the key and v=5.199 in the POST form, never in the address.
    assert first.form()["v"] == "5.199" and first.form()["access_token"] == COMMUNITY
    assert first.query == {}
    # The optional keys are checked too: the admin's token and the service key.
    assert [c.get("access_token") for c in vk.calls("groups.getById")] == [COMMUNITY, USER, SERVICE]


def test_check_through_the_product_records_the_community(vk, vk_channel):
    channel = channel_actions.check_channel(vk_channel.pk)
    assert channel.status == Channel.Status.OK
    assert (channel.account_id, channel.account_name) == (f"-{GROUP}", "Салон «Ленинский»")


def test_check_refuses_a_token_of_another_community(make_adapter):
    with pytest.raises(AdapterError, match=f"not {GROUP + 5}") as failed:
        make_adapter(group_id=GROUP + 5).check()
    assert failed.value.permanent and not failed.value.reconnect


def test_check_refuses_a_user_token_of_a_non_admin(vk, make_adapter):
    vk.admin = 0
    with pytest.raises(AdapterError, match="not an admin") as failed:
        make_adapter().check()
    assert failed.value.permanent


def test_check_without_optional_keys_makes_one_call(vk, make_adapter):
    make_adapter(user_token=None, service_token=None).check()
    assert len(vk.api.requests) == 1


@pytest.mark.parametrize("key", [COMMUNITY, USER, SERVICE])
def test_a_revoked_key_asks_for_reconnecting(vk, make_adapter, key):
    vk.revoked.add(key)
    with pytest.raises(AdapterError) as failed:
        make_adapter().check()
    assert failed.value.reconnect and failed.value.permanent
    assert all(k not in failed.value.message for k in KEYS)


def test_a_community_key_in_the_user_field_asks_for_reconnecting(make_adapter):
    # VK's error 27: a community key calling a method that needs a user key.
    with pytest.raises(AdapterError) as failed:
        make_adapter(user_token=COMMUNITY).publish(PostVariant(text="x"), "k")
    assert failed.value.reconnect and "admin user token" in failed.value.message


def test_revoked_token_sets_needs_reconnect_and_tells_the_owner(
    vk, vk_channel, django_capture_on_commit_callbacks
):
    vk.revoked.add(COMMUNITY)
    with pytest.raises(AdapterError) as failed:
        vk_channel.adapter().send_reply(
            OutboundReply(text="Здравствуйте", thread_id="5551001", idempotency_key="a")
        )
    assert failed.value.reconnect
    with django_capture_on_commit_callbacks(execute=True):
        assert health.record_failure(vk_channel, failed.value) == "reconnect"
    vk_channel.refresh_from_db()
    assert vk_channel.status == Channel.Status.NEEDS_RECONNECT
    notice = Notification.objects.get(kind="channel", membership__role="owner")
    assert vk_channel.name in notice.text
    assert all(k not in vk_channel.last_error for k in KEYS)


def test_the_poller_marks_a_revoked_channel_and_stops(vk, vk_channel, django_capture_on_commit_callbacks):
    vk.revoked.add(COMMUNITY)
    with django_capture_on_commit_callbacks(execute=True):
        ingest_tasks.poll_channel(vk_channel.pk)
    vk_channel.refresh_from_db()
    assert vk_channel.status == Channel.Status.NEEDS_RECONNECT
    assert Notification.objects.filter(kind="channel").count() == 1
    assert vk_channel.pk not in ingest_tasks.channels_to_poll()


def test_http_429_is_retried_after_the_stated_time(vk, make_adapter, no_backoff):
    answers = [(429, {"Retry-After": "3"}, {"error": "slow down"})]

    @vk.api.route("POST", "/method/wall.post")
    def limited(request):
        if answers:
            return answers.pop(0)
        return vk._dispatch("wall.post", request)

    ref = make_adapter().publish(PostVariant(text="Пост"), "post-429")
    assert no_backoff == [3.0]
    assert ref.external_id == f"wall-{GROUP}_{next(iter(vk.posts))}" and len(vk.posts) == 1


def test_http_429_that_persists_keeps_the_stated_wait(vk, make_adapter, no_backoff):
    vk.api.route("POST", "/method/groups.getById")(lambda r: (429, {"Retry-After": "7"}, {}))
    with pytest.raises(AdapterError) as failed:
        make_adapter().check()
    assert failed.value.retry_after == 7.0 and not failed.value.permanent
    assert no_backoff == [7.0, 7.0, 7.0]


def test_vk_error_6_waits_a_second_and_tries_again(vk, make_adapter, no_backoff):
    vk.fail("groups.getById", 6, "Too many requests per second")
    assert make_adapter(user_token=None, service_token=None).check().external_id == f"-{GROUP}"
    assert no_backoff == [1.0]
    vk.fail("groups.getById", 6, "Too many requests per second", times=3)
    with pytest.raises(AdapterError) as failed:
        make_adapter(user_token=None, service_token=None).check()
    assert failed.value.retry_after == 1.0 and not failed.value.permanent
    assert no_backoff == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "code,verdict,retry_after",
    [
        (9, "rate_limited", 60.0),  # flood control
        (29, "rate_limited", 3600.0),  # a method's daily quota
        (14, "rate_limited", 60.0),  # captcha: nobody here can solve it, so wait
        (10, "transient", None),  # VK's internal error
        (1, "transient", None),
        (15, "permanent", None),  # access denied
        (100, "permanent", None),  # a bad parameter
        (214, "permanent", None),  # posting on this wall denied
        (5, "reconnect", None),
        (27, "reconnect", None),
        (28, "reconnect", None),
    ],
)
def test_vk_error_codes_are_classified(vk, make_adapter, code, verdict, retry_after):
    vk.fail("wall.post", code, "as VK says")
    with pytest.raises(AdapterError) as failed:
        make_adapter().publish(PostVariant(text="Пост"), "k")
    assert health.verdict(failed.value) == verdict
    assert failed.value.retry_after == retry_after
    assert f"error {code}" in failed.value.message


def test_a_server_error_is_temporary(vk, make_adapter, no_backoff):
    vk.api.route("POST", "/method/groups.getById")(lambda r: (502, {}, "Bad Gateway"))
    with pytest.raises(AdapterError) as failed:
        make_adapter().check()
    assert not failed.value.permanent and not failed.value.reconnect
    # A POST is repeated only when VK surely did not act on it; a 502 may have, so no retry.
    assert no_backoff == []


def test_an_answer_that_is_not_json_is_temporary(vk, make_adapter):
    vk.api.route("POST", "/method/groups.getById")(lambda r: (200, {}, "<html>maintenance</html>"))
    with pytest.raises(AdapterError, match="not JSON") as failed:
        make_adapter().check()
    assert not failed.value.permanent


def test_client_side_rate_budget_per_key(vk, make_adapter, no_backoff, monkeypatch):
    for kind, rate in (("community", 20.0), ("user", 3.0), ("service", 3.0)):
        monkeypatch.setitem(vk_api.RATES, kind, rate)
    adapter = make_adapter(group_id=GROUP)
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, 0, 250000, tzinfo=UTC), tick=False):
        for _ in range(20):
            adapter.api.call("groups.isMember", group_id=GROUP, user_ids=[5551001])
        assert no_backoff == []
        adapter.api.call("groups.isMember", group_id=GROUP, user_ids=[5551001])
        # The 21st call of the second waits for the next one.
        assert no_backoff == [0.75]
        # Each key has its own budget: three reads with the service key, then a wait.
        for _ in range(3):
            adapter.api.call("wall.getById", "service", posts=[f"-{GROUP}_120"])
        assert no_backoff == [0.75]
        adapter.api.call("wall.getById", "service", posts=[f"-{GROUP}_120"])
        assert no_backoff == [0.75, 0.75]


def test_no_key_in_errors_or_logs(vk, make_adapter, caplog, no_backoff):
    caplog.set_level(logging.DEBUG)
    adapter = make_adapter()
    vk.revoked.update({COMMUNITY, USER, SERVICE})
    failures = []
    for call in (
        adapter.check,
        lambda: adapter.poll(None),
        lambda: adapter.publish(PostVariant(text="x"), "k"),
        lambda: adapter.send_reply(OutboundReply(text="x", thread_id="5551001")),
        lambda: adapter.entries(ExternalRef(f"wall-{GROUP}_120")),
    ):
        with pytest.raises(AdapterError) as failed:
            call()
        failures.append(failed.value.message)
    text = "\n".join(failures) + caplog.text
    assert all(k not in text for k in KEYS)


def test_registry_lists_vk_and_its_form_builds():
    [info] = [k for k in channel_actions.describe_kinds() if k.kind == "vk"]
    assert set(info.capabilities) == {"inbox", "reply", "publish", "moderate", "metrics", "entries", "search"}
    assert info.limits.max_media == 10
    form = build_form_class(VKAdapter)
    assert {"group_id", "access_token", "secret_key", "user_token", "service_token", "api_url"} <= set(
        form.base_fields
    )
    assert VKAdapter.help_text and VKAdapter.webhook_ack.body == "ok"


def test_settings_keep_keys_secret(vk_channel):
    assert all(k not in str(vk_channel.config) for k in KEYS)
    assert set(vk_channel.secrets_set()) == {"access_token", "secret_key", "service_token", "user_token"}
