"""Inbound e-mail: one raw RFC 5322 message becomes one InboundEvent.

Decoding is the standard library's (email.policy.default: MIME, RFC 2047 and 2231 headers,
quoted-printable, base64, every charset Python knows, koi8-r and windows-1251 among them). What is ours:
which part is the text, the fallbacks for mail that lies about its charset, and the threading ids.
HTML becomes text and quoted replies are cut with the hand-off mail's helpers (smmdesk.inbox.mail), so a
customer's e-mail and a department's answer are read the same way.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from smmdesk.channels.base import InboundEvent

logger = logging.getLogger(__name__)

ANGLE_ID = re.compile(r"<[^<>\s]+>")
MAX_TEXT = 50_000
MAX_ATTACHMENTS = 50
# References of a long thread: the root and the nearest ones are what threading needs.
MAX_REFERENCES = 30
UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def message_ids(value: str) -> list[str]:
    """The <id> tokens of a Message-ID, In-Reply-To or References header, in order, once each."""
    return list(dict.fromkeys(ANGLE_ID.findall(value or "")))


def _header(message: EmailMessage, name: str) -> str:
    """A header decoded to text (RFC 2047); "" when absent or beyond repair."""
    try:
        value = message.get(name)
        return " ".join(CONTROL.sub("", str(value)).split()) if value is not None else ""
    except Exception:  # noqa: BLE001 - hostile or broken headers must not cost the whole message
        return ""


def _own_id(message: EmailMessage, raw: bytes) -> str:
    value = _header(message, "Message-ID")
    found = message_ids(value)
    if found:
        return found[0]
    if value and "@" in value and " " not in value:
        return f"<{value.strip('<>')}>"
    # No usable Message-ID: the same bytes always give the same id, so a re-read is still a duplicate.
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@smmdesk.invalid>"


def _date(message: EmailMessage, internaldate: datetime | None) -> datetime:
    moment = None
    try:
        moment = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        pass
    moment = moment or internaldate or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _decode(part: EmailMessage) -> str:
    """The text of a text/* part. Mail without a charset, or with one Python does not know, is tried as
    UTF-8 and then as windows-1251 (the usual suspects in Russian mail) rather than shown as "?"."""
    declared = part.get_param("charset")
    if declared:
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content
        except (LookupError, UnicodeError, ValueError):
            pass
    payload = part.get_payload(decode=True) or b""
    for charset in ("utf-8", "windows-1251"):
        try:
            return payload.decode(charset)
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", "replace")


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body(message: EmailMessage) -> tuple[str, EmailMessage | None]:
    """The message's text and the part it came from: the plain alternative, else the HTML one as text."""
    from smmdesk.inbox.mail import html_to_text

    for kind in ("plain", "html"):
        try:
            part = message.get_body(preferencelist=(kind,))
        except (KeyError, TypeError, ValueError):
            part = None
        if part is None:
            continue
        text = _decode(part)
        if kind == "html":
            # Tags, scripts and styles go; entities are unescaped; links are dropped with the markup.
            text = html_to_text(text)
        text = _tidy(text)
        if text:
            return text, part
    return "", None


def _leaves(part: EmailMessage):
    if part.get_content_type() == "message/rfc822":
        yield part  # a forwarded message is one attachment, not a source of more parts
    elif part.is_multipart():
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


def _size(part: EmailMessage) -> int:
    try:
        if part.get_content_type() == "message/rfc822":
            return len(part.get_payload(0).as_bytes())
        return len(part.get_payload(decode=True) or b"")
    except Exception:  # noqa: BLE001 - a size is a nicety, a broken part must not cost the message
        return 0


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    # Metadata only, but the name is shown to people: no paths, no control characters.
    return UNSAFE_FILENAME.sub("_", str(name)).strip()[:255]


def attachments(message: EmailMessage, body: EmailMessage | None) -> list[dict]:
    """Filename, content type and size of every attachment; the files themselves stay in the mailbox."""
    found = []
    for part in _leaves(message):
        if part is body:
            continue
        filename = _filename(part)
        disposition = part.get_content_disposition()
        if part.get_content_maintype() == "text" and disposition != "attachment" and not filename:
            continue  # the other alternative of the body (HTML beside plain), not a file
        found.append({"filename": filename, "content_type": part.get_content_type(), "size": _size(part)})
        if len(found) >= MAX_ATTACHMENTS:
            break
    return found


def _address(message: EmailMessage, *names: str) -> tuple[str, str]:
    """(display name, lower-case address) of the first of these headers that holds an address."""
    for name in names:
        display, address = parseaddr(_header(message, name))
        if "@" in address:
            return display.strip(), address.strip().lower()
    return "", ""


def is_automatic(message: EmailMessage) -> bool:
    from smmdesk.inbox.mail import is_automatic as automatic

    try:
        return automatic(message)
    except Exception:  # noqa: BLE001
        return False


def parse_message(
    raw: bytes,
    *,
    uid: int | None = None,
    internaldate: datetime | None = None,
    skip_automatic: bool = False,
    too_large: int | None = None,
) -> InboundEvent | None:
    """The event for one message; None for an automatic one (bounce, out-of-office) when skipped.

    `too_large`: only the header was fetched because the message has this many bytes."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if skip_automatic and is_automatic(message):
        return None
    own = _own_id(message, raw)
    parents = message_ids(_header(message, "In-Reply-To"))
    references = [ref for ref in message_ids(_header(message, "References")) if ref != own]
    parent = parents[0] if parents else (references[-1] if references else "")
    # Nearest first: what it answers, then the References chain from its end back to the thread's root.
    nearest = [ref for ref in dict.fromkeys([parent, *reversed(references)]) if ref and ref != own]
    if len(nearest) > MAX_REFERENCES:
        nearest = nearest[: MAX_REFERENCES - 1] + nearest[-1:]
    name, address = _address(message, "From", "Sender", "Return-Path")
    subject = _header(message, "Subject")[:300]
    if too_large:
        text, body, files = _too_large_text(too_large), None, []
    else:
        text, body = _body(message)
        files = attachments(message, body)
    stripped = False
    if text and nearest:
        from smmdesk.inbox.mail import strip_quoted

        # A reply: the new part is what the inbox shows; the quoted history is already in the thread.
        answer = strip_quoted(text)
        stripped = bool(answer) and answer != text
        text = answer or text
    _reply_name, reply_to = _address(message, "Reply-To")
    return InboundEvent(
        external_id=own,
        kind="email",
        author_id=address or "unknown",
        author_name=name or address,
        author_handle=address,
        text=text[:MAX_TEXT],
        created_at=_date(message, internaldate),
        thread_id=references[0] if references else (parent or own),
        reply_to_id=parent,
        references=nearest,
        attachments=files,
        raw={
            "uid": uid,
            "message_id": own,
            "subject": subject,
            "from": _header(message, "From")[:300],
            "to": [a for _n, a in getaddresses([_header(message, "To")]) if a][:20],
            "cc": [a for _n, a in getaddresses([_header(message, "Cc")]) if a][:20],
            "reply_to": reply_to,
            "date": _header(message, "Date")[:100],
            "quote_removed": stripped,
            "html": body is not None and body.get_content_type() == "text/html",
        },
    )


def _too_large_text(size: int) -> str:
    from django.utils.translation import gettext as _

    return _("This e-mail is too large to show here (%(size)s MB). Open it in the mailbox.") % {
        "size": f"{size / 1_000_000:.1f}"
    }
