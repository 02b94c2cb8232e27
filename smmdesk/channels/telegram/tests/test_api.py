"""The adapter against a local Bot API: the credentials check, polling, replies, publishing, moderation,
error classification and rate limits."""

import logging

import pytest
import time_machine

from smmdesk.channels.base import AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.lib import crypto

from .conftest import BOT_ID, CHANNEL, SECRET, TOKEN, api_answer, update

POST = "-1001500000001:42"


# --- check -------------------------------------------------------------------------------------------


def test_check_names_the_bot_and_confirms_it_may_post_in_the_channel(bot, adapter):
    bot.answer("getChatMember", "getChatMember_admin")
    info = adapter.check()
    assert info.external_id == str(BOT_ID)  # the echo guard's id: the bot's own messages are ours
    assert info.name == "Salon Helper @salon_helper_bot"
    assert info.url == "https://t.me/salon_helper_bot"
    assert bot.calls("getChatMember") == [{"chat_id": CHANNEL, "user_id": BOT_ID}]


def test_check_without_a_channel_only_asks_who_the_bot_is(bot, make_adapter):
    assert make_adapter(channel_chat_id=None).check().name == "Salon Helper @salon_helper_bot"
    assert bot.calls("getChatMember") == []


@pytest.mark.parametrize("answer", ["getChatMember_member", "chat_not_found"])
def test_check_says_when_the_bot_cannot_post_in_the_channel(bot, adapter, answer):
    bot.answer("getChatMember", answer)
    with pytest.raises(AdapterError, match="administrator") as caught:
        adapter.check()
    assert caught.value.permanent and not caught.value.reconnect


@pytest.mark.parametrize("answer", ["unauthorized", "not_found"])
def test_revoked_token_asks_for_reconnecting(bot, adapter, answer):
    bot.answer("getMe", answer)
    with pytest.raises(AdapterError) as caught:
        adapter.check()
    assert caught.value.reconnect and caught.value.permanent
    assert "no longer valid" in caught.value.message
    assert TOKEN not in caught.value.message


def test_server_error_is_temporary(bot, adapter, no_backoff):
    bot.answer("getMe", "bad_gateway")
    with pytest.raises(AdapterError) as caught:
        adapter.check()
    error = caught.value
    assert not (error.permanent or error.reconnect) and error.retry_after is None
    # A POST that may have arrived is not repeated by lib/http on a 502.
    assert len(bot.calls("getMe")) == 1


def test_unreachable_api_is_temporary_and_names_no_token(make_adapter, no_backoff):
    adapter = make_adapter(api_url="http://127.0.0.1:9")
    with pytest.raises(AdapterError) as caught:
        adapter.check()
    assert not caught.value.permanent
    assert TOKEN not in caught.value.message and "/bot" not in caught.value.message


def test_private_address_is_refused_outside_tests(bot, adapter, settings):
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(AdapterError, match="refused") as caught:
        adapter.check()
    assert caught.value.permanent


def test_token_is_known_to_the_log_filter(bot, adapter, caplog, monkeypatch):
    # As in a fresh worker process: nothing has told the filter about this token yet.
    monkeypatch.setattr(crypto, "_known_secrets", set())
    bot.answer("getChatMember", "getChatMember_admin")
    with caplog.at_level(logging.INFO):
        adapter.check()
    assert TOKEN not in crypto.redact(caplog.text)


# --- polling -------------------------------------------------------------------------------------------


def test_poll_reads_from_the_cursor_and_returns_the_next_offset(bot, adapter):
    ignored = {**update("my_chat_member"), "update_id": 500150}
    first = [update("private_message"), ignored, update("discussion_comment")]
    bot.answer(
        "getUpdates",
        {"ok": True, "result": first},
        {"ok": True, "result": [update("edited_message")]},
        "getUpdates_empty",
    )
    events, cursor = adapter.poll(None)
    assert [e.external_id for e in events] == ["111000111:10", "-1001600000002:71"]
    # Past the update the inbox does not take, too: it is not asked for again.
    assert cursor == "500301"
    events, cursor = adapter.poll(cursor)
    assert [e.kind for e in events] == ["chat"] and cursor == "500401"
    # Nothing new: the cursor stays.
    assert adapter.poll(cursor) == ([], "500401")
    calls = bot.calls("getUpdates")
    assert "offset" not in calls[0]
    assert [c.get("offset") for c in calls[1:]] == [500301, 500401]
    assert all(c["timeout"] == 0 and c["limit"] == 100 for c in calls)
    assert all(c["allowed_updates"] == ["message", "edited_message", "channel_post"] for c in calls)


def test_poll_skips_an_update_it_cannot_read_and_carries_on(bot, adapter):
    broken = {"update_id": 600000, "message": {"message_id": 1}}
    bot.answer("getUpdates", {"ok": True, "result": [broken, update("group_message")]})
    events, cursor = adapter.poll("600000")
    assert [e.external_id for e in events] == ["-4012345678:301"]
    assert cursor == "600001"


