"""IMAP for the e-mail adapter: a guarded connection, the UID walk, and IDLE.

imaplib is low level: it hands back untagged responses as bytes and leaves quoting, FETCH parsing and IDLE
(before Python 3.14) to the caller. This module is that part and nothing more; what the adapter makes of
the answers (cursor, events, errors) lives in adapter.py.

The mailbox is always opened read-only (EXAMINE) and bodies are fetched with BODY.PEEK[], so reading mail
into smmdesk never marks it read for the people who also use the mailbox in a mail client.
"""

from __future__ import annotations

import base64
import imaplib
import re
import select
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from smmdesk.lib import http

EXISTS = re.compile(rb"^\* \d+ EXISTS\b", re.I)
FETCH_START = re.compile(rb"^\d+ \(")
UID = re.compile(rb"\bUID (\d+)", re.I)
SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.I)
INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"', re.I)
RESPONSE_CODE = re.compile(r"\[([A-Z-]+)")


class Refused(Exception):
    """The server answered NO (or BAD) to a command; `code` is its RFC 5530 response code, if any."""

    def __init__(self, command: str, text: str):
        match = RESPONSE_CODE.search(text)
        self.code = match.group(1).upper() if match else ""
        self.command = command
        super().__init__(f"{command}: {text}".strip())


class LoginRefused(Refused):
    """LOGIN or AUTHENTICATE was refused: wrong or revoked credentials, unless `code` says otherwise."""


