"""The e-mail adapter against real servers on loopback: credentials, the UID cursor, IDLE, errors."""

import email
import email.policy
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health
from smmdesk.channels.base import AdapterError, Capability, OutboundReply
from smmdesk.channels.email import adapter as email_adapter
from smmdesk.channels.email.adapter import EmailAdapter, EmailConfig, _batches
from smmdesk.channels.email.tests.conftest import mailbox_config
from smmdesk.channels.email.tests.servers import PASSWORD, USER, Pymap, free_port
from smmdesk.channels.email.tests.test_acceptance import customer_mail
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import Channel
from smmdesk.inbox.models import Notification, RawEvent


def make(config: dict, **changes) -> EmailAdapter:
    return EmailAdapter(EmailConfig(**{**config, **changes}))


def test_kind_is_listed_and_its_form_builds():
    [info] = [k for k in channel_actions.describe_kinds() if k.kind == "email"]
    assert set(info.capabilities) == {"inbox", "reply"}
    assert info.limits.max_text == 50_000 and info.limits.max_media == 0
    form = build_form_class(EmailAdapter)()
    assert {"imap_host", "password", "smtp_host", "smtp_password", "folder", "sent_folder"} <= set(
        form.fields
    )
    assert str(EmailAdapter.help_text).startswith("1. ")


@pytest.mark.parametrize("host", ["http://imap.example.com", "imap example.com", ""])
def test_config_refuses_what_is_not_a_host_name(config, host):
    with pytest.raises(ValueError):
        EmailConfig(**{**config, "imap_host": host})


def test_check_logs_in_to_both_servers_and_names_the_mailbox(adapter, relay):
    info = adapter.check()
    assert (info.external_id, info.name) == (USER, f"Salon Leninsky <{USER}>")
    assert relay.logins == [USER]