def test_poll_with_a_webhook_set_reads_nothing_and_keeps_the_cursor(bot, adapter):
    bot.answer("getUpdates", "webhook_conflict")
    assert adapter.poll("777") == ([], "777")


def test_poll_with_a_revoked_token_asks_for_reconnecting(bot, adapter):
    bot.answer("getUpdates", "unauthorized")
    with pytest.raises(AdapterError) as caught:
        adapter.poll("1")
    assert caught.value.reconnect


def test_register_webhook_passes_the_secret_and_the_update_types(bot, adapter, make_adapter):
    bot.answer("setWebhook", "true")
    adapter.register_webhook("https://smm.example/hooks/7/")
    assert bot.calls("setWebhook") == [
        {
            "url": "https://smm.example/hooks/7/",
            "secret_token": SECRET,
            "allowed_updates": ["message", "edited_message", "channel_post"],
        }
    ]
    with pytest.raises(AdapterError, match="secret"):
        make_adapter(webhook_secret=None).register_webhook("https://smm.example/hooks/7/")


# --- replies -------------------------------------------------------------------------------------------


def sent(chat, message_id=900):
    return {"ok": True, "result": {"message_id": message_id, "chat": {"id": chat, "type": "x"}, "date": 1}}


def test_reply_in_a_private_chat(bot, adapter):
    bot.answer("sendMessage", sent(111000111))
    ref = adapter.send_reply(OutboundReply("Записали на 11:00", "111000111", reply_to_id="111000111:12"))
    assert ref == ExternalRef("111000111:900", parent_id="111000111")
    assert bot.calls("sendMessage") == [{"chat_id": "111000111", "text": "Записали на 11:00"}]


def test_reply_in_a_group_quotes_the_message(bot, adapter):
    bot.answer("sendMessage", sent(-1001700000003))
    adapter.send_reply(OutboundReply("Да, открыты", "-1001700000003", reply_to_id="-1001700000003:41"))
    [params] = bot.calls("sendMessage")
    assert params["chat_id"] == "-1001700000003"
    assert params["reply_parameters"] == {"message_id": 41, "allow_sending_without_reply": True}


def test_reply_in_a_forum_topic_stays_in_the_topic(bot, adapter):
    bot.answer("sendMessage", sent(-1001800000004))
    adapter.send_reply(OutboundReply("Ждём вас", "-1001800000004/5", reply_to_id="-1001800000004:11"))
    [params] = bot.calls("sendMessage")
    assert params["message_thread_id"] == 5 and params["reply_parameters"]["message_id"] == 11


def test_reply_to_a_comment_goes_to_the_discussion_group(bot, adapter):
    bot.answer("sendMessage", sent(-1001600000002, 75))
    ref = adapter.send_reply(OutboundReply("Удачи!", POST, reply_to_id="-1001600000002:71"))
    [params] = bot.calls("sendMessage")
    assert params["chat_id"] == "-1001600000002" and params["reply_parameters"]["message_id"] == 71
    assert ref.external_id == "-1001600000002:75" and ref.parent_id == POST
    with pytest.raises(AdapterError, match="comment thread") as caught:
        adapter.send_reply(OutboundReply("Удачи!", POST))
    assert caught.value.permanent


def test_reply_follows_a_group_that_became_a_supergroup(bot, adapter):
    bot.answer("sendMessage", "migrated", sent(-1001700000003))
    ref = adapter.send_reply(OutboundReply("Здравствуйте", "-4012345678", reply_to_id="-4012345678:301"))
    assert [c["chat_id"] for c in bot.calls("sendMessage")] == ["-4012345678", "-1001700000003"]
    assert ref.external_id == "-1001700000003:900"


@pytest.mark.parametrize("answer", ["kicked", "blocked"])
def test_reply_where_the_bot_was_removed_is_permanent_not_reconnect(bot, adapter, answer):
    bot.answer("sendMessage", answer)
    with pytest.raises(AdapterError) as caught:
        adapter.send_reply(OutboundReply("?", "111000111"))
    assert caught.value.permanent and not caught.value.reconnect
    assert "Forbidden" in caught.value.message


def test_reply_over_the_length_limit_is_refused_before_sending(bot, adapter):
    with pytest.raises(AdapterError, match="4096") as caught:
        adapter.send_reply(OutboundReply("x" * 4097, "111000111"))
    assert caught.value.permanent and bot.calls("sendMessage") == []


# --- 429 and the client-side limits ----------------------------------------------------------------------


