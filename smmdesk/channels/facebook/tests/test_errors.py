"""How Graph API calls fail, for both Meta adapters: an invalidated token (and the channel's
needs-reconnect state with the owner told), throttling codes and usage headers, transient and permanent
errors, backoff on 429, client-side pacing, and no secret in any error text."""

from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health
from smmdesk.channels.base import AdapterError, PostVariant
from smmdesk.channels.facebook import graph
from smmdesk.channels.facebook.tests.conftest import (
    APP_SECRET,
    IG_ID,
    PAGE_ID,
    PAGE_TOKEN,
    fixture,
    ok,
    path,
)
from smmdesk.channels.models import Channel
from smmdesk.inbox import ingest_tasks
from smmdesk.inbox.models import Notification

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_an_invalidated_token_asks_for_reconnecting(mock_api, facebook):
    mock_api.route("GET", path(PAGE_ID))(ok("error_190", 400))
    with pytest.raises(AdapterError) as failed:
        facebook().check()
    assert failed.value.reconnect and "code 190/460" in failed.value.message
    assert PAGE_TOKEN not in failed.value.message and APP_SECRET not in failed.value.message


def test_a_revoked_page_token_sets_needs_reconnect_and_tells_the_owner(
    cast, mock_api, django_capture_on_commit_callbacks
):
    values = {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "graph_url": mock_api.base,
    }
    channel = channel_actions.create_channel(cast.workspace, "facebook", "Salon Page", values)
    mock_api.route("GET", path(PAGE_ID, "feed"))(ok("error_190", 400))
    # The product's own poller meets the error and records it.
    with django_capture_on_commit_callbacks(execute=True):
        ingest_tasks.poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    assert "Error validating access token" in channel.last_error
    notice = Notification.objects.get(kind="channel", membership__role="owner")
    assert channel.name in notice.text
    assert channel.pk not in ingest_tasks.channels_to_poll()


def test_a_revoked_instagram_token_does_the_same(cast, mock_api, django_capture_on_commit_callbacks):
    values = {
        "ig_user_id": IG_ID,
        "access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "graph_url": mock_api.base,
    }
    channel = channel_actions.create_channel(cast.workspace, "instagram", "Salon IG", values)
    mock_api.route("GET", path(IG_ID, "media"))(ok("error_190", 400))
    with django_capture_on_commit_callbacks(execute=True):
        ingest_tasks.poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    assert Notification.objects.filter(kind="channel").count() == 1


@time_machine.travel(NOW, tick=False)
def test_throttling_waits_for_the_time_meta_names(mock_api, facebook):
    usage = '{"104000000000001":[{"type":"pages","call_count":100,"total_cputime":12,"total_time":30,"estimated_time_to_regain_access":19}]}'
    mock_api.route("GET", path(PAGE_ID))(
        lambda r: (400, {"X-Business-Use-Case-Usage": usage}, fixture("error_throttle"))
    )
    adapter = facebook()
    with pytest.raises(AdapterError) as failed:
        adapter.check()
    assert failed.value.retry_after == 19 * 60 and not failed.value.permanent
    assert health.verdict(failed.value) == "rate_limited"
    # The account is left alone until then: the next call does not reach Meta.
    with pytest.raises(AdapterError) as again:
        adapter.check()
    assert again.value.retry_after == 19 * 60
    assert len(mock_api.calls("GET", path(PAGE_ID))) == 1


@time_machine.travel(NOW, tick=False)
def test_throttling_without_a_stated_time_waits_the_default(mock_api, facebook):
    mock_api.route("GET", path(PAGE_ID))(ok("error_app_throttle", 400))
    with pytest.raises(AdapterError) as failed:
        facebook().check()
    assert failed.value.retry_after == graph.DEFAULT_THROTTLE_WAIT


