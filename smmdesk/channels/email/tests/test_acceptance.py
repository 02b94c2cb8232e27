"""Issue 5 acceptance for e-mail, against real servers on loopback (pymap for IMAP, aiosmtpd for SMTP),
through the product: channel rows, poll_channel, ingest, the reply task.

- 500 messages are taken in once across connections cut in the middle of the import.
- A reply threads correctly in the receiving mailbox, and the customer's answer to it comes back into the
  same conversation.
"""

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from django.core.cache import cache
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.email.tests.conftest import mailbox_config
from smmdesk.channels.email.tests.servers import USER
from smmdesk.channels.models import Channel
from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox.ingest_tasks import poll_channel
from smmdesk.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db


def customer_mail(n: int, *, when: datetime | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {n % 50} <customer{n % 50}@example.com>"
    message["To"] = USER
    message["Subject"] = f"Question {n}"
    message["Date"] = email.utils.format_datetime(when or datetime.now(UTC))
    message["Message-ID"] = f"<q{n}@example.com>"
    message.set_content(f"Hello, question number {n}: do you work on Sunday?")
    return message.as_bytes(policy=email.policy.SMTP)


def mail_channel(cast, imap_port: int, smtp_port: int, **changes) -> Channel:
    channel = channel_actions.create_channel(
        cast.workspace, "email", "Salon mail", mailbox_config(imap_port, smtp_port, **changes)
    )
    # The credentials check records our own address, which the echo guard compares authors with.
    channel = channel_actions.check_channel(channel.pk)
    assert channel.status == Channel.Status.OK and channel.account_id == USER
    return channel


def stored_ids(channel) -> list[str]:
    return list(Message.objects.filter(channel=channel).values_list("external_id", flat=True))


def test_500_messages_come_in_once_across_cut_connections(cast, imap_server, relay, proxy):
    imap_server.deliver(*[customer_mail(n) for n in range(500)])
    channel = mail_channel(cast, proxy.port, relay.port)
    # Pages of 200 messages, fetched 50 at a time: the 3rd fetch is cut mid-page (the page's first 100
    # are kept), the 6th too (next 100 kept), the 7th at the very start of a page (that poll fails).
    proxy.cuts_at = {3, 6, 7}

    first = poll_channel(channel.pk)

    assert proxy.cuts == 3
    assert len(first.created) == 200 and Message.objects.filter(channel=channel).count() == 200
    channel.refresh_from_db()
    # A cut connection is transient: no "needs reconnect", and the cursor stands after the 200th message.
    assert channel.status == Channel.Status.OK
    uids = imap_server.uids()
    assert channel.cursor.endswith(f":{uids[199]}")

    second = poll_channel(channel.pk)

    assert len(second.created) == 300 and second.duplicates == 0
    ids = stored_ids(channel)
    assert len(ids) == 500 and set(ids) == {f"<q{n}@example.com>" for n in range(500)}
    # Again: nothing new, nothing doubled.
    assert poll_channel(channel.pk).created == []
    # Even with the cursor lost, the mailbox read again from the start doubles nothing.
    Channel.objects.filter(pk=channel.pk).update(cursor="")
    again = poll_channel(channel.pk)
    assert again.created == [] and again.duplicates == 500
    assert Message.objects.filter(channel=channel).count() == 500
    # Read through BODY.PEEK[]: the mailbox's own users still see every message unread.
    assert all("\\Seen" not in flags for flags in imap_server.flags())


def test_a_renumbered_folder_is_read_again_without_doubles(cast, imap_server, relay):
    imap_server.deliver(*[customer_mail(n) for n in range(5)])
    channel = mail_channel(cast, imap_server.port, relay.port)
    assert len(poll_channel(channel.pk).created) == 5
    old_cursor = Channel.objects.get(pk=channel.pk).cursor

    imap_server.renumber()  # new UIDVALIDITY, UIDs from 5001
    imap_server.deliver(customer_mail(5))

    result = poll_channel(channel.pk)
    assert len(result.created) == 1 and result.duplicates == 5
    cursor = Channel.objects.get(pk=channel.pk).cursor
    assert cursor.split(":")[0] != old_cursor.split(":")[0] and cursor.endswith(":5006")


@pytest.fixture
def immediate():
    cache.clear()
    HUEY.immediate = True
    yield
    HUEY.immediate = False
    cache.clear()


def answer_to(ours: email.message.EmailMessage, text: str) -> bytes:
    """What the customer's mail client sends when she presses Reply on our answer."""
    message = EmailMessage()
    message["From"] = "Anna Petrova <anna@example.com>"
    message["To"] = ours["From"]
    message["Subject"] = "Re: " + ours["Subject"]
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = "<anna-2@example.com>"
    message["In-Reply-To"] = ours["Message-ID"]
    message["References"] = f"{ours['References']} {ours['Message-ID']}"
    quoted = "\n".join("> " + line for line in ours.get_content().splitlines())
    message.set_content(f"{text}\n\nOn Tue, 11 Mar 2025, Salon Leninsky wrote:\n{quoted}\n")
    return message.as_bytes(policy=email.policy.SMTP)


def test_a_reply_threads_in_the_receiving_mailbox_and_the_answer_comes_back(
    cast, imap_server, relay, immediate, django_capture_on_commit_callbacks
):
    first = EmailMessage()
    first["From"] = "Anna Petrova <anna@example.com>"
    first["To"] = USER
    first["Subject"] = "Запись на субботу"
    first["Date"] = email.utils.format_datetime(datetime.now(UTC))
    first["Message-ID"] = "<anna-1@example.com>"
    first.set_content("Можно записаться на субботу в 11:00?")
    imap_server.deliver(first.as_bytes(policy=email.policy.SMTP))
    channel = mail_channel(cast, imap_server.port, relay.port, sent_folder="Sent")
    poll_channel(channel.pk)
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.subject == "Запись на субботу"

    manager = cast.users["smm_manager"].memberships.get(workspace=cast.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        reply = inbox_actions.reply(conversation, manager, "Да, ждём вас в субботу в 11:00.")
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT

    # What the customer's mailbox received: threaded under her message.
    assert len(relay.received) == 1
    mail_from, recipients, content = relay.received[0]
    ours = email.message_from_bytes(content, policy=email.policy.default)
    assert (mail_from, recipients) == (USER, ["anna@example.com"])
    assert ours["In-Reply-To"] == "<anna-1@example.com>"
    assert ours["References"] == "<anna-1@example.com>"
    assert ours["Subject"] == "Re: Запись на субботу"
    assert ours["Message-ID"] == reply.external_id
    assert ours.get_content().strip() == "Да, ждём вас в субботу в 11:00."
    # A copy in the Sent folder, for whoever reads the mailbox in a mail client.
    assert [m["Message-ID"] for m in map(_parsed, imap_server.contents("Sent"))] == [reply.external_id]

    # She answers our reply; the answer lands in the same conversation, without the quoted part.
    imap_server.deliver(answer_to(ours, "Спасибо, буду!"))
    result = poll_channel(channel.pk)
    assert len(result.created) == 1 and result.new_conversations == 0
    answer = Message.objects.get(pk=result.created[0])
    assert answer.conversation_id == conversation.pk
    assert answer.text == "Спасибо, буду!"
    assert answer.reply_to_external_id == reply.external_id


def _parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)