def test_wrong_imap_password_needs_reconnect_and_tells_the_owner(
    cast, imap_server, relay, django_capture_on_commit_callbacks, caplog
):
    channel = channel_actions.create_channel(
        cast.workspace,
        "email",
        "Mail",
        mailbox_config(imap_server.port, relay.port, password="revoked-Pw-77"),
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(AdapterError) as caught:
        channel.adapter().poll(None)
    assert caught.value.reconnect and "refused the user name or password" in caught.value.message
    with django_capture_on_commit_callbacks(execute=True):
        assert health.record_failure(channel, caught.value) == "reconnect"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    [notice] = Notification.objects.filter(membership__user=cast.users["owner"])
    assert notice.kind == "channel" and "Mail" in notice.text
    assert "revoked-Pw-77" not in caught.value.message + caplog.text + channel.last_error


def test_wrong_smtp_password_needs_reconnect(config):
    with pytest.raises(AdapterError) as caught:
        make(config, smtp_password="wrong-smtp-Pw").check()
    assert caught.value.reconnect and caught.value.message.startswith("SMTP")
    assert "wrong-smtp-Pw" not in caught.value.message


def test_a_closed_port_is_transient(config):
    with pytest.raises(AdapterError) as caught:
        make(config, imap_port=free_port()).check()
    assert not caught.value.permanent and not caught.value.reconnect


def test_a_missing_folder_is_permanent(config):
    with pytest.raises(AdapterError) as caught:
        make(config, folder="Nowhere").check()
    assert caught.value.permanent and not caught.value.reconnect


def test_private_addresses_are_refused_unless_allowed(config, settings):
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(AdapterError) as caught:
        make(config).check()
    assert caught.value.permanent and "loopback" in caught.value.message


def test_poll_walks_the_folder_by_uid(adapter, imap_server):
    imap_server.deliver(customer_mail(1), customer_mail(2))
    events, cursor = adapter.poll(None)
    assert [e.external_id for e in events] == ["<q1@example.com>", "<q2@example.com>"]
    validity, last = cursor.split(":")
    assert int(last) == imap_server.uids()[-1]
    assert adapter.poll(cursor) == ([], cursor)
    imap_server.deliver(customer_mail(3))
    events, cursor = adapter.poll(cursor)
    assert [e.external_id for e in events] == ["<q3@example.com>"]
    assert cursor.startswith(validity + ":")


def test_first_connection_takes_only_the_days_asked_for(config, imap_server):
    old = datetime.now(UTC) - timedelta(days=60)
    imap_server.deliver(customer_mail(1, when=old), when=old)
    imap_server.deliver(customer_mail(2))
    events, _cursor = make(config, history_days=30).poll(None)
    assert [e.external_id for e in events] == ["<q2@example.com>"]
    events, cursor = make(config, history_days=0).poll(None)
    assert events == [] and cursor.endswith(f":{imap_server.uids()[-1]}")
    # A cursor we cannot read counts as a first connection, never as "start from UID 0".
    assert make(config, history_days=30).poll("garbage")[0][0].external_id == "<q2@example.com>"


def test_a_cut_in_the_middle_keeps_what_was_read(config, imap_server, proxy, monkeypatch):
    monkeypatch.setattr(email_adapter, "BATCH", 2)
    imap_server.deliver(*[customer_mail(n) for n in range(5)])
    adapter = make(config, imap_port=proxy.port)
    proxy.cuts_at = {2}
    events, cursor = adapter.poll(None)
    assert [e.external_id for e in events] == ["<q0@example.com>", "<q1@example.com>"]
    assert cursor.endswith(f":{imap_server.uids()[1]}")
    proxy.cuts_at = {3}  # the first fetch of the next poll: nothing read, so the poll fails
    with pytest.raises(AdapterError) as caught:
        adapter.poll(cursor)
    assert not caught.value.permanent
    events, _cursor = adapter.poll(cursor)
    assert [e.external_id for e in events] == ["<q2@example.com>", "<q3@example.com>", "<q4@example.com>"]


def test_huge_messages_are_read_for_their_headers_only(adapter, imap_server, monkeypatch):
    monkeypatch.setattr(email_adapter, "MAX_MESSAGE_BYTES", 2000)
    imap_server.deliver(customer_mail(1), customer_mail(2) + b"x" * 2000 + b"\r\n")
    events, _cursor = adapter.poll(None)
    assert "do you work on Sunday" in events[0].text
    assert events[1].raw["subject"] == "Question 2" and "MB" in events[1].text


def test_batches_respect_count_and_bytes(monkeypatch):
    monkeypatch.setattr(email_adapter, "BATCH", 2)
    monkeypatch.setattr(email_adapter, "BATCH_BYTES", 100)
    monkeypatch.setattr(email_adapter, "MAX_MESSAGE_BYTES", 1000)
    sizes = {1: 10, 2: 10, 3: 10, 4: 95, 5: 5000, 6: 10}
    assert list(_batches([1, 2, 3, 4, 5, 6, 7], sizes)) == [
        ([1, 2], False),
        ([3], False),
        ([4], False),
        ([5], True),
        ([6, 7], False),
    ]


def test_logins_are_rate_limited_without_sleeping(adapter, imap_server, no_rate_sleep):
    with time_machine.travel(datetime(2025, 3, 10, 9, 0, 0, 500_000, tzinfo=UTC), tick=False):
        for _ in range(3):
            adapter.poll(None)
    assert len(no_rate_sleep) == 1 and 0 < no_rate_sleep[0] <= 0.5


def test_idle_reports_new_mail(adapter, imap_server, proxy, config):
    watcher = make(config, imap_port=proxy.port)
    result = {}
    thread = threading.Thread(target=lambda: result.update(arrived=watcher.wait_for_mail(30)))
    thread.start()
    assert proxy.idling.wait(10)
    imap_server.deliver(customer_mail(1))
    thread.join(30)
    assert result == {"arrived": True}


def test_idle_times_out_or_is_not_offered(adapter, allow_loopback, relay):
    assert adapter.wait_for_mail(0) is False
    plain = Pymap(idle=False)
    try:
        plain.deliver(customer_mail(1))
        assert make(mailbox_config(plain.port, relay.port)).wait_for_mail(30) is False
    finally:
        plain.stop()


def reply_to(**fields) -> OutboundReply:
    return OutboundReply(
        **{
            "text": "See you on Saturday.",
            "thread_id": "<q1@example.com>",
            "reply_to_id": "<q1@example.com>",
            **fields,
        }
    )


def received(relay) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(c, policy=email.policy.default) for _f, _r, c in relay.received]


