"""Hand-off e-mail: the notice to a department, and the department's reply coming back.

Each notice carries a Reply-To of `reply+<token>@<SMMDESK_INBOUND_EMAIL_DOMAIN>` and a Message-ID that
holds the same token, so a reply finds its hand-off by either. The token (24 random bytes) is what lets a
reply in: whoever can reply to the notice may answer, as with the reply addresses of issue trackers. The
answer only reaches the team in smmdesk, never the customer directly.

Replies arrive through a small SMTP receiver (`run_smtp_receiver`, aiosmtpd) behind the domain's MX, or
through anything that hands the raw message to `receive`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
import threading
import zoneinfo
from email.message import EmailMessage as ParsedMessage
from email.utils import parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import close_old_connections
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from smmdesk.inbox.models import HandOff, Message

logger = logging.getLogger(__name__)

QUOTED_MESSAGES = 3
SHORT_TEXT = 500
TELEGRAM_MAX = 4000
MAX_INBOUND_BYTES = 10 * 1024 * 1024
ANSWER_MAX = 20_000
TOKEN = r"[A-Za-z0-9_-]{16,64}"
REPLY_ADDRESS = re.compile(rf"reply\+({TOKEN})@", re.I)
MESSAGE_ID = re.compile(rf"<handoff\.({TOKEN})\.\d+@")
# Language-neutral, so a reply is cut at it whatever language the notice was written in.
MARKER = re.compile(r"^[\s>]*##-.*-##\s*$")
QUOTE_HEADER = [
    re.compile(r"^\s*On\b.*\bwrote\s*:\s*$", re.I | re.S),
    re.compile(r"^.*\bнаписал(?:\(а\)|а)?\s*:\s*$", re.I | re.S),
    re.compile(r"^.*\bnap[íi]sal(?:\(a\)|a)?\s*:\s*$", re.I | re.S),
    re.compile(r"^.*\bnapsal(?:\(a\)|a)?\s*:\s*$", re.I | re.S),
    re.compile(r"^\s*Am\b.*\bschrieb\b.*:\s*$", re.I | re.S),
    re.compile(r"^\s*Le\b.*\ba écrit\s*:\s*$", re.I | re.S),
]
# A header wrapped over lines starts with a date or a word like "On"; any line can end one.
WRAPPED_HEADER_START = re.compile(r"^\s*(On|Am|Le)\b|^\s*\d", re.I)
SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(Original Message|Forwarded message|Исходное сообщение|Пересылаемое сообщение|"
    r"Pôvodná správa|Původní zpráva|Ursprüngliche Nachricht)\s*-{2,}\s*$|^\s*_{10,}\s*$",
    re.I,
)
HEADER_FROM = re.compile(r"^\s*\*?(From|От|Od|Von|De)\s*:", re.I)
HEADER_NEXT = re.compile(
    r"^\s*\*?(Sent|Date|To|Отправлено|Дата|Кому|Odoslané|Dátum|Komu|Gesendet|Envoyé)\s*:", re.I
)
SIGNATURE = re.compile(r"^--\s?$|^\s*(Sent from my|Отправлено (с|из)|Odoslané z|Get Outlook for)\b", re.I)


class InboundMailError(Exception):
    """A reply that cannot be taken; `smtp_reply` is what the SMTP receiver answers (the sender sees it)."""

    def __init__(self, smtp_reply: str):
        super().__init__(smtp_reply)
        self.smtp_reply = smtp_reply


# --- the notice --------------------------------------------------------------------------------------


def inbound_domain() -> str:
    return getattr(settings, "SMMDESK_INBOUND_EMAIL_DOMAIN", "") or "localhost"


def conversation_url(conversation) -> str:
    base = (
        getattr(settings, "SMMDESK_PUBLIC_URL", "")
        or f"http://{settings.SMMDESK_HOST}:{settings.SMMDESK_PORT}"
    )
    slug = conversation.workspace.slug
    try:
        path = reverse("inbox:conversation", kwargs={"slug": slug, "conversation_id": conversation.pk})
    except NoReverseMatch:
        path = f"/w/{slug}/inbox/{conversation.pk}/"
    return base.rstrip("/") + path


def _local(moment, conversation) -> str:
    profile = getattr(conversation.workspace, "profile", None)
    try:
        zone = zoneinfo.ZoneInfo(profile.timezone) if profile is not None else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M")


def handoff_text(handoff: HandOff, *, short: bool = False) -> str:
    """The notice in the active language; `short` for chat messages (one customer message, cut)."""
    conversation = handoff.conversation
    by = handoff.created_by
    who = (by.user.name or by.user.email) if by is not None else _("Someone")
    lines = [
        _("%(who)s handed a conversation to %(department)s.")
        % {"who": who, "department": handoff.department},
        "",
    ]
    if handoff.note:
        lines += [_("Note:"), handoff.note, ""]
    inbound = list(
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN).order_by(
            "-received_at", "-pk"
        )[: 1 if short else QUOTED_MESSAGES]
    )[::-1]
    if inbound:
        customer = conversation.customer or inbound[-1].author_name or _("The customer")
        lines.append(
            _("%(customer)s wrote via %(channel)s:") % {"customer": customer, "channel": conversation.channel}
        )
        for message in inbound:
            text = message.text if not short else message.text[:SHORT_TEXT]
            lines.append(f"> [{_local(message.sent_at or message.received_at, conversation)}]")
            lines += [f"> {line}".rstrip() for line in text.splitlines() or [""]]
        lines.append("")
    lines.append(_("Open the conversation: %(link)s") % {"link": conversation_url(conversation)})
    text = "\n".join(lines)
    return text[:TELEGRAM_MAX] if short else text


def workspace_language(workspace) -> str:
    profile = getattr(workspace, "profile", None)
    known = dict(settings.LANGUAGES)
    return next(
        (lang for lang in (profile.languages if profile else []) if lang in known), settings.LANGUAGE_CODE
    )


def _recipients(handoff: HandOff) -> list[tuple[str, str]]:
    """(address, language) for the department's address and each active member, once per address."""
    workspace_language_ = workspace_language(handoff.conversation.workspace)
    known = dict(settings.LANGUAGES)
    found: dict[str, tuple[str, str]] = {}
    if handoff.department.notify_email:
        found[handoff.department.notify_email.lower()] = (
            handoff.department.notify_email,
            workspace_language_,
        )
    for member in handoff.department.members.select_related("user").filter(user__is_active=True):
        found.setdefault(
            member.user.email.lower(),
            (
                member.user.email,
                member.user.language if member.user.language in known else workspace_language_,
            ),
        )
    return list(found.values())


