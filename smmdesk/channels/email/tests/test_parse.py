"""Inbound e-mail parsing, from raw messages shaped as real mail clients send them (tests/fixtures/*.eml):
charsets, transfer encodings, encoded headers, HTML, attachments and threading."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from smmdesk.channels.email.parse import message_ids, parse_message

FIXTURES = Path(__file__).parent / "fixtures"


def parsed(name: str, **options):
    return parse_message((FIXTURES / name).read_bytes(), **options)


def test_koi8_r_plain_text_and_encoded_headers():
    event = parsed("koi8r_plain.eml")
    assert event.kind == "email"
    assert event.text == "Здравствуйте!\n\nМожно записаться на стрижку в субботу, в 11:00?\n\nИван"
    assert event.raw["subject"] == "Запись на стрижку"
    assert (event.author_id, event.author_name) == ("ivan@mail.example", "Иван Петров")
    assert event.created_at == datetime(2025, 3, 11, 5, 1, 59, tzinfo=UTC)
    # A message that starts a conversation is its own thread.
    assert event.external_id == event.thread_id == "<20250311080159.4411@mail.example>"
    assert event.reply_to_id == "" and event.references == []


def test_windows_1251_html_in_base64_becomes_safe_text():
    event = parsed("cp1251_html_base64.eml")
    assert event.raw["subject"] == "Вопрос о цене" and event.author_name == "Ольга"
    assert event.text == (
        "Добрый день!\n\nЦена «окрашивания» — 3 500 ₽?\n\nСсылка: нажмите здесь\n\nСпасибо & до встречи"
    )
    # Scripts, styles, the title and the link's address are gone; only the words remain.
    for gone in ("alert", "color", "Письмо", "evil.example", "<"):
        assert gone not in event.text
    assert event.raw["html"] is True


def test_utf8_quoted_printable_prefers_the_plain_alternative():
    event = parsed("utf8_qp_alternative.eml")
    assert event.raw["subject"] == "Objednávka na manikúru"
    assert event.author_name == "Mária Kováčová"
    assert event.text == "Dobrý deň,\n\nchcela by som sa objednať na manikúru v piatok.\n\nS pozdravom\nMária"
    # The HTML alternative is the same text, not an attachment.
    assert event.attachments == [] and event.raw["html"] is False


def test_attachments_are_metadata_only():
    event = parsed("attachments.eml")
    assert event.text == "Please find the invoice attached."
    assert event.attachments == [
        {"filename": "logo.png", "content_type": "image/png", "size": 512},
        {"filename": "счёт.pdf", "content_type": "application/pdf", "size": 1016},  # RFC 2231
        {"filename": "договор.doc", "content_type": "application/msword", "size": 300},  # RFC 2047
        {"filename": "", "content_type": "message/rfc822", "size": 116},  # a forwarded e-mail, whole
        {"filename": ".._.._etc_passwd", "content_type": "application/octet-stream", "size": 10},
    ]
    # Nothing of a file's content travels with the event.
    assert all(set(item) == {"filename", "content_type", "size"} for item in event.attachments)
    assert "Forwarded body" not in event.text


def test_a_reply_threads_by_references_and_loses_its_quote():
    event = parsed("reply_gmail.eml")
    assert event.external_id == "<CAF=reply-3@mail.gmail.example>"
    assert event.reply_to_id == "<reply-2@salon.example>"
    # Nearest first: the message answered, then back along References to the thread's root.
    assert event.references == [
        "<reply-2@salon.example>",
        "<CAF=answer-2@mail.gmail.example>",
        "<reply-1@salon.example>",
        "<root-1@gmail.example>",
    ]
    assert event.thread_id == "<root-1@gmail.example>"
    assert event.text == "Yes, Saturday at 11 works for me, thank you!"
    assert event.raw["quote_removed"] is True


def test_only_in_reply_to_threads_to_the_parent():
    raw = b"From: a@x.example\r\nMessage-ID: <b@x.example>\r\nIn-Reply-To: <a@x.example> (a's message)\r\n\r\nok\r\n"
    event = parse_message(raw)
    assert event.reply_to_id == event.thread_id == "<a@x.example>"
    assert event.references == ["<a@x.example>"]


def test_automatic_mail_is_skipped_when_asked():
    assert parsed("autoreply.eml", skip_automatic=True) is None
    assert parsed("autoreply.eml", skip_automatic=False).text == "I am out of the office until Monday."


def test_broken_mail_still_comes_in():
    when = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)
    event = parsed("broken.eml", internaldate=when)
    # No charset Python knows: the bytes are tried as UTF-8, then as windows-1251.
    assert event.text == "Нужна консультация"
    # No Date: the server's arrival time. No Message-ID: one made from the bytes, the same every time.
    assert event.created_at == when
    assert event.external_id.endswith("@smmdesk.invalid>")
    assert event.external_id == parsed("broken.eml").external_id
    assert "\x00" not in event.raw["subject"]
    assert event.author_id == "someone@mail.example"


def test_too_large_mail_is_announced_not_read():
    event = parsed("attachments.eml", too_large=31_400_000)
    assert "31.4 MB" in event.text and event.attachments == []
    assert event.raw["subject"] == "Documents for the contract"


@pytest.mark.parametrize(
    ("header", "ids"),
    [
        ("<a@x> <b@y>\r\n <c@z>", ["<a@x>", "<b@y>", "<c@z>"]),
        ("<a@x> <a@x>", ["<a@x>"]),
        ("garbage", []),
        ("", []),
    ],
)
def test_message_ids(header, ids):
    assert message_ids(header) == ids
