"""VK follower count: the community's members_count from groups.getById, read with the community key."""

import pytest

from smmdesk.channels.base import AdapterError
from smmdesk.channels.vk.tests.conftest import COMMUNITY, GROUP


def test_followers_are_the_communitys_members(vk, make_adapter):
    vk.members_count = 2718
    assert make_adapter().followers() == 2718
    [call] = vk.calls("groups.getById")
    assert call["group_id"] == str(GROUP) and call["fields"] == "members_count"
    assert call["access_token"] == COMMUNITY


def test_followers_need_only_the_community_key(vk, make_adapter):
    vk.members_count = 15
    assert make_adapter(user_token=None, service_token=None).followers() == 15


def test_a_community_hiding_its_members_has_no_count(vk, make_adapter):
    vk.members_count = None
    assert make_adapter().followers() is None


def test_a_revoked_key_asks_for_reconnecting(vk, make_adapter):
    vk.revoked.add(COMMUNITY)
    with pytest.raises(AdapterError) as caught:
        make_adapter().followers()
    assert caught.value.reconnect
    assert COMMUNITY not in caught.value.message