def build_handoff_messages(handoff: HandOff, connection=None) -> list[EmailMessage]:
    from smmdesk.inbox.actions import reply_address

    conversation = handoff.conversation
    subject_line = " ".join(str(conversation).split())[:120]
    messages = []
    for n, (address, language) in enumerate(_recipients(handoff)):
        with translation.override(language):
            subject = _("[%(workspace)s] For %(department)s: %(subject)s") % {
                "workspace": conversation.workspace.name,
                "department": handoff.department.name,
                "subject": subject_line,
            }
            body = "\n".join(
                [
                    "##- " + _("Please type your reply above this line") + " -##",
                    "",
                    handoff_text(handoff),
                    "",
                    _(
                        "Reply to this e-mail to answer. Your answer goes to the team in smmdesk, not to the customer."
                    ),
                ]
            )
        messages.append(
            EmailMessage(
                subject=" ".join(subject.split()),
                body=body,
                to=[address],
                reply_to=[reply_address(handoff)],
                headers={
                    "Message-ID": f"<handoff.{handoff.reply_token}.{n}@{inbound_domain()}>",
                    # Asks out-of-office responders not to answer: their answer would pass for the department's.
                    "Auto-Submitted": "auto-generated",
                    "X-Auto-Response-Suppress": "All",
                },
                connection=connection,
            )
        )
    return messages


