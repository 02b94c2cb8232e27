"""Acceptance: a hand-off round trip over real SMTP on loopback.

One aiosmtpd server stands in for the outgoing mail relay (smmdesk sends the hand-off through Django's
SMTP backend); a second one runs our InboundMailHandler, and the department's reply is delivered to it
with smtplib, as a mail server would. The handler works in its own thread, so the test commits.
"""

import email
import email.policy
import smtplib
import socket
import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.cache import cache
from huey.contrib.djhuey import HUEY

from smmdesk.inbox import actions, mail
from smmdesk.inbox.models import HandOff, Status, TimelineEvent
from smmdesk.inbox.tests.conversations import (
    conversation_from,
    event,
    make_channel,
    make_department,
    membership,
)

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
Kind = TimelineEvent.Kind


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Relay:
    """The outgoing relay: keeps what it is given."""

    def __init__(self):
        self.received = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def relay(settings):
    handler = Relay()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Salon desk <desk@salon.example>"
    yield handler
    controller.stop()


@pytest.fixture
def inbound():
    controller = mail.smtp_controller("127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def immediate():
    cache.clear()
    HUEY.immediate = True
    yield
    HUEY.immediate = False
    cache.clear()


def department_reply(notice: email.message.EmailMessage, text: str) -> bytes:
    """What a mail client sends when Igor presses Reply: top-posted, the notice quoted below."""
    reply = EmailMessage()
    reply["From"] = "Igor Sokolov <igor@salon.example>"
    reply["To"] = notice["Reply-To"]
    reply["Subject"] = "Re: " + notice["Subject"]
    reply["Message-ID"] = make_msgid(domain="salon.example")
    reply["In-Reply-To"] = notice["Message-ID"]
    reply["References"] = notice["Message-ID"]
    quoted = "\n".join("> " + line if line else ">" for line in notice.get_content().splitlines())
    reply.set_content(f"{text}\n\nOn Mon, 10 Mar 2025 at 09:15, {notice['From']} wrote:\n{quoted}\n")
    return reply.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as on the wire


@pytest.mark.django_db(transaction=True)
def test_hand_off_round_trip_by_e_mail(
    relay, inbound, immediate, settings, django_capture_on_commit_callbacks
):
    from conftest import make_workspace

    settings.SMMDESK_INBOUND_EMAIL_DOMAIN = "in.salon.example"
    workspace, users = make_workspace("salon", "Salon Leninsky")
    manager = membership(users["smm_manager"], workspace)
    agent = membership(users["agent"], workspace)
    billing = make_department(workspace, "Billing", members=[agent], notify_email="billing@salon.example")
    channel = make_channel(workspace)
    convo = conversation_from(
        channel, event("in-1", thread="chat-1", text="I was charged twice for my haircut.")
    )

    handoff = actions.hand_off(convo, billing.pk, "Please check the double charge.", manager)

    # Out: the notice reaches the department's address and its member through the relay.
    assert relay.arrived.wait(10)
    recipients = sorted(r for _from, rcpt_tos, _content in relay.received for r in rcpt_tos)
    assert recipients == ["agent@salon.example", "billing@salon.example"]
    notice = email.message_from_bytes(relay.received[0][2], policy=email.policy.default)
    assert notice["Reply-To"] == f"reply+{handoff.reply_token}@in.salon.example"
    assert "I was charged twice for my haircut." in notice.get_content()

    # In: Igor replies; his mail server delivers it to our SMTP receiver.
    answer = "We refunded the second charge today.\nIt shows on her card in 3 days."
    with smtplib.SMTP(inbound.hostname, inbound.port, timeout=10) as smtp:
        refused = smtp.sendmail("igor@salon.example", [notice["Reply-To"]], department_reply(notice, answer))
    assert refused == {}

    handoff = HandOff.objects.get(pk=handoff.pk)
    assert handoff.answer == answer and handoff.answered_by == "igor@salon.example"
    convo.refresh_from_db()
    assert convo.status == Status.OPEN
    steps = [
        (step.kind, step.actor_id, step.detail.get("email", ""))
        for step in TimelineEvent.objects.filter(conversation=convo).order_by("created_at", "pk")
    ]
    assert steps == [
        (Kind.CREATED, None, ""),
        (Kind.STATUS, manager.pk, ""),  # new → waiting on department
        (Kind.HANDOFF, manager.pk, ""),
        (Kind.DEPARTMENT_REPLY, None, "igor@salon.example"),
        (Kind.STATUS, None, ""),  # back to open
    ]

    # The manager replies to the customer, quoting the answer.
    with django_capture_on_commit_callbacks(execute=True):
        reply = actions.reply(convo, manager, f"Sorry for the trouble! {handoff.answer}")
    reply.refresh_from_db()
    assert reply.delivery == "sent"


@pytest.mark.django_db(transaction=True)
def test_receiver_refuses_strangers_and_unknown_tokens(inbound):
    with smtplib.SMTP(inbound.hostname, inbound.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("spam@example.net", ["postmaster@in.salon.example"], b"Subject: hi\n\nhello")
        with pytest.raises(smtplib.SMTPDataError) as error:
            smtp.sendmail(
                "igor@salon.example",
                ["reply+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@in.salon.example"],
                b"From: igor@salon.example\nSubject: Re\n\nYes",
            )
        assert error.value.smtp_code == 550


def test_run_smtp_receiver_starts_and_stops(monkeypatch):
    started = []
    original = mail.smtp_controller

    def recording(host, port):
        controller = original(host, port)
        started.append(controller)
        return controller

    monkeypatch.setattr(mail, "smtp_controller", recording)
    stop = threading.Event()
    stop.set()
    mail.run_smtp_receiver("127.0.0.1", free_port(), stop=stop)
    assert len(started) == 1 and started[0].server is None  # stopped again
