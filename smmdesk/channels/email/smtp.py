"""SMTP for the e-mail adapter: the reply message with its threading headers, and sending it.

A reply carries In-Reply-To (the message it answers) and References (that message's References plus its
Message-ID, RFC 5322 3.6.4), so the customer's mail client files it in the same thread, and so does our
own parser when the customer answers again. Its Message-ID is derived from the reply's idempotency key:
a retried send produces the very same message, which receiving servers and clients treat as one.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from contextlib import contextmanager
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from smmdesk.channels.email.imap import guarded_socket

# Prefixes mail clients put before a subject when replying, in the languages smmdesk speaks and a few more.
REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs|odp|res|ответ|отв)\s*(\[\d+\])?\s*:", re.I)
# A long thread's References keep the root and the newest ids; servers refuse endless header lines.
MAX_REFERENCES = 20


class _SMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return guarded_socket(host, port, timeout)


class _SMTPS(smtplib.SMTP_SSL):
    def _get_socket(self, host, port, timeout):
        return self.context.wrap_socket(guarded_socket(host, port, timeout), server_hostname=self._host)


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower() if "@" in address else "smmdesk.invalid"


def reply_message_id(idempotency_key: str, from_address: str) -> str:
    digest = hashlib.sha256(f"smmdesk-reply:{idempotency_key}".encode()).hexdigest()[:32]
    return f"<{digest}.reply@{domain_of(from_address)}>"


def reply_subject(subject: str, fallback: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        return fallback
    if REPLY_PREFIX.match(subject):
        return subject
    return f"Re: {subject}"


def reply_references(parent_id: str, parent_references: list[str]) -> list[str]:
    chain = [ref for ref in dict.fromkeys([*parent_references, parent_id]) if ref]
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return chain


def build_reply(
    *,
    from_address: str,
    from_name: str,
    to: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str,
    references: list[str],
) -> EmailMessage:
    message = EmailMessage()
    local, _, domain = from_address.partition("@")
    message["From"] = Address(display_name=from_name, username=local, domain=domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message.set_content(text)
    return message


@contextmanager
def session(*, host: str, port: int, security: str, username: str, password: str, timeout: float):
    """A connected, logged-in SMTP client; smtplib's exceptions go to the caller to be classified."""
    context = ssl.create_default_context()
    client = (
        _SMTPS(host, port, timeout=timeout, context=context)
        if security == "ssl"
        else _SMTP(host, port, timeout=timeout)
    )
    with client:
        client.ehlo()
        if security == "starttls":
            # An explicit context: smtplib's default one does not verify the certificate.
            client.starttls(context=context)
            client.ehlo()
        if username:
            client.login(username, password)
        yield client