def send_handoff(handoff: HandOff) -> int:
    """E-mail the hand-off to the department's address and its members; returns how many were sent."""
    handoff = HandOff.objects.select_related(
        "conversation__workspace__profile",
        "conversation__channel",
        "conversation__customer",
        "department",
        "created_by__user",
    ).get(pk=handoff.pk)
    connection = get_connection()
    messages = build_handoff_messages(handoff, connection)
    if not messages:
        logger.info("hand-off %s: department %s has nobody to e-mail", handoff.pk, handoff.department_id)
        return 0
    return connection.send_messages(messages) or 0


# --- the reply ---------------------------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """Text of an HTML mail, without quoted parts (blockquote, Gmail's and Outlook's quote blocks)."""

    SKIP = {"style", "script", "head", "title", "blockquote"}
    BREAK = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_tag = ""
        self.skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if self.skip_tag:
            self.skip_depth += tag == self.skip_tag
            return
        values = dict(attrs)
        quote = "gmail_quote" in (values.get("class") or "") or values.get("id") in (
            "divRplyFwdMsg",
            "appendonsend",
        )
        if (tag in self.SKIP or quote) and tag not in self.VOID:
            self.skip_tag, self.skip_depth = tag, 1
        elif tag in self.BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.skip_tag:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if not self.skip_depth:
                    self.skip_tag = ""
            return
        if tag in self.BREAK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip_tag:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return "\n".join(line.strip() for line in text.splitlines())


def _quote_header_at(lines: list[str], i: int) -> int:
    """How many lines a quote header ("On … wrote:") starting at line i takes, 0 if none starts there."""
    if not lines[i].strip() or lines[i].lstrip().startswith(">"):
        return 0
    for size in (1, 2, 3):
        window = lines[i : i + size]
        if len(window) < size or any(not line.strip() for line in window):
            break
        if size > 1 and not WRAPPED_HEADER_START.match(window[0]):
            break
        joined = " ".join(line.strip() for line in window)
        if any(pattern.match(joined) for pattern in QUOTE_HEADER):
            return size
    if SEPARATOR.match(lines[i]) or (
        HEADER_FROM.match(lines[i]) and i + 1 < len(lines) and HEADER_NEXT.match(lines[i + 1])
    ):
        return 1
    return 0