def guarded_socket(host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to host:port, refused like lib/http's SSRF guard refuses private addresses.

    A member types the server's name into the channel form, so without the check smmdesk could be made to
    knock on ports inside its own network. The name is resolved once and the checked address is the one
    connected to (no second lookup a hostile DNS server could answer differently); TLS is still verified
    against the name. SMMDESK_ALLOW_PRIVATE_URLS (tests, or a mail server on the same LAN) lifts the check.
    """
    addresses = http.resolve(host, port)
    if not getattr(settings, "SMMDESK_ALLOW_PRIVATE_URLS", False):
        http.check_addresses(host, addresses)
    last_error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            last_error = exc
    raise last_error or OSError(f"cannot connect to {host}:{port}")


class _IMAP(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return guarded_socket(self.host, self.port, timeout)


class _IMAPS(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(
            guarded_socket(self.host, self.port, timeout), server_hostname=self.host
        )


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def folder_name(name: str) -> str:
    """A folder name as IMAP wants it on the wire: modified UTF-7 (RFC 3501 5.1.3), quoted.

    Mail clients show "Отправленные" or "Odoslané"; the server knows them as "&BB4EQgQ,BEA...-"."""
    out: list[str] = []
    run: list[str] = []

    def flush():
        if run:
            encoded = base64.b64encode("".join(run).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode("ascii") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return quote("".join(out))


def _text(data) -> str:
    parts = [d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data or [] if d]
    return " ".join(parts)[:300]


def _ok(command: str, typ: str, data) -> list:
    if typ != "OK":
        raise Refused(command, _text(data))
    return data


def parse_internaldate(value: bytes | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


@dataclass
class Fetched:
    uid: int
    raw: bytes
    internaldate: datetime | None


@dataclass
class Folder:
    uidvalidity: int
    uidnext: int | None


class Mailbox:
    """A logged-in IMAP connection."""

    def __init__(self, conn: imaplib.IMAP4):
        self.conn = conn

    @classmethod
    def connect(
        cls, host: str, port: int, security: str, username: str, password: str, timeout: float
    ) -> Mailbox:
        context = ssl.create_default_context()
        if security == "ssl":
            conn = _IMAPS(host, port, ssl_context=context, timeout=timeout)
        else:
            conn = _IMAP(host, port, timeout=timeout)
        try:
            if security == "starttls":
                # An explicit context: imaplib's default one does not verify the certificate.
                conn.starttls(ssl_context=context)
            _login(conn, username, password)
            # Capabilities change after login (IDLE is often offered only then); imaplib keeps the old list.
            conn.capabilities = tuple(_ok("CAPABILITY", *conn.capability())[0].decode().upper().split())
        except BaseException:
            _close(conn)
            raise
        return cls(conn)

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.conn.capabilities)

    def examine(self, folder: str) -> Folder:
        """Open `folder` read-only; its UIDVALIDITY and UIDNEXT."""
        _ok("EXAMINE", *self.conn.select(folder_name(folder), readonly=True))
        validity = self.conn.response("UIDVALIDITY")[1]
        uidnext = self.conn.response("UIDNEXT")[1]
        if not validity or not validity[0]:
            raise Refused("EXAMINE", "the server sent no UIDVALIDITY")
        return Folder(int(validity[0]), int(uidnext[0]) if uidnext and uidnext[0] else None)

    def search(self, *criteria: str) -> list[int]:
        data = _ok("UID SEARCH", *self.conn.uid("SEARCH", *criteria))
        return sorted({int(n) for chunk in data if chunk for n in chunk.split()})

    def _fetch(self, uids: list[int], items: str) -> list[tuple[bytes, bytes | None]]:
        """(the response's text outside literals, its literal) per FETCH response."""
        data = _ok("UID FETCH", *self.conn.uid("FETCH", ",".join(map(str, uids)), items))
        found: list[list] = []
        for item in data:
            if isinstance(item, tuple):
                found.append([item[0], item[1]])
            elif isinstance(item, bytes):
                # "12 (UID 40 RFC822.SIZE 1234)" starts a response; ")" or " UID 40)" ends the one before.
                if FETCH_START.match(item) or not found:
                    found.append([item, None])
                else:
                    found[-1][0] += b" " + item
        return [(text, literal) for text, literal in found]

    def sizes(self, uids: list[int]) -> dict[int, int]:
        sizes = {}
        for text, _literal in self._fetch(uids, "(UID RFC822.SIZE)"):
            uid, size = UID.search(text), SIZE.search(text)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def fetch(self, uids: list[int], section: str = "BODY.PEEK[]") -> list[Fetched]:
        """The messages with these UIDs (those still there), in UID order, without marking them read."""
        messages = {}
        for text, literal in self._fetch(uids, f"(UID INTERNALDATE {section})"):
            uid = UID.search(text)
            if uid is None or literal is None:
                continue  # an unsolicited flag update, not a message
            date = INTERNALDATE.search(text)
            messages[int(uid.group(1))] = Fetched(
                int(uid.group(1)), literal, parse_internaldate(date.group(1) if date else None)
            )
        return [messages[uid] for uid in sorted(messages)]

    def find(self, message_id: str) -> list[int]:
        """UIDs of the messages with this Message-ID in the open folder."""
        return self.search("HEADER", "Message-ID", quote(message_id))

    def append(self, folder: str, raw: bytes) -> None:
        _ok("APPEND", *self.conn.append(folder_name(folder), r"(\Seen)", None, raw))

    def wait_for_exists(self, timeout: float) -> bool:
        """IDLE (RFC 2177) until the server reports new mail (EXISTS) or `timeout` seconds pass.

        True when mail arrived. For a long-running watcher that polls when this returns True; False also
        when the server offers no IDLE (the watcher then polls on its schedule). The examined folder is
        the one watched."""
        conn = self.conn
        if "IDLE" not in self.capabilities:
            return False
        tag = conn._new_tag()
        conn.send(tag + b" IDLE\r\n")
        arrived = False
        while True:
            line = conn._get_line()
            if line.startswith(b"+"):
                break
            if line.startswith(tag):
                raise Refused("IDLE", line.decode("utf-8", "replace"))
            arrived |= bool(EXISTS.match(line))
        deadline = time.monotonic() + timeout
        while not arrived:
            remaining = max(0.0, deadline - time.monotonic())
            if not (self._buffered() or _readable(conn.sock, remaining)):
                break
            arrived |= bool(EXISTS.match(conn._get_line()))
        conn.send(b"DONE\r\n")
        while True:
            line = conn._get_line()
            if line.startswith(tag):
                if not line[len(tag) :].strip().upper().startswith(b"OK"):
                    raise Refused("IDLE", line.decode("utf-8", "replace"))
                return arrived
            arrived |= bool(EXISTS.match(line))

    def _buffered(self) -> bool:
        """Whether imaplib's reader already holds bytes that select() on the socket cannot see."""
        sock = self.conn.sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        timeout = sock.gettimeout()
        sock.setblocking(False)
        try:
            return bool(self.conn.file.peek(1))
        except (BlockingIOError, ssl.SSLWantReadError):
            return False
        finally:
            sock.settimeout(timeout)

    def close(self) -> None:
        try:
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            _close(self.conn)


def _readable(sock: socket.socket, timeout: float) -> bool:
    readable, _w, _x = select.select([sock], [], [], timeout)
    return bool(readable)


def _login(conn: imaplib.IMAP4, username: str, password: str) -> None:
    try:
        if password.isascii() or "AUTH=PLAIN" not in conn.capabilities:
            # imaplib quotes the password but not the user name.
            conn.login(quote(username), password)
        else:
            # LOGIN takes ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
            conn.authenticate("PLAIN", lambda _challenge: f"\0{username}\0{password}".encode())
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        raise LoginRefused("LOGIN", _text(exc.args))


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.shutdown()
    except (OSError, AttributeError):
        pass
