"""Mastodon follower count: followers_count of our own account (verify_credentials), against the
scripted server and against mastodon-mock, where another account really follows us."""

import httpx
import pytest

from smmdesk.channels.base import AdapterError
from smmdesk.channels.mastodon.adapter import MastodonAdapter, MastodonConfig

from .conftest import answer, load


def test_followers_come_from_verify_credentials(masto, make_adapter):
    expected = load("verify_credentials.json")["followers_count"]
    adapter = make_adapter()
    adapter.check()  # remembers the account, without its counters
    assert adapter.followers() == expected
    # Asked fresh, never from the remembered account: the count changes every day.
    assert len(masto.calls("GET", "/api/v1/accounts/verify_credentials")) == 2


def test_a_revoked_token_asks_for_reconnecting(mock_api, make_adapter):
    mock_api.route("GET", "/api/v1/accounts/verify_credentials")(
        answer({"error": "The access token was revoked"}, 401)
    )
    with pytest.raises(AdapterError) as caught:
        make_adapter().followers()
    assert caught.value.reconnect


def test_a_missing_count_is_no_count(mock_api, make_adapter):
    me = {k: v for k, v in load("verify_credentials.json").items() if k != "followers_count"}
    mock_api.route("GET", "/api/v1/accounts/verify_credentials")(answer(me))
    assert make_adapter().followers() is None


def test_a_new_follower_on_a_real_server_is_counted(mastodon_server):
    shop = MastodonAdapter(
        MastodonConfig(instance_url=mastodon_server, access_token="shop-token-123456"), channel_id=1
    )
    before = shop.followers()
    me = shop.check()
    fan = {"Authorization": "Bearer fan-token-123456"}
    httpx.post(f"{mastodon_server}/api/v1/accounts/{me.external_id}/follow", headers=fan).raise_for_status()
    assert shop.followers() == before + 1
