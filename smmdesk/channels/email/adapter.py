"""E-mail: a mailbox read over IMAP and answered over SMTP.

Inbound: poll(cursor) walks the folder by UID. The cursor is "<UIDVALIDITY>:<last UID taken>", saved by
the product after each page is stored, so a connection that drops mid-import loses nothing and repeats
nothing: the next poll starts after the last UID whose message was handed over. A UIDVALIDITY change
(the folder was recreated or migrated, its UIDs renumbered) starts the folder again from its first
message; messages are unique per Message-ID, so the ones already taken in are not taken twice.

Outbound: send_reply() answers by SMTP with In-Reply-To and References, and a Message-ID derived from the
idempotency key. With a Sent folder configured, a copy is kept there, and a retry that finds its copy
there does not send again.

Beside this file: config.py (the settings), imap.py (the IMAP protocol), parse.py (MIME to InboundEvent),
smtp.py (the reply message).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import logging
import smtplib
import ssl
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from smmdesk.channels import ratelimit
from smmdesk.channels.base import (
    AccountInfo,
    Adapter,
    AdapterError,
    Capability,
    ExternalRef,
    InboundEvent,
    OutboundReply,
    PostLimits,
)
from smmdesk.channels.email import imap, smtp
from smmdesk.channels.email.config import EmailConfig
from smmdesk.channels.email.parse import message_ids, parse_message
from smmdesk.lib import http

logger = logging.getLogger(__name__)

TIMEOUT = 30.0
PAGE = 200  # messages per poll(), one IMAP session
BATCH = 50  # messages per FETCH
BATCH_BYTES = 20_000_000  # a FETCH's share of memory
MAX_MESSAGE_BYTES = 15_000_000  # larger messages are read for their headers only
MAX_REPLY = 50_000
# Providers limit connections rather than publishing a rate; these keep a busy poll loop polite.
IMAP_LOGINS_PER_SECOND = 2.0
SMTP_SENDS_PER_SECOND = 1.0
# RFC 5530 codes that say "later" rather than "never".
TRANSIENT_CODES = {"UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT", "CONTACTADMIN"}
PERMANENT_CODES = {"NONEXISTENT", "NOPERM", "CANNOT", "CLIENTBUG", "TOOBIG", "OVERQUOTA"}
SMTP_LOGIN_REFUSED = {530, 534, 535}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Failures of the connection itself: what poll keeps partial progress across.
DROPPED = (OSError, imaplib.IMAP4.abort)
ERRORS = (OSError, imaplib.IMAP4.error, imap.Refused, http.OutboundError, UnicodeError)

# Replaced by tests: the client-side rate limit must not sleep on the wall clock there.
_sleep = time.sleep


class EmailAdapter(Adapter):
    kind = "email"
    label = _("E-mail")
    Config = EmailConfig
    capabilities = frozenset({Capability.INBOX, Capability.REPLY})
    limits = PostLimits(max_text=MAX_REPLY, max_media=0)
    help_text = _(
        "1. Find your provider's servers. Gmail: imap.gmail.com (993, SSL/TLS) and smtp.gmail.com (587, "
        "STARTTLS). Yandex: imap.yandex.ru (993, SSL/TLS) and smtp.yandex.ru (465, SSL/TLS). Mail.ru: "
        "imap.mail.ru (993, SSL/TLS) and smtp.mail.ru (465, SSL/TLS).\n"
        "2. Turn on IMAP access in the mailbox settings if the provider asks for it (Yandex: Settings → "
        "Mail clients).\n"
        "3. Create an app password (Gmail: Google Account → Security → 2-Step Verification → App "
        "passwords; Yandex: ID → Security → App passwords; Mail.ru: Security → Passwords for external "
        "applications) and enter it instead of your usual password.\n"
        "4. Save, then press Check: the mailbox's address is shown when both servers accept the login.\n"
        "Mail is read without marking it read; replies are sent from the address above."
    )

    # --- credentials ---------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        with self._imap() as box:
            box.examine(self.config.folder)
        try:
            with smtp.session(**self._smtp_server()):
                pass
        except ERRORS as exc:
            raise _classify(exc, "SMTP") from None
        address = self.config.from_address.lower()
        name = f"{self.config.from_name} <{address}>" if self.config.from_name else address
        return AccountInfo(external_id=address, name=name, url="")

    # --- inbound -------------------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        validity, last = _parse_cursor(cursor)
        with self._imap() as box:
            folder = box.examine(self.config.folder)
            if validity != folder.uidvalidity:
                # None: the first connection. Otherwise the folder was renumbered: start it again.
                last = self._first_uid(box, folder) - 1 if validity is None else 0
            uids = [uid for uid in box.search("UID", f"{last + 1}:*") if uid > last][:PAGE]
            events, done = self._read(box, uids, last)
        return events, f"{folder.uidvalidity}:{done}"

    def _first_uid(self, box: imap.Mailbox, folder: imap.Folder) -> int:
        """Where a new channel starts: the first message of the last `history_days`, else the next one."""
        newest = (folder.uidnext - 1) if folder.uidnext else max(box.search("ALL") or [0])
        if not self.config.history_days:
            return newest + 1
        day = datetime.now(UTC).date() - timedelta(days=self.config.history_days)
        found = box.search("SINCE", f"{day.day}-{MONTHS[day.month - 1]}-{day.year}")
        return found[0] if found else newest + 1

    def _read(self, box: imap.Mailbox, uids: list[int], last: int) -> tuple[list[InboundEvent], int]:
        """The events of these UIDs and the last UID read. A connection that drops after some batches
        keeps those (the cursor stops after them); one that drops before any is an error."""
        events: list[InboundEvent] = []
        done = last
        try:
            sizes = box.sizes(uids) if uids else {}
            for batch, header_only in _batches(uids, sizes):
                section = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"
                for item in box.fetch(batch, section):
                    event = self._event(item, sizes.get(item.uid) if header_only else None)
                    if event is not None:
                        events.append(event)
                done = batch[-1]
        except DROPPED as exc:
            if done == last:
                raise
            logger.warning(
                "channel %s: IMAP connection lost after UID %s, the rest comes next time: %s",
                self.channel_id,
                done,
                exc,
            )
            return events, done
        return events, (uids[-1] if uids else last)

    def _event(self, item: imap.Fetched, too_large: int | None) -> InboundEvent | None:
        try:
            return parse_message(
                item.raw,
                uid=item.uid,
                internaldate=item.internaldate,
                skip_automatic=self.config.skip_automatic,
                too_large=too_large,
            )
        except Exception:  # noqa: BLE001 - one unreadable e-mail must not stop the mailbox
            logger.exception("channel %s: e-mail UID %s could not be read", self.channel_id, item.uid)
            return InboundEvent(
                external_id=f"<{hashlib.sha256(item.raw).hexdigest()[:40]}@smmdesk.invalid>",
                kind="email",
                author_id="unknown",
                author_name="",
                text=gettext_now("This e-mail could not be read. Open it in the mailbox."),
                created_at=item.internaldate or datetime.now(UTC),
                raw={"uid": item.uid},
            )

    def wait_for_mail(self, timeout: float) -> bool:
        """For a long-running watcher: True as soon as the server reports new mail in the folder (IMAP
        IDLE), False after `timeout` seconds or when the server offers no IDLE. Then call poll()."""
        with self._imap() as box:
            box.examine(self.config.folder)
            return box.wait_for_exists(timeout)

    # --- replies -------------------------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        config = self.config
        if len(reply.text) > self.limits.max_text:
            raise AdapterError(f"the reply is longer than {self.limits.max_text} characters", permanent=True)
        key = reply.idempotency_key or uuid.uuid4().hex
        message_id = smtp.reply_message_id(key, config.from_address)
        ref = ExternalRef(external_id=message_id, parent_id=reply.thread_id)
        parent_id = reply.reply_to_id or reply.thread_id
        box = self._imap_if_possible()
        try:
            if (
                box is not None
                and config.sent_folder
                and self._in_folder(box, config.sent_folder, message_id)
            ):
                return ref  # sent before, by an attempt that did not live to record it
            parent = self._parent(box, parent_id) if box is not None and parent_id else {}
            recipient = parent.get("reply_to") or parent.get("from") or reply.recipient_id
            if "@" not in recipient:
                raise AdapterError("e-mail reply: no address to send it to", permanent=True)
            message = smtp.build_reply(
                from_address=config.from_address,
                from_name=config.from_name,
                to=recipient,
                subject=smtp.reply_subject(parent.get("subject", ""), gettext_now("Re: your message")),
                text=reply.text,
                message_id=message_id,
                in_reply_to=parent_id,
                references=smtp.reply_references(
                    parent_id, parent.get("references") or [r for r in [reply.thread_id] if r != parent_id]
                ),
            )
            ratelimit.acquire(
                f"smtp:{config.smtp_host}:{self._smtp_user()}", SMTP_SENDS_PER_SECOND, sleep=_sleep
            )
            try:
                with smtp.session(**self._smtp_server()) as client:
                    client.send_message(message)
            except ERRORS as exc:
                raise _classify(exc, "SMTP") from None
            if box is not None and config.sent_folder:
                self._keep_copy(box, message)
        finally:
            if box is not None:
                box.close()
        return ref

    def _parent(self, box: imap.Mailbox, message_id: str) -> dict:
        """Subject, References and reply address of the message being answered, from the mailbox."""
        try:
            box.examine(self.config.folder)
            uids = box.find(message_id)
            if not uids:
                return {}
            fields = "BODY.PEEK[HEADER.FIELDS (SUBJECT REFERENCES MESSAGE-ID REPLY-TO FROM)]"
            found = box.fetch(uids[-1:], fields)
        except ERRORS as exc:
            logger.warning(
                "channel %s: cannot look up %s for threading: %s", self.channel_id, message_id, exc
            )
            return {}
        if not found:
            return {}
        headers = email.message_from_bytes(found[0].raw, policy=email.policy.default)
        reply_to = parseaddr(str(headers.get("Reply-To", "")))[1]
        sender = parseaddr(str(headers.get("From", "")))[1]
        return {
            "subject": str(headers.get("Subject", "")),
            "references": message_ids(str(headers.get("References", ""))),
            "reply_to": reply_to if "@" in reply_to else "",
            "from": sender if "@" in sender else "",
        }

    def _in_folder(self, box: imap.Mailbox, folder: str, message_id: str) -> bool:
        try:
            box.examine(folder)
            return bool(box.find(message_id))
        except ERRORS as exc:
            logger.warning("channel %s: cannot search the Sent folder: %s", self.channel_id, exc)
            return False

    def _keep_copy(self, box: imap.Mailbox, message) -> None:
        try:
            box.append(self.config.sent_folder, message.as_bytes(policy=email.policy.SMTP))
        except ERRORS as exc:
            # The reply went out; only the copy is missing.
            logger.warning("channel %s: the reply was sent, its copy not kept: %s", self.channel_id, exc)

    # --- connections ---------------------------------------------------------------------------------

    def _connect(self) -> imap.Mailbox:
        config = self.config
        ratelimit.acquire(f"imap:{config.imap_host}:{config.username}", IMAP_LOGINS_PER_SECOND, sleep=_sleep)
        try:
            return imap.Mailbox.connect(
                config.imap_host,
                config.imap_port,
                config.imap_security,
                config.username,
                config.password.get_secret_value(),
                TIMEOUT,
            )
        except ERRORS as exc:
            raise _classify(exc, "IMAP") from None

    @contextmanager
    def _imap(self):
        box = self._connect()
        try:
            yield box
        except ERRORS as exc:
            raise _classify(exc, "IMAP") from None
        finally:
            box.close()

    def _imap_if_possible(self) -> imap.Mailbox | None:
        """IMAP for a reply's extras (threading headers, the Sent copy): the reply goes out without them."""
        try:
            return self._connect()
        except AdapterError as exc:
            if exc.retry_after is not None:
                raise
            logger.warning("channel %s: IMAP unavailable for a reply: %s", self.channel_id, exc.message)
            return None

    def _smtp_user(self) -> str:
        return self.config.smtp_username or self.config.username

    def _smtp_server(self) -> dict:
        config = self.config
        password = config.smtp_password or config.password
        return {
            "host": config.smtp_host,
            "port": config.smtp_port,
            "security": config.smtp_security,
            "username": self._smtp_user(),
            "password": password.get_secret_value(),
            "timeout": TIMEOUT,
        }


