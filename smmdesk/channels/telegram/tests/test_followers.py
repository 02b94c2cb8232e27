"""Telegram follower count: the subscribers of the channel for posts (getChatMemberCount)."""

import pytest

from smmdesk.channels.base import AdapterError

from .conftest import CHANNEL, TOKEN


def test_followers_are_the_channels_subscribers(bot, adapter):
    bot.answer("getChatMemberCount", {"ok": True, "result": 1520})
    assert adapter.followers() == 1520
    assert bot.calls("getChatMemberCount") == [{"chat_id": CHANNEL}]


def test_a_bot_without_a_channel_has_no_followers_to_count(bot, make_adapter):
    assert make_adapter(channel_chat_id=None).followers() is None
    assert bot.calls("getChatMemberCount") == []


def test_a_channel_the_bot_cannot_see_is_a_permanent_error(bot, adapter):
    bot.answer("getChatMemberCount", "chat_not_found")
    with pytest.raises(AdapterError) as caught:
        adapter.followers()
    assert caught.value.permanent and not caught.value.reconnect


def test_a_revoked_token_asks_for_reconnecting(bot, adapter):
    bot.answer("getChatMemberCount", "unauthorized")
    with pytest.raises(AdapterError) as caught:
        adapter.followers()
    assert caught.value.reconnect and TOKEN not in caught.value.message


def test_an_odd_answer_is_no_count(bot, adapter):
    bot.answer("getChatMemberCount", {"ok": True, "result": "many"})
    assert adapter.followers() is None