def test_flood_wait_is_retried_after_the_stated_time(bot, adapter, no_backoff):
    bot.answer("sendMessage", "flood", sent(111000111), headers={"Retry-After": "3"})
    ref = adapter.send_reply(OutboundReply("Спасибо", "111000111"))
    assert no_backoff == [3.0]
    assert ref.external_id == "111000111:900"
    assert len(bot.calls("sendMessage")) == 2


def test_long_flood_wait_goes_back_to_the_caller_with_telegrams_time(bot, adapter, no_backoff):
    bot.answer("sendMessage", "flood_long", headers={"Retry-After": "120"})
    with pytest.raises(AdapterError) as caught:
        adapter.send_reply(OutboundReply("Спасибо", "111000111"))
    assert caught.value.retry_after == 120.0 and not caught.value.permanent
    assert no_backoff == [] and len(bot.calls("sendMessage")) == 1


def test_flood_wait_in_the_body_only_still_gives_the_time(bot, adapter, no_backoff):
    bot.answer("sendMessage", "flood")
    with pytest.raises(AdapterError) as caught:
        adapter.send_reply(OutboundReply("Спасибо", "111000111"))
    # lib/http retried with its own backoff (no header to go by); the body's time reaches the caller.
    assert len(no_backoff) == 3
    assert caught.value.retry_after == 3.0


@time_machine.travel("2025-03-01 10:00:00.25", tick=False)
def test_one_message_a_second_per_private_chat(bot, adapter, pauses):
    bot.answer("sendMessage", sent(111000111))
    adapter.send_reply(OutboundReply("one", "111000111"))
    adapter.send_reply(OutboundReply("two", "111000111"))
    adapter.send_reply(OutboundReply("other chat", "222000222"))
    assert pauses == [pytest.approx(0.75)]


@time_machine.travel("2025-03-01 10:00:00", tick=False)
def test_twenty_a_minute_per_group_sends_the_caller_back_later(bot, adapter, pauses):
    bot.answer("sendMessage", sent(-4012345678))
    adapter.send_reply(OutboundReply("one", "-4012345678"))
    with pytest.raises(AdapterError) as caught:
        adapter.send_reply(OutboundReply("two", "-4012345678"))
    assert caught.value.retry_after == pytest.approx(3.0) and not caught.value.permanent
    assert len(bot.calls("sendMessage")) == 1


# --- publishing --------------------------------------------------------------------------------------------


def test_publish_text_into_the_channel(bot, adapter):
    bot.answer("sendMessage", "sendMessage_channel")
    ref = adapter.publish(PostVariant("Розыгрыш!", link="https://salon.example/promo"), "key-1")
    assert ref == ExternalRef(POST, url="https://t.me/salon_news/42")
    assert bot.calls("sendMessage") == [
        {"chat_id": CHANNEL, "text": "Розыгрыш!\n\nhttps://salon.example/promo"}
    ]


def test_publish_one_photo_with_a_caption(bot, adapter):
    bot.answer("sendPhoto", "sendPhoto_channel")
    ref = adapter.publish(PostVariant("Новые цвета", media=["https://cdn.example/a.JPG?v=2"]), "key-2")
    assert ref.external_id == "-1001500000001:44"
    assert bot.calls("sendPhoto") == [
        {"chat_id": CHANNEL, "photo": "https://cdn.example/a.JPG?v=2", "caption": "Новые цвета"}
    ]


def test_publish_an_album(bot, adapter):
    bot.answer("sendMediaGroup", "sendMediaGroup_channel")
    media = ["https://cdn.example/1.jpg", "https://cdn.example/2.png", "https://cdn.example/3.mp4"]
    ref = adapter.publish(PostVariant("Наши работы", media=media), "key-3")
    assert ref == ExternalRef("-1001500000001:45,46,47", url="https://t.me/salon_news/45")
    [params] = bot.calls("sendMediaGroup")
    assert params["media"] == [
        {"type": "photo", "media": media[0], "caption": "Наши работы"},
        {"type": "photo", "media": media[1]},
        {"type": "video", "media": media[2]},
    ]


def test_private_channel_posts_get_a_t_me_c_address(bot, make_adapter):
    answer = api_answer("sendMessage_channel")
    del answer["result"]["chat"]["username"]
    bot.answer("sendMessage", answer)
    ref = make_adapter(channel_chat_id="-1001500000001").publish(PostVariant("x"), "k")
    assert ref.url == "https://t.me/c/1500000001/42"


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        (PostVariant("x" * 4097), "4096"),
        (PostVariant("x" * 1025, media=["https://cdn.example/a.jpg"]), "1024"),
        (PostVariant("x", media=[f"https://cdn.example/{i}.jpg" for i in range(11)]), "at most 10"),
        (PostVariant("x", media=["https://cdn.example/a.jpg", "https://cdn.example/b.pdf"]), "mix"),
    ],
)
def test_publish_refuses_what_telegram_would_refuse(bot, adapter, variant, reason):
    with pytest.raises(AdapterError, match=reason) as caught:
        adapter.publish(variant, "k")
    assert caught.value.permanent
    assert bot.server.requests == []