@time_machine.travel(NOW, tick=False)
def test_a_used_up_budget_stops_calls_before_meta_refuses_them(mock_api, facebook):
    usage = '{"call_count":100,"total_cputime":40,"total_time":55}'
    mock_api.route("GET", path(PAGE_ID))(lambda r: (200, {"X-App-Usage": usage}, fixture("page")))
    adapter = facebook()
    assert adapter.check().name == "Salon Leninsky"
    with pytest.raises(AdapterError) as failed:
        adapter.check()
    assert failed.value.retry_after == graph.DEFAULT_THROTTLE_WAIT
    assert len(mock_api.calls("GET", path(PAGE_ID))) == 1


def test_meta_side_hiccups_are_temporary(mock_api, facebook, no_backoff):
    mock_api.route("POST", path(PAGE_ID, "feed"))(ok("error_transient", 500))
    with pytest.raises(AdapterError) as failed:
        facebook().publish(PostVariant(text="hello"), "k1")
    assert not failed.value.permanent and failed.value.retry_after is None
    # A POST that may have arrived is not repeated by lib/http (the ledger decides).
    assert len(mock_api.calls("POST", path(PAGE_ID, "feed"))) == 1


def test_a_failing_read_is_retried_with_backoff(mock_api, facebook, no_backoff):
    mock_api.route("GET", path(PAGE_ID))(lambda r: (502, {}, "<html>Bad Gateway</html>"))
    with pytest.raises(AdapterError) as failed:
        facebook().check()
    assert not failed.value.permanent
    assert len(no_backoff) == 3 and len(mock_api.calls("GET", path(PAGE_ID))) == 4


def test_a_429_is_retried_after_the_stated_time(mock_api, facebook, no_backoff):
    answers = iter([(429, {"Retry-After": "7"}, {"error": {"message": "Too many calls", "code": 4}})])
    mock_api.route("GET", path(PAGE_ID))(lambda r: next(answers, (200, {}, fixture("page"))))
    assert facebook().check().name == "Salon Leninsky"
    assert no_backoff == [7.0]


def test_a_bad_request_is_permanent(mock_api, facebook):
    bad = {
        "error": {
            "message": "(#100) Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "fbtrace_id": "x",
        }
    }
    mock_api.route("POST", path(PAGE_ID, "feed"))(lambda r: (400, {}, bad))
    with pytest.raises(AdapterError) as failed:
        facebook().publish(PostVariant(text="hello"), "k1")
    assert failed.value.permanent and not failed.value.reconnect
    assert "Invalid parameter (code 100)" in failed.value.message


def test_an_answer_that_is_not_json_is_an_error(mock_api, facebook):
    mock_api.route("GET", path(PAGE_ID))(lambda r: (200, {"Content-Type": "text/html"}, "<html>login</html>"))
    with pytest.raises(AdapterError) as failed:
        facebook().check()
    assert "not a JSON object" in failed.value.message


@time_machine.travel(NOW, tick=False)
def test_calls_are_paced_per_account(mock_api, facebook, paced, monkeypatch):
    monkeypatch.setattr(graph, "PER_SECOND", 5.0)
    mock_api.route("GET", path(PAGE_ID))(ok("page"))
    adapter = facebook()
    for _ in range(6):
        adapter.check()
    # Five calls a second: the sixth waited for the next second.
    assert paced == [1.0]


def test_time_formats():
    assert graph.parse_time(1764150000) == datetime.fromtimestamp(1764150000, UTC)
    assert graph.parse_time(1764150000123) == datetime.fromtimestamp(1764150000.123, UTC)
    assert graph.parse_time("2026-11-26T10:05:00+0000") == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    assert graph.parse_time("2026-11-26T13:05:00+0300") == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)


def test_no_secret_reaches_the_log(mock_api, facebook, instagram, caplog):
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="httpx")  # quiet by default (settings), loud here on purpose
    mock_api.route("GET", path(PAGE_ID))(ok("page"))
    mock_api.route("GET", path(IG_ID))(ok("error_190", 400))
    facebook().check()
    with pytest.raises(AdapterError) as failed:
        instagram().check()
    logged = caplog.text + failed.value.message
    assert "HTTP Request" in caplog.text
    assert PAGE_TOKEN not in logged and APP_SECRET not in logged
