"""Bluesky follower count: followersCount of our own profile (app.bsky.actor.getProfile)."""

import pytest

from smmdesk.channels.base import AdapterError

from .conftest import DID, HANDLE


@pytest.fixture
def profile(pds):
    """Our profile as the AppView describes it; tests change its counters."""
    shown = {"did": DID, "handle": HANDLE, "displayName": "Салон", "followersCount": 377, "followsCount": 12}

    def get_profile(request):
        return pds.authorized(request) or (200, {}, shown)

    pds.api.route("GET", "/xrpc/app.bsky.actor.getProfile")(get_profile)
    return shown


def test_followers_come_from_our_own_profile(pds, profile, make_adapter):
    profile["followersCount"] = 4096
    assert make_adapter().followers() == 4096
    [call] = pds.api.calls("GET", "/xrpc/app.bsky.actor.getProfile")
    assert call.query["actor"] == [DID]


@pytest.mark.parametrize("odd", [None, -3, "1k", True])
def test_an_odd_count_is_no_count(profile, make_adapter, odd):
    profile["followersCount"] = odd
    assert make_adapter().followers() is None


def test_a_wrong_app_password_asks_for_reconnecting(pds, profile, make_adapter):
    with pytest.raises(AdapterError) as caught:
        make_adapter(password="wrong-pass-word-0000").followers()
    assert caught.value.reconnect