def _cut(lines: list[str], start: int = 0) -> tuple[int, int, str]:
    """(index, length, what) of the first place the answer ends: our marker, a quote header, a signature."""
    for i in range(start, len(lines)):
        if MARKER.match(lines[i]):
            return i, 1, "marker"
        size = _quote_header_at(lines, i)
        if size:
            return i, size, "quote"
        if SIGNATURE.match(lines[i]):
            return i, 1, "signature"
    return len(lines), 0, "end"


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines if not line.lstrip().startswith(">"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_quoted(text: str) -> str:
    """The new part of a reply: above our marker, a quote header or a signature, without "> " lines.

    A reply written below the quote (or between quoted lines) has nothing above: then the unquoted lines
    after the quote are the answer."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut, size, what = _cut(lines)
    answer = _tidy(lines[:cut])
    if answer or what == "signature":
        return answer
    rest = lines[cut + size :]
    kept = []
    for i, line in enumerate(rest):
        if line.lstrip().startswith(">"):
            continue
        if SIGNATURE.match(line) or MARKER.match(line):
            break
        if _quote_header_at(rest, i):
            if kept:
                break
            continue
        kept.append(line)
    return _tidy(kept)


def _body_text(message: ParsedMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def _token(message: ParsedMessage, recipients) -> str | None:
    for address in recipients:
        match = REPLY_ADDRESS.search(address or "")
        if match:
            return match.group(1)
    for header in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"):
        for value in message.get_all(header, []):
            match = REPLY_ADDRESS.search(str(value))
            if match:
                return match.group(1)
    for header in ("In-Reply-To", "References"):
        for value in message.get_all(header, []):
            match = MESSAGE_ID.search(str(value))
            if match:
                return match.group(1)
    return None


def _parse(raw: bytes) -> ParsedMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def parse_reply(raw: bytes, recipients=()) -> tuple[str | None, str, str]:
    """(hand-off token or None, the answer without quoted text, the sender's address) of a raw e-mail.

    `recipients` are the SMTP envelope's, which name the reply address even when the headers do not
    (Bcc, a forwarding alias)."""
    message = _parse(raw)
    sender = parseaddr(str(message.get("From", "")))[1].strip().lower()
    return _token(message, recipients), strip_quoted(_body_text(message))[:ANSWER_MAX], sender


def is_automatic(message: ParsedMessage) -> bool:
    """Out-of-office answers, bounces and list mail (RFC 3834): never taken as the department's answer."""
    if (str(message.get("Auto-Submitted", "no")).strip().lower() or "no") != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if message.get_content_type() == "multipart/report":
        return True
    sender = parseaddr(str(message.get("From", "")))[1].lower()
    return not sender or sender.split("@", 1)[0] in ("mailer-daemon", "postmaster")


def receive(raw: bytes, recipients=()) -> HandOff | None:
    """Take a department's e-mail reply as its answer. Returns the hand-off, or None for automatic mail.

    Raises InboundMailError for mail that names no hand-off or says nothing."""
    from smmdesk.inbox import actions

    if len(raw) > MAX_INBOUND_BYTES:
        raise InboundMailError("552 5.3.4 Message too big")
    if is_automatic(_parse(raw)):
        logger.info("inbound mail to %s ignored: automatic reply or bounce", list(recipients))
        return None
    token, text, sender = parse_reply(raw, recipients)
    handoff = (
        HandOff.objects.select_related("conversation__workspace", "department")
        .filter(reply_token=token)
        .first()
        if token
        else None
    )
    if handoff is None:
        raise InboundMailError("550 5.1.1 No hand-off is waiting for replies at this address")
    if not text:
        raise InboundMailError("550 5.6.0 The reply has no text above the quoted message")
    try:
        return actions.department_answer(handoff, text, email=sender)
    except actions.InboxError:
        handoff.refresh_from_db()
        if handoff.answered_at is None:
            # SMTP replies are ASCII: the sender's server turns this into a bounce they can read.
            raise InboundMailError("550 5.6.0 The reply could not be taken as an answer")
        # Already answered with something else: a follow-up, kept as a note rather than lost.
        actions.department_follow_up(handoff, text, sender)
        return handoff


class InboundMailHandler:
    """aiosmtpd handler: accepts mail for reply+<token>@ addresses only, and takes it in a worker thread
    (the ORM is synchronous)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not REPLY_ADDRESS.search(address or ""):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await asyncio.to_thread(_receive_in_thread, raw, list(envelope.rcpt_tos))
        except InboundMailError as exc:
            return exc.smtp_reply
        except Exception:
            logger.exception("inbound mail from %s could not be taken in", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        return "250 OK"


def _receive_in_thread(raw: bytes, recipients: list[str]) -> None:
    close_old_connections()
    try:
        receive(raw, recipients)
    finally:
        close_old_connections()


def smtp_controller(host: str = "127.0.0.1", port: int = 2525):
    """An aiosmtpd Controller running InboundMailHandler; call .start() and .stop()."""
    from aiosmtpd.controller import Controller

    return Controller(InboundMailHandler(), hostname=host, port=port, data_size_limit=MAX_INBOUND_BYTES)


def run_smtp_receiver(host: str = "127.0.0.1", port: int = 2525, stop: threading.Event | None = None) -> None:
    """Receive department replies by SMTP until `stop` is set or Ctrl-C (for `smmdesk mail-in`)."""
    controller = smtp_controller(host, port)
    controller.start()
    logger.info("receiving hand-off replies by SMTP on %s:%s", host, port)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