def test_the_same_reply_key_twice_sends_once(config, imap_server, relay):
    imap_server.deliver(customer_mail(1))
    adapter = make(config, sent_folder="Sent")
    first = adapter.send_reply(reply_to(idempotency_key="key-1"))
    again = adapter.send_reply(reply_to(idempotency_key="key-1"))
    assert first == again and len(relay.received) == 1
    [sent] = received(relay)
    assert sent["Message-ID"] == first.external_id and first.external_id.endswith("@salon.example>")
    assert sent["Subject"] == "Re: Question 1" and sent["To"] == "customer1@example.com"
    adapter.send_reply(reply_to(idempotency_key="key-2"))
    assert len(relay.received) == 2


def test_without_a_sent_folder_a_retry_repeats_the_same_message_id(adapter, imap_server, relay):
    imap_server.deliver(customer_mail(1))
    adapter.send_reply(reply_to(idempotency_key="key-1"))
    adapter.send_reply(reply_to(idempotency_key="key-1"))
    first, second = received(relay)
    # The receiving side keeps one message per Message-ID.
    assert first["Message-ID"] == second["Message-ID"]


def test_reply_goes_to_reply_to_and_keeps_the_references_chain(adapter, imap_server, relay):
    imap_server.deliver(
        b"From: Website <form@salon.example>\r\nReply-To: Boris <boris@example.com>\r\n"
        b"Subject: RE: Order 15\r\nMessage-ID: <m3@x.example>\r\nIn-Reply-To: <m2@x.example>\r\n"
        b"References: <m1@x.example> <m2@x.example>\r\n\r\nWhere is my order?\r\n"
    )
    adapter.send_reply(reply_to(thread_id="<m1@x.example>", reply_to_id="<m3@x.example>"))
    [sent] = received(relay)
    assert sent["To"] == "boris@example.com"
    assert sent["Subject"] == "RE: Order 15"  # not "Re: RE: ..."
    assert sent["In-Reply-To"] == "<m3@x.example>"
    assert sent["References"] == "<m1@x.example> <m2@x.example> <m3@x.example>"


def test_reply_without_the_original_in_the_mailbox(adapter, relay):
    adapter.send_reply(
        reply_to(
            thread_id="<gone-1@x.example>", reply_to_id="<gone-3@x.example>", recipient_id="vera@example.com"
        )
    )
    [sent] = received(relay)
    assert sent["To"] == "vera@example.com" and sent["Subject"] == "Re: your message"
    assert sent["In-Reply-To"] == "<gone-3@x.example>"
    assert sent["References"] == "<gone-1@x.example> <gone-3@x.example>"


def test_reply_with_nobody_to_send_to_is_permanent(adapter, relay):
    with pytest.raises(AdapterError) as caught:
        adapter.send_reply(reply_to(thread_id="<gone@x.example>", reply_to_id=""))
    assert caught.value.permanent and relay.received == []


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [("451 4.3.0 Try again later", False), ("550 5.7.1 Message refused", True)],
)
def test_smtp_refusals_are_told_apart(adapter, imap_server, relay, answer, permanent):
    imap_server.deliver(customer_mail(1))
    relay.answer = answer
    with pytest.raises(AdapterError) as caught:
        adapter.send_reply(reply_to(idempotency_key="k"))
    assert caught.value.permanent is permanent and not caught.value.reconnect
    assert answer.split()[0] in caught.value.message


def test_the_webhook_address_takes_nothing_for_a_mailbox(cast, client, imap_server, relay):
    channel = channel_actions.create_channel(
        cast.workspace, "email", "Mail", mailbox_config(imap_server.port, relay.port)
    )
    response = client.post(f"/hooks/{channel.pk}/", data=b"{}", content_type="application/json")
    assert response.status_code == 404 and RawEvent.objects.count() == 0


def test_capabilities_not_declared_are_refused(adapter):
    assert Capability.PUBLISH not in EmailAdapter.capabilities
    with pytest.raises(AdapterError) as caught:
        adapter.moderate(None, "delete")
    assert caught.value.permanent
    assert PASSWORD not in repr(adapter.config)