def test_publish_without_a_channel_is_refused(bot, make_adapter):
    with pytest.raises(AdapterError, match="no channel") as caught:
        make_adapter(channel_chat_id=None).publish(PostVariant("x"), "k")
    assert caught.value.permanent


def test_publish_where_the_bot_lost_the_channel_is_permanent(bot, adapter):
    bot.answer("sendMessage", "kicked")
    with pytest.raises(AdapterError) as caught:
        adapter.publish(PostVariant("x"), "k")
    assert caught.value.permanent and not caught.value.reconnect


def test_find_published_refuses_to_guess(adapter):
    with pytest.raises(AdapterError, match="cannot look posts up") as caught:
        adapter.find_published("key-1")
    assert caught.value.permanent


def test_edit_text_and_caption(bot, adapter):
    bot.answer("editMessageText", "editMessageText")
    bot.answer("editMessageCaption", "editMessageText")
    ref = ExternalRef(POST, url="https://t.me/salon_news/42")
    assert adapter.edit(ref, PostVariant("Розыгрыш продлён до пятницы")) == ref
    adapter.edit(
        ExternalRef("-1001500000001:45,46,47"), PostVariant("Подпись", media=["https://cdn.example/1.jpg"])
    )
    assert bot.calls("editMessageText") == [
        {"chat_id": "-1001500000001", "message_id": 42, "text": "Розыгрыш продлён до пятницы"}
    ]
    assert bot.calls("editMessageCaption") == [
        {"chat_id": "-1001500000001", "message_id": 45, "caption": "Подпись"}
    ]


def test_edit_repeated_or_of_the_other_kind_still_succeeds(bot, adapter):
    bot.answer("editMessageText", "no_text", "not_modified")
    bot.answer("editMessageCaption", "not_modified")
    adapter.edit(ExternalRef("-1001500000001:44"), PostVariant("Новые цвета"))
    assert len(bot.calls("editMessageCaption")) == 1
    adapter.edit(ExternalRef(POST), PostVariant("same"))


def test_edit_of_a_message_with_neither_text_nor_caption_fails(bot, adapter):
    bot.answer("editMessageText", "no_text")
    bot.answer(
        "editMessageCaption",
        {**api_answer("no_text"), "description": "Bad Request: there is no caption in the message to edit"},
    )
    with pytest.raises(AdapterError, match="no caption") as caught:
        adapter.edit(ExternalRef(POST), PostVariant("x"))
    assert caught.value.permanent


def test_delete_a_post_and_an_album(bot, adapter):
    bot.answer("deleteMessage", "true", "delete_not_found")
    bot.answer("deleteMessages", "true")
    adapter.delete(ExternalRef(POST))
    adapter.delete(ExternalRef(POST))  # already gone: deleted all the same
    adapter.delete(ExternalRef("-1001500000001:45,46,47"))
    assert bot.calls("deleteMessages") == [{"chat_id": "-1001500000001", "message_ids": [45, 46, 47]}]


# --- moderation ---------------------------------------------------------------------------------------------


def test_moderation_deletes_the_comment(bot, adapter):
    bot.answer("deleteMessage", "true")
    adapter.moderate(ExternalRef("-1001600000002:71"), "delete")
    # An edit's id deletes the message it edited.
    adapter.moderate(ExternalRef("-4012345678:301@1732600500"), "delete")
    assert bot.calls("deleteMessage") == [
        {"chat_id": "-1001600000002", "message_id": 71},
        {"chat_id": "-4012345678", "message_id": 301},
    ]


def test_moderation_cannot_hide(bot, adapter):
    with pytest.raises(AdapterError, match="cannot be hidden") as caught:
        adapter.moderate(ExternalRef("-1001600000002:71"), "hide")
    assert caught.value.permanent and bot.calls("deleteMessage") == []


def test_moderation_without_the_right_is_permanent(bot, adapter):
    bot.answer("deleteMessage", "cant_delete")
    with pytest.raises(AdapterError, match="can't be deleted") as caught:
        adapter.moderate(ExternalRef("-1001600000002:71"), "delete")
    assert caught.value.permanent


def test_not_a_telegram_id_is_refused(adapter):
    with pytest.raises(AdapterError, match="not a Telegram message id"):
        adapter.moderate(ExternalRef("post-7"), "delete")


def test_no_metrics_for_bots(adapter):
    from smmdesk.channels.base import Capability

    # The Bot API gives bots no view or reaction counts of channel posts.
    assert Capability.METRICS not in adapter.capabilities
    with pytest.raises(AdapterError, match="does not support metrics") as caught:
        adapter.metrics([ExternalRef(POST)])
    assert caught.value.permanent
