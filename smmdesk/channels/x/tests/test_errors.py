"""How the X adapter fails: revoked tokens (and the channel's needs-reconnect state with the owner told),
token refresh, 429 with backoff and X's reset time, used-up windows, paid-tier refusals, and no secret in
any error text. Also: X channels take no webhooks."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health
from smmdesk.channels.base import AdapterError, ExternalRef
from smmdesk.channels.models import Channel
from smmdesk.channels.x.tests.conftest import REFRESH, TOKEN, fixture, ok
from smmdesk.inbox import ingest_tasks
from smmdesk.inbox.models import Message, Notification, RawEvent
from smmdesk.lib import http

MENTIONS = "/2/users/1460000000000000001/mentions"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RESET = int(NOW.timestamp()) + 600


def test_a_revoked_token_asks_for_reconnecting(mock_api, make_adapter):
    mock_api.route("GET", "/2/users/me")(ok("unauthorized", 401))
    with pytest.raises(AdapterError) as failed:
        make_adapter().check()
    assert failed.value.reconnect and failed.value.permanent
    assert TOKEN not in failed.value.message


def test_a_server_error_is_temporary(mock_api, make_adapter, no_backoff):
    mock_api.route("GET", "/2/users/me")(lambda r: (503, {}, {"title": "Service Unavailable"}))
    with pytest.raises(AdapterError) as failed:
        make_adapter().check()
    assert not failed.value.permanent and not failed.value.reconnect
    # lib/http tried again with backoff before giving up.
    assert len(no_backoff) == 3


def test_revoked_token_sets_needs_reconnect_and_tells_the_owner(
    cast, mock_api, django_capture_on_commit_callbacks
):
    channel = channel_actions.create_channel(
        cast.workspace, "x", "Salon on X", {"access_token": TOKEN, "api_url": mock_api.base}
    )
    mock_api.route("GET", "/2/users/me")(ok("unauthorized", 401))
    with pytest.raises(AdapterError) as failed:
        channel.adapter().poll(None)
    with django_capture_on_commit_callbacks(execute=True):
        assert health.record_failure(channel, failed.value) == "reconnect"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    notice = Notification.objects.get(kind="channel", membership__role="owner")
    assert channel.name in notice.text
    # The poller itself does the same, and leaves the channel alone afterwards.
    assert channel.pk not in ingest_tasks.channels_to_poll()


def test_an_expired_token_is_refreshed_and_the_new_pair_kept(mock_api, make_adapter, me):
    fresh = fixture("oauth_token")

    @mock_api.route("GET", "/2/users/me")
    def users_me(request):
        if request.headers["authorization"] == f"Bearer {fresh['access_token']}":
            return 200, {}, fixture("users_me")
        return 401, {}, fixture("unauthorized")

    mock_api.route("POST", "/2/oauth2/token")(ok("oauth_token"))
    adapter = make_adapter(refresh_token=REFRESH, client_id="client-abc")
    assert adapter.check().external_id == "1460000000000000001"
    [token_call] = mock_api.calls("POST", "/2/oauth2/token")
    assert token_call.form() == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "client-abc",
    }
    # A new adapter (the next task) starts from the refreshed token, not the expired one.
    again = make_adapter(refresh_token=REFRESH, client_id="client-abc")
    again.check()
    assert mock_api.requests[-1].headers["authorization"] == f"Bearer {fresh['access_token']}"
    assert len(mock_api.calls("POST", "/2/oauth2/token")) == 1
    # X rotates refresh tokens: the next refresh must use the new one.
    mock_api.routes[("GET", "/2/users/me")] = ok("unauthorized", 401)
    mock_api.route("POST", "/2/oauth2/token")(ok("oauth_invalid_grant", 400))
    with pytest.raises(AdapterError) as failed:
        again.check()
    assert failed.value.reconnect
    assert mock_api.calls("POST", "/2/oauth2/token")[-1].form()["refresh_token"] == fresh["refresh_token"]


def test_a_confidential_client_authenticates_the_refresh(mock_api, make_adapter):
    mock_api.route("GET", "/2/users/me")(ok("unauthorized", 401))
    mock_api.route("POST", "/2/oauth2/token")(ok("oauth_invalid_grant", 400))
    adapter = make_adapter(refresh_token=REFRESH, client_id="client-abc", client_secret="s3cr3t-value-xyz")
    with pytest.raises(AdapterError) as failed:
        adapter.check()
    assert failed.value.reconnect
    [call] = mock_api.calls("POST", "/2/oauth2/token")
    assert call.headers["authorization"].startswith("Basic ")
    assert "s3cr3t-value-xyz" not in failed.value.message and REFRESH not in failed.value.message


def test_a_429_is_retried_after_backoff(mock_api, make_adapter, me, no_backoff):
    answers = iter([(429, {"x-rate-limit-remaining": "0"}, fixture("too_many_requests"))] * 2)
    mock_api.route("GET", MENTIONS)(lambda r: next(answers, (200, {}, fixture("mentions_first"))))
    events, _cursor = make_adapter().poll(None)
    assert len(events) == 2
    # X sends no Retry-After, so lib/http backed off twice (0.25-0.5 s, then 0.5-1 s) before it went through.
    assert len(no_backoff) == 2
    assert 0.25 <= no_backoff[0] <= 0.5 and 0.5 <= no_backoff[1] <= 1.0


@time_machine.travel(NOW, tick=False)
def test_a_lasting_429_waits_for_the_reset_x_named(mock_api, make_adapter, me, no_backoff):
    limited = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(RESET)}
    mock_api.route("GET", MENTIONS)(lambda r: (429, limited, fixture("too_many_requests")))
    adapter = make_adapter()
    with pytest.raises(AdapterError) as failed:
        adapter.poll(None)
    assert failed.value.retry_after == 600 and not failed.value.permanent
    assert health.verdict(failed.value) == "rate_limited"
    calls = len(mock_api.calls("GET", MENTIONS))
    # The window is used up until the reset: the next poll does not even ask.
    with pytest.raises(AdapterError) as again:
        adapter.poll(None)
    assert again.value.retry_after == 600
    assert len(mock_api.calls("GET", MENTIONS)) == calls
    # Other endpoints have their own windows.
    assert adapter.check().external_id == "1460000000000000001"


@time_machine.travel(NOW, tick=False)
def test_the_daily_post_cap_is_honoured(mock_api, make_adapter):
    capped = {
        "x-rate-limit-remaining": "80",
        "x-rate-limit-reset": str(RESET),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(int(NOW.timestamp()) + 7200),
    }
    mock_api.route("POST", "/2/tweets")(lambda r: (429, capped, fixture("too_many_requests")))
    from smmdesk.channels.base import PostVariant

    with pytest.raises(AdapterError) as failed:
        make_adapter().publish(PostVariant(text="hello"), "k")
    assert failed.value.retry_after == 7200


@time_machine.travel(NOW, tick=False)
def test_a_used_up_window_stops_calls_before_x_refuses_them(mock_api, make_adapter, me):
    last = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(RESET)}
    mock_api.route("GET", "/2/tweets")(lambda r: (200, last, fixture("tweets_metrics")))
    adapter = make_adapter()
    assert adapter.metrics([ExternalRef("1800000000000000300")])
    with pytest.raises(AdapterError) as failed:
        adapter.metrics([ExternalRef("1800000000000000300")])
    assert failed.value.retry_after == 600
    assert len(mock_api.calls("GET", "/2/tweets")) == 1


def test_a_free_plan_refusal_says_what_it_needs(mock_api, make_adapter, me):
    mock_api.route("GET", MENTIONS)(ok("client_forbidden", 403))
    with pytest.raises(AdapterError) as failed:
        make_adapter().poll(None)
    assert failed.value.permanent and not failed.value.reconnect
    assert "client-forbidden" in failed.value.message and "paid" in failed.value.message


def test_running_out_of_credits_is_permanent(mock_api, make_adapter, me):
    mock_api.route("GET", MENTIONS)(lambda r: (402, {}, {"title": "Payment Required", "status": 402}))
    with pytest.raises(AdapterError) as failed:
        make_adapter().poll(None)
    assert failed.value.permanent and "credits" in failed.value.message


def test_an_unreachable_server_is_temporary(settings, make_adapter, no_backoff):
    adapter = make_adapter(api_url="http://127.0.0.1:9")
    with pytest.raises(AdapterError) as failed:
        adapter.check()
    assert not failed.value.permanent


def test_the_ssrf_guard_still_applies_to_the_configured_address(settings, make_adapter):
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(AdapterError) as failed:
        make_adapter(api_url="http://127.0.0.1:9").check()
    assert failed.value.permanent and "loopback" in failed.value.message


def test_x_channels_take_no_webhooks(cast, client, mock_api):
    channel = channel_actions.create_channel(
        cast.workspace, "x", "Salon on X", {"access_token": TOKEN, "api_url": mock_api.base}
    )
    body = json.dumps({"for_user_id": "1460000000000000001", "tweet_create_events": []}).encode()
    response = client.post(f"/hooks/{channel.pk}/", data=body, content_type="application/json")
    assert response.status_code == 404
    assert RawEvent.objects.count() == 0 and Message.objects.count() == 0


def test_outbound_errors_name_no_token(mock_api, make_adapter, monkeypatch):
    def broken(*args, **kwargs):
        raise http.OutboundError(f"GET {mock_api.base} failed")

    monkeypatch.setattr(http, "request", broken)
    with pytest.raises(AdapterError) as failed:
        make_adapter().check()
    assert TOKEN not in failed.value.message


def test_no_secret_reaches_the_log(mock_api, make_adapter, me, caplog):
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="httpx")  # quiet by default (settings), loud here on purpose
    mock_api.route("POST", "/2/oauth2/token")(ok("oauth_token"))
    mock_api.route("GET", MENTIONS)(ok("unauthorized", 401))
    with pytest.raises(AdapterError) as failed:
        make_adapter(refresh_token=REFRESH, client_id="client-abc").poll(None)
    logged = caplog.text + failed.value.message
    assert "HTTP Request" in caplog.text
    for secret in (
        TOKEN,
        REFRESH,
        fixture("oauth_token")["access_token"],
        fixture("oauth_token")["refresh_token"],
    ):
        assert secret not in logged
