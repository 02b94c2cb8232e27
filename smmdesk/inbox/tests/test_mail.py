"""The department's e-mail reply: finding its hand-off, cutting quoted text, ignoring automatic mail."""

from email.message import EmailMessage

import pytest

from smmdesk.inbox import mail
from smmdesk.inbox.models import HandOff

TOKEN = "Tk3_x-9aQ2LmP0zR7vWc1yHs5uJd8eFb"


def reply_mail(
    text,
    *,
    to=f"reply+{TOKEN}@inbound.salon.example",
    sender="Igor Sokolov <Igor@Salon.example>",
    html=None,
    headers=None,
    charset="utf-8",
):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: [Salon] For Billing: refund"
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text, charset=charset)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message.as_bytes()


GMAIL = """Yes, refund her 1500 rubles, the dye was faulty.

Igor

On Mon, Mar 10, 2025 at 9:15 AM smmdesk <noreply@salon.example>
wrote:

> ##- Please type your reply above this line -##
>
> Smm Manager handed a conversation to Billing.
"""

RUSSIAN = """Да, вернём деньги.

10 марта 2025 г., в 09:15, smmdesk <noreply@salon.example>
написал(а):
> Клиентка пишет о возврате
"""

SLOVAK = """Áno, vrátime peniaze.

Dňa po 10. 3. 2025 o 9:15 smmdesk <noreply@salon.example> napísal(a):
> Zákazníčka píše
"""

OUTLOOK = """We will call her today.

________________________________
From: smmdesk <noreply@salon.example>
Sent: Monday, March 10, 2025 9:15 AM
Subject: For Billing
"""

# The signature separator is "-- " with its trailing space (RFC 3676).
SIGNED = "Approved.\n\n-- \nIgor Sokolov, billing\n+7 3532 00-00-00\n"

INTERLEAVED = """> ##- Please type your reply above this line -##
>
> Note: can we refund her?
Yes, in full.
> Anna Petrova wrote via VK group:
> > I want my money back
"""

MOBILE = """OK, done

Sent from my iPhone

> On 10 Mar 2025, at 09:15, smmdesk wrote:
"""


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (GMAIL, "Yes, refund her 1500 rubles, the dye was faulty.\n\nIgor"),
        (RUSSIAN, "Да, вернём деньги."),
        (SLOVAK, "Áno, vrátime peniaze."),
        (OUTLOOK, "We will call her today."),
        (SIGNED, "Approved."),
        (INTERLEAVED, "Yes, in full."),
        (MOBILE, "OK, done"),
        ("Plain answer, nothing quoted.", "Plain answer, nothing quoted."),
        (
            "On second thought: yes.\nWe wrote to her already.",
            "On second thought: yes.\nWe wrote to her already.",
        ),
    ],
)
def test_quoted_text_is_stripped(body, answer):
    token, text, sender = mail.parse_reply(reply_mail(body))
    assert (token, text, sender) == (TOKEN, answer, "igor@salon.example")


def test_russian_in_a_legacy_charset():
    token, text, _ = mail.parse_reply(reply_mail(RUSSIAN, charset="koi8-r"))
    assert text == "Да, вернём деньги."


def test_html_only_reply_drops_the_gmail_quote():
    html = (
        "<div dir='ltr'>Yes, refund <b>1500&nbsp;₽</b>.<br>Igor</div><br>"
        "<div class='gmail_quote'><div class='gmail_attr'>On Mon … wrote:<br></div>"
        "<blockquote>##- Please type your reply above this line -##<br>old text</blockquote></div>"
        "<script>alert(1)</script>"
    )
    _, text, _ = mail.parse_reply(reply_mail(None, html=html))
    assert text == "Yes, refund 1500 ₽.\nIgor"


def test_plain_part_is_preferred_over_html():
    _, text, _ = mail.parse_reply(reply_mail("From the plain part", html="<p>From the HTML part</p>"))
    assert text == "From the plain part"


def test_token_from_envelope_or_references():
    raw = reply_mail("Yes", to="billing@salon.example")
    assert mail.parse_reply(raw)[0] is None
    assert mail.parse_reply(raw, [f"reply+{TOKEN}@inbound.salon.example"])[0] == TOKEN
    threaded = reply_mail(
        "Yes",
        to="billing@salon.example",
        headers={"In-Reply-To": f"<handoff.{TOKEN}.2@inbound.salon.example>"},
    )
    assert mail.parse_reply(threaded)[0] == TOKEN
    forwarded = reply_mail("Yes", to="x@salon.example", headers={"Delivered-To": f"reply+{TOKEN}@in.example"})
    assert mail.parse_reply(forwarded)[0] == TOKEN


def test_a_token_must_look_like_one():
    assert mail.parse_reply(reply_mail("Yes", to="reply+short@salon.example"))[0] is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
    ],
)
def test_automatic_mail_is_recognised(headers):
    assert mail.is_automatic(mail._parse(reply_mail("I am out of office until Monday.", headers=headers)))
    assert not mail.is_automatic(mail._parse(reply_mail("Answer", headers={"Auto-Submitted": "no"})))


def test_bounces_are_automatic():
    assert mail.is_automatic(mail._parse(reply_mail("Delivery failed", sender="MAILER-DAEMON@mx.example")))


def test_receive_rejects_unknown_addresses_and_empty_replies(db):
    with pytest.raises(mail.InboundMailError) as error:
        mail.receive(reply_mail("Yes"))
    assert error.value.smtp_reply.startswith("550")
    assert not HandOff.objects.exists()


def test_receive_ignores_out_of_office(db):
    assert mail.receive(reply_mail("Away", headers={"Auto-Submitted": "auto-replied"})) is None


def test_strip_quoted_keeps_plain_text_untouched():
    assert mail.strip_quoted("line one\r\n\r\n\r\n\r\nline two  ") == "line one\n\nline two"
