"""Real mail servers on loopback for the e-mail tests: pymap (IMAP, in-memory "dict" backend), aiosmtpd
(SMTP), and a TCP proxy in front of pymap that can cut the connection in the middle of an import."""

from __future__ import annotations

import asyncio
import socket
import threading
from argparse import Namespace
from datetime import datetime

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import Config as DictConfig
from pymap.backend.dict import DictBackend
from pymap.backend.dict.filter import FilterSet
from pymap.backend.dict.mailbox import MailboxData, MailboxSet
from pymap.config import BackendCapability
from pymap.imap import IMAPServer
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials.flag import Flag

USER = "desk@salon.example"
PASSWORD = "imap-Pw-5c1e-secret"


class Pymap:
    """pymap's IMAP server with one user, plain (no TLS), in a thread with its own event loop."""

    def __init__(self, user: str = USER, password: str = PASSWORD, *, idle: bool = True):
        self.user, self.password, self.idle = user, password, idle
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("pymap did not start")

    async def _serve(self):
        args = Namespace(
            debug=False,
            passlib_cfg=None,
            proxy_protocol=None,
            host="127.0.0.1",
            port=0,
            cert=None,
            key=None,
            tls=False,
            demo_data=False,
            demo_user=self.user,
            demo_password=self.password,
            inherited_sockets=None,
        )
        backend, config = await DictBackend.init(args, invalid_user_sleep=0.0)
        if not self.idle:
            # pymap 0.36 accepts disable_idle but ignores it; the capability comes from the config class.
            config.__class__ = _NoIdleConfig
        config.apply_context()
        self.loop = asyncio.get_running_loop()
        self.mailboxes = MailboxSet()
        config.set_cache[self.user] = (self.mailboxes, FilterSet())
        await self.mailboxes.add_mailbox("Sent")
        handler = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(backend.login, config))
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self.stopping = asyncio.Event()
        self.ready.set()
        async with server:
            await self.stopping.wait()

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def deliver(self, *messages: bytes, folder: str = "INBOX", when: datetime | None = None) -> None:
        """Put messages into a folder as the mail server's delivery would."""

        async def append():
            mailbox = await self.mailboxes.get_mailbox(folder)
            for raw in messages:
                await mailbox.append(AppendMessage(raw, when, frozenset()))

        self._run(append())

    def flags(self, folder: str = "INBOX") -> list[frozenset[Flag]]:
        async def read():
            mailbox = await self.mailboxes.get_mailbox(folder)
            return [message.permanent_flags async for message in mailbox.messages()]

        return self._run(read())

    def contents(self, folder: str = "INBOX") -> list[bytes]:
        async def read():
            mailbox = await self.mailboxes.get_mailbox(folder)
            return [bytes(message._content) async for message in mailbox.messages()]

        return self._run(read())

    def uids(self, folder: str = "INBOX") -> list[int]:
        async def read():
            mailbox = await self.mailboxes.get_mailbox(folder)
            return [message.uid async for message in mailbox.messages()]

        return self._run(read())

    def renumber(self) -> None:
        """The INBOX recreated, as after a server migration: same messages, new UIDs and UIDVALIDITY."""

        async def rebuild():
            old = self.mailboxes._inbox
            new = MailboxData(old._content_cache, old._thread_cache)
            new._max_uid = 5000
            async for message in old.messages():
                await new.append(AppendMessage(bytes(message._content), message.internal_date, frozenset()))
            self.mailboxes._inbox = new

        self._run(rebuild())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)


class _NoIdleConfig(DictConfig):
    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=False, object_id=True, multi_append=True)


class CuttingProxy:
    """A TCP proxy to `port` that cuts the connection when the client sends the n-th message fetch
    (BODY.PEEK[]) for each n in `cuts_at` — counted over all connections — and can refuse connections."""

    def __init__(self, port: int):
        self.target = port
        self.cuts_at: set[int] = set()
        self.fetches = 0
        self.cuts = 0
        self.refusing = False
        self.idle_asked = False
        self.idling = threading.Event()  # set when the server has accepted a client's IDLE
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool):
        try:
            while data := source.recv(65536):
                idle_started = not from_client and data.startswith(b"+ ") and self.idle_asked
                self.idle_asked = self.idle_asked or (from_client and data.rstrip().endswith(b" IDLE"))
                if from_client and b"BODY.PEEK[]" in data:
                    with self.lock:
                        self.fetches += 1
                        cut = self.fetches in self.cuts_at
                        self.cuts += cut
                    if cut:
                        break
                sink.sendall(data)
                if idle_started:
                    self.idling.set()
        except OSError:
            pass
        for each in (source, sink):
            try:
                each.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            each.close()

    def stop(self):
        self.listener.close()


class Relay:
    """An SMTP server (aiosmtpd) that keeps what it is given; `answer` replaces the 250 for DATA."""

    def __init__(self, user: str = USER, password: str = PASSWORD):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.answer: str | None = None
        self.logins: list[str] = []
        self.credentials = (user.encode(), password.encode())
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=self._authenticate,
            auth_require_tls=False,
        )
        self.controller.start()
        self.port = self.controller.port

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and tuple(auth_data) == self.credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        # handled=False: aiosmtpd answers the refusal itself (535).
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):
        if self.answer:
            return self.answer
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def stop(self):
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