def _parse_cursor(cursor: str | None) -> tuple[int | None, int]:
    """(UIDVALIDITY, last UID) of "<validity>:<uid>"; (None, 0) for none or a cursor we cannot read."""
    try:
        validity, last = (cursor or "").split(":")
        return int(validity), int(last)
    except ValueError:
        return None, 0


def _batches(uids: list[int], sizes: dict[int, int]):
    """(UIDs, header only?) per FETCH: at most BATCH messages and BATCH_BYTES; a huge message alone."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > MAX_MESSAGE_BYTES:
            if batch:
                yield batch, False
                batch, total = [], 0
            yield [uid], True
            continue
        if batch and (len(batch) >= BATCH or total + size > BATCH_BYTES):
            yield batch, False
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch, False


def _classify(exc: BaseException, where: str) -> AdapterError:
    """The one place an IMAP, SMTP or socket failure becomes an AdapterError with the right flags."""
    if isinstance(exc, AdapterError):
        return exc
    if isinstance(exc, http.UnsafeURLError):
        return AdapterError(f"{where}: {exc.message}", permanent=True)
    if isinstance(exc, http.OutboundError):
        return AdapterError(f"{where}: {exc.message}")
    if isinstance(exc, imap.LoginRefused):
        if exc.code in TRANSIENT_CODES:
            return AdapterError(f"{where}: login failed for now: {exc}")
        return AdapterError(f"{where}: the server refused the user name or password: {exc}", reconnect=True)
    if isinstance(exc, imap.Refused):
        return AdapterError(f"{where}: {exc}", permanent=exc.code in PERMANENT_CODES)
    if isinstance(exc, imaplib.IMAP4.abort):
        return AdapterError(f"{where}: the connection broke: {exc}")
    if isinstance(exc, imaplib.IMAP4.error):
        return AdapterError(f"{where}: {exc}", permanent=True)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        if exc.smtp_code in SMTP_LOGIN_REFUSED:
            return AdapterError(
                f"{where}: the server refused the user name or password ({exc.smtp_code})", reconnect=True
            )
        return AdapterError(f"{where}: login failed for now ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        return AdapterError(
            f"{where}: the recipient was refused ({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return AdapterError(f"{where}: {exc.smtp_code} {text[:200]}", permanent=exc.smtp_code >= 500)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return AdapterError(f"{where}: the server closed the connection")
    if isinstance(exc, smtplib.SMTPException):
        # No suitable login method, STARTTLS not offered: the settings do not fit the server.
        return AdapterError(f"{where}: {exc}", permanent=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return AdapterError(
            f"{where}: the server's certificate is not valid: {exc.verify_message}", permanent=True
        )
    if isinstance(exc, ssl.SSLError):
        return AdapterError(
            f"{where}: TLS failed; check the port and encryption settings ({exc.reason})", permanent=True
        )
    if isinstance(exc, TimeoutError):
        return AdapterError(f"{where}: the server did not answer in time")
    if isinstance(exc, ConnectionRefusedError):
        return AdapterError(f"{where}: the server refused the connection")
    if isinstance(exc, UnicodeError):
        return AdapterError(
            f"{where}: the user name or password has characters the server cannot take", permanent=True
        )
    return AdapterError(f"{where}: {exc.__class__.__name__}: {exc}")
