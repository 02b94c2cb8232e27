"""Telegram for listening: posts of public channels the bot is in arrive as channel_post and become
mentions only listening hears; the inbox leaves them out, and our own channel's posts stay the echo."""

from datetime import UTC, datetime

import pytest

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.telegram.updates import ALLOWED_UPDATES, parse_update
from smmdesk.inbox import ingest as inbox_ingest
from smmdesk.inbox.models import Conversation, Message

from .conftest import CHANNEL, CHANNEL_ID, TOKEN, update


def test_channel_posts_are_asked_for():
    assert "channel_post" in ALLOWED_UPDATES and "edited_channel_post" not in ALLOWED_UPDATES


def test_a_public_channel_post_is_a_listening_only_mention_by_the_channel():
    event = parse_update(update("channel_post_public"), CHANNEL)
    assert (event.kind, event.external_id, event.thread_id) == (
        "mention",
        "-1001777000123:918",
        "-1001777000123:918",
    )
    assert (event.author_id, event.author_name, event.author_handle) == (
        "-1001777000123",
        "Оренбург Онлайн",
        "oren_online",
    )
    assert event.author_url == "https://t.me/oren_online"
    assert event.raw["url"] == "https://t.me/oren_online/918"
    assert event.raw["listening_only"] is True and event.raw["update_id"] == 500600
    assert event.text.startswith("Читатели жалуются на салон «Локон»")
    assert event.created_at == datetime.fromtimestamp(1732601000, UTC)


def test_a_channel_without_a_username_gets_no_link_and_its_caption_is_the_text():
    event = parse_update(update("channel_post_private"), CHANNEL)
    assert event.author_name == "Beauty pros (private)" and event.author_handle == ""
    assert event.author_url == "" and event.raw["url"] == ""
    assert event.text == "Свадебные причёски сезона — у Локона лучшие."
    assert [a["file_id"] for a in event.attachments] == ["AgAC-large"]


@pytest.mark.parametrize("configured", [CHANNEL, str(CHANNEL_ID)])
def test_our_own_channel_posts_stay_the_echo_of_publishing(configured):
    assert parse_update(update("channel_post"), configured) is None
    # Without a configured channel the same post is somebody else's channel: heard, never in the inbox.
    assert parse_update(update("channel_post"), None).raw["listening_only"] is True


def test_a_channel_post_without_words_is_left_out():
    data = update("channel_post_public")
    data["channel_post"]["text"] = "   "
    assert parse_update(data, CHANNEL) is None


@pytest.fixture
def heard(monkeypatch):
    calls: list[tuple[int, list]] = []
    monkeypatch.setattr(
        inbox_ingest, "_listener", lambda channel_id, events: calls.append((channel_id, events))
    )
    return calls


def test_the_inbox_leaves_channel_posts_out_and_hands_them_to_listening(
    cast, heard, django_capture_on_commit_callbacks
):
    channel = channel_actions.create_channel(
        cast.workspace, "telegram", "Bot", {"bot_token": TOKEN, "channel_chat_id": CHANNEL}
    )
    post = parse_update(update("channel_post_public"), CHANNEL)
    dm = parse_update(update("private_message"), CHANNEL)
    with django_capture_on_commit_callbacks(execute=True):
        result = inbox_ingest.ingest(channel, [post, dm])
    assert len(result.created) == 1
    assert list(Message.objects.values_list("external_id", flat=True)) == [dm.external_id]
    assert Conversation.objects.count() == 1
    # Only after the batch committed, and only what listening cares about: the post, not the private chat.
    assert heard == [(channel.pk, [post])]


def test_the_hook_waits_for_the_commit(cast, heard, django_capture_on_commit_callbacks):
    channel = channel_actions.create_channel(
        cast.workspace, "telegram", "Bot", {"bot_token": TOKEN, "channel_chat_id": CHANNEL}
    )
    with django_capture_on_commit_callbacks(execute=False) as pending:
        inbox_ingest.ingest(channel, [parse_update(update("channel_post_public"), CHANNEL)])
    assert heard == [] and len(pending) == 1
