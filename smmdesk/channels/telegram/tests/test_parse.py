"""Every documented kind of Telegram update, from payloads shaped like core.telegram.org/bots/api, and the
webhook's secret token check."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from smmdesk.channels.base import AdapterError, ExternalRef, SignatureError
from smmdesk.channels.telegram.adapter import SECRET_HEADER, TelegramAdapter, TelegramConfig
from smmdesk.channels.telegram.updates import comment_entries, parse_update, split_ref

from .conftest import CHANNEL, SECRET, TOKEN, update

POST = "-1001500000001:42"  # the channel post the discussion fixtures comment on
GROUP = "-1001600000002"


def adapter(**changes):
    values = {"bot_token": TOKEN, "channel_chat_id": CHANNEL, "webhook_secret": SECRET, **changes}
    return TelegramAdapter(TelegramConfig(**values))


def parse(name):
    return parse_update(update(name), CHANNEL)


def hook(name_or_body, secret=SECRET, **changes):
    body = name_or_body if isinstance(name_or_body, bytes) else json.dumps(update(name_or_body)).encode()
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return adapter(**changes).parse_webhook(body, headers)


def test_private_message_is_a_dm_in_the_chat_with_the_person():
    event = parse("private_message")
    assert event.kind == "dm"
    assert event.external_id == "111000111:10"
    assert event.thread_id == "111000111"
    assert event.reply_to_id == ""
    assert (event.author_id, event.author_name, event.author_handle) == (
        "111000111",
        "Анна Петрова",
        "anna_p",
    )
    assert event.author_url == "https://t.me/anna_p"
    assert event.text == "Здравствуйте! Можно записаться на стрижку в субботу?"
    assert event.created_at == datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)
    assert event.raw["update_id"] == 500100


def test_reply_in_a_private_chat_points_at_the_answered_message():
    event = parse("private_reply")
    assert (event.kind, event.thread_id, event.reply_to_id) == ("dm", "111000111", "111000111:11")


def test_media_is_kept_as_metadata_only():
    photo = parse("private_photo")
    assert photo.text == "Вот такую стрижку хочу"  # the caption is the text
    # Only the largest size Telegram made, and no file is fetched.
    assert photo.attachments == [
        {
            "type": "photo",
            "file_id": "AgACAgIAAxkBAAIBc2large",
            "file_unique_id": "AQADlarge",
            "width": 1280,
            "height": 960,
            "file_size": 98304,
        }
    ]
    sticker = parse("sticker")
    assert sticker.text == "👍"
    assert sticker.attachments[0]["type"] == "sticker" and sticker.attachments[0]["set_name"] == "HotCherry"
    contact = parse("contact")
    assert contact.attachments == [
        {"type": "contact", "phone_number": "+79225550101", "first_name": "Анна", "user_id": 111000111}
    ]


def test_group_message_is_a_group_conversation():
    event = parse("group_message")
    assert (event.kind, event.thread_id, event.external_id) == ("chat", "-4012345678", "-4012345678:301")
    assert (event.author_id, event.author_name, event.author_handle, event.author_url) == (
        "222000222",
        "Борис",
        "",
        "",
    )


def test_supergroup_reply_keeps_the_chat_as_thread_and_the_answered_message():
    event = parse("supergroup_reply")
    assert (event.kind, event.thread_id, event.reply_to_id) == (
        "chat",
        "-1001700000003",
        "-1001700000003:40",
    )


def test_forum_topic_is_its_own_thread_and_the_topic_root_is_not_a_reply():
    first = parse("forum_topic_message")
    assert (first.kind, first.thread_id, first.reply_to_id) == ("chat", "-1001800000004/5", "")
    answer = parse("forum_topic_reply")
    assert (answer.thread_id, answer.reply_to_id) == ("-1001800000004/5", "-1001800000004:9")


@pytest.mark.parametrize("name", ["discussion_comment", "discussion_comment_legacy"])
def test_discussion_comment_belongs_to_the_channel_post(name):
    # forward_origin (Bot API 7.0+) and forward_from_chat/forward_from_message_id (before) both name it.
    event = parse(name)
    assert event.kind == "comment"
    assert event.thread_id == POST
    assert event.external_id.startswith(f"{GROUP}:")
    assert event.reply_to_id == ""


def test_reply_to_a_comment_threads_to_that_comment():
    event = parse("discussion_reply")
    assert event.reply_to_id == f"{GROUP}:71"
    assert event.raw["message"]["message_thread_id"] == 70


def test_edit_is_a_new_message_answering_the_original():
    event = parse("edited_message")
    assert event.external_id == "-4012345678:301@1732600500"
    assert event.reply_to_id == "-4012345678:301"
    assert event.text == "Кто-нибудь был у мастера Ольги на Советской?"
    assert event.created_at == datetime(2024, 11, 26, 5, 55, tzinfo=UTC)
    assert split_ref(event.external_id) == ("-4012345678", [301])


def test_message_sent_on_behalf_of_another_channel_is_from_that_channel():
    event = parse("sent_as_other_channel")
    assert (event.author_id, event.author_name, event.author_handle) == (
        "-1001900000009",
        "Beauty Orenburg",
        "beauty_oren",
    )


@pytest.mark.parametrize(
    "name",
    [
        "automatic_forward",  # the discussion group's copy of our own post
        "sent_as_channel",  # an admin answering as our channel
        "anonymous_admin",  # the group's anonymous admin: staff
        "channel_post",
        "edited_channel_post",
        "new_chat_members",  # a service message
        "my_chat_member",
        "callback_query",
    ],
)
def test_what_is_not_a_customer_message_is_left_out(name):
    assert parse(name) is None


def test_our_channel_given_by_numeric_id_is_recognised_too():
    assert parse_update(update("sent_as_channel"), "-1001500000001") is None
    # Without a configured channel, a post signed by it is somebody else's.
    assert parse_update(update("sent_as_channel"), None).author_id == "-1001500000001"


def test_webhook_with_the_secret_token_gives_the_event():
    [event] = hook("discussion_comment")
    assert event.kind == "comment" and event.thread_id == POST


def test_webhook_update_the_inbox_does_not_take_gives_nothing():
    assert hook("my_chat_member") == []


@pytest.mark.parametrize("secret", ["wrong-secret", "", None, SECRET + "x", "hook_Kp22-secret-välue"])
def test_webhook_without_the_right_secret_token_is_refused(secret):
    with pytest.raises(SignatureError) as caught:
        hook("private_message", secret=secret)
    assert SECRET not in caught.value.message


def test_webhook_on_a_channel_without_secret_is_refused():
    with pytest.raises(SignatureError, match="no webhook secret"):
        hook("private_message", secret="anything", webhook_secret=None)


def test_header_name_is_matched_without_regard_to_case():
    from django.utils.datastructures import CaseInsensitiveMapping

    body = json.dumps(update("private_message")).encode()
    headers = CaseInsensitiveMapping({"x-telegram-bot-api-secret-token": SECRET})
    assert len(adapter().parse_webhook(body, headers)) == 1


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"message": {}}', b'{"update_id": 1, "message": {"message_id": 5}}', b"\xff\xfe"],
)
def test_malformed_body_is_a_permanent_error(body):
    with pytest.raises(AdapterError) as caught:
        hook(body)
    assert caught.value.permanent and not isinstance(caught.value, SignatureError)


@pytest.mark.parametrize("secret", ["", "a" * 257, "with space", "кириллица", "semi;colon"])
def test_webhook_secret_must_be_what_telegram_accepts(secret):
    with pytest.raises(ValidationError):
        TelegramConfig(bot_token=TOKEN, webhook_secret=secret)


def test_config_accepts_the_documented_forms():
    for chat in ("@salon_news", "-1001500000001", None):
        assert TelegramConfig(bot_token=TOKEN, channel_chat_id=chat, webhook_secret="a" * 256)
    with pytest.raises(ValidationError):
        TelegramConfig(bot_token=TOKEN, channel_chat_id="https://t.me/salon_news")
    assert TelegramConfig(bot_token=TOKEN).api_url == "https://api.telegram.org"


def test_comment_entries_are_the_distinct_commenters_of_the_post():
    seen = [
        parse("discussion_comment"),  # Vera
        parse("discussion_comment_legacy"),  # Boris
        parse("discussion_reply"),  # Gleb answers Vera in the post's comment thread
        parse("group_message"),  # another chat: not an entry
        parse("private_message"),
    ]
    again = parse("discussion_comment")
    again.external_id, again.created_at = f"{GROUP}:80", datetime(2024, 11, 27, tzinfo=UTC)
    entries = comment_entries(POST, [*seen, again])
    assert [e.author_id for e in entries] == ["333000333", "222000222", "444000444"]
    assert entries[0].kinds == frozenset({"comment"})
    assert entries[0].text == "Участвую! 🎉"  # the first comment counts
    assert entries[0].created_at == datetime(2024, 11, 26, 5, 53, 20, tzinfo=UTC)
    # An album's post id matches its comments whichever message they hang on.
    assert len(comment_entries("-1001500000001:41,42,43", seen)) == 3
    assert comment_entries("-1001500000001:43", seen) == []
    assert [e.author_id for e in comment_entries(POST, seen, exclude={"333000333"})] == [
        "222000222",
        "444000444",
    ]


def test_adapter_entries_need_the_comments_seen():
    with pytest.raises(AdapterError, match="cannot list the comments") as caught:
        adapter().entries(ExternalRef(POST))
    assert caught.value.permanent
    entries = adapter().entries(ExternalRef(POST), [parse("discussion_comment"), parse("discussion_reply")])
    assert [e.author_name for e in entries] == ["Vera", "Глеб Орлов"]


def test_comment_entries_from_stored_messages_without_raw():
    # What the inbox keeps of a post's conversation: every message as a comment on the post, no raw.
    stored = [parse("discussion_comment"), parse("discussion_reply")]
    for event in stored:
        event.kind, event.thread_id, event.raw = "comment", POST, {}
    assert [e.author_id for e in comment_entries(POST, stored)] == ["333000333", "444000444"]
