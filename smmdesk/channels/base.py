"""The adapter contract every network implements (see docs/adding-a-network.md).

Adapters take and return the plain dataclasses below, never ORM rows, so they can be tested without a
database and run in any worker.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel


class Capability(enum.StrEnum):
    INBOX = "inbox"
    REPLY = "reply"
    PUBLISH = "publish"
    MODERATE = "moderate"
    METRICS = "metrics"
    ENTRIES = "entries"
    SEARCH = "search"

    @property
    def label(self) -> str:
        return CAPABILITY_LABELS[self]


# What a full social network offers: the inbox, replies, posts, moderation, counters and contest entries.
SOCIAL = frozenset(
    {
        Capability.INBOX,
        Capability.REPLY,
        Capability.PUBLISH,
        Capability.MODERATE,
        Capability.METRICS,
        Capability.ENTRIES,
    }
)

# What each capability means to the person choosing a network, in their language.
CAPABILITY_LABELS = {
    Capability.INBOX: _("Receives messages and comments"),
    Capability.REPLY: _("Replies"),
    Capability.PUBLISH: _("Publishes posts"),
    Capability.MODERATE: _("Hides and deletes comments"),
    Capability.METRICS: _("Post metrics"),
    Capability.ENTRIES: _("Contest entries"),
    Capability.SEARCH: _("Search for mentions"),
}


class AdapterError(Exception):
    """A network call failed.

    permanent: retrying the same call cannot succeed (bad request, content refused).
    retry_after: seconds the network asked us to wait (429), if it said.
    reconnect: the credentials no longer work; the channel needs the owner's attention.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        reconnect: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent or reconnect
        self.retry_after = retry_after
        self.reconnect = reconnect


class SignatureError(AdapterError):
    """An inbound webhook is not signed with the channel's secret: the sender is not who it claims to be
    (the webhook endpoint answers 403)."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class PostLimits:
    max_text: int
    max_media: int = 0
    supports_link: bool = True
    supports_first_comment: bool = False
    # The text's limit when the post has pictures or video, where the network's is lower then (Telegram's
    # caption); 0: max_text either way.
    max_caption: int = 0
    # The network refuses a post without a picture (Instagram): checked when the variant is written, so it
    # does not first fail at its publishing time.
    media_required: bool = False


@dataclass(frozen=True)
class AccountInfo:
    external_id: str
    name: str
    url: str = ""


@dataclass(frozen=True)
class ExternalRef:
    external_id: str
    url: str = ""
    parent_id: str = ""


@dataclass
class InboundEvent:
    external_id: str
    kind: Literal["dm", "comment", "mention", "email", "chat"]
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    thread_id: str = ""
    reply_to_id: str = ""
    # E-mail threading: the Message-IDs of In-Reply-To and References, nearest first.
    references: list[str] = field(default_factory=list)
    author_handle: str = ""
    author_url: str = ""
    attachments: list[dict] = field(default_factory=list)
    raw: dict = field(default_factory=dict)


@dataclass
class OutboundReply:
    text: str
    thread_id: str
    reply_to_id: str = ""
    recipient_id: str = ""
    idempotency_key: str = ""


@dataclass
class PostVariant:
    text: str
    media: list[str] = field(default_factory=list)
    link: str = ""
    first_comment: str = ""


@dataclass(frozen=True)
class MetricPoint:
    external_id: str
    name: str
    value: float
    measured_at: datetime


@dataclass(frozen=True)
class Entry:
    author_id: str
    author_name: str
    kinds: frozenset[str]
    text: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class WebhookAnswer:
    """What the webhook endpoint answers instead of its usual JSON (VK wants the text "ok", its
    confirmation request wants the confirmation code, Facebook's subscription check wants hub.challenge)."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Adapter:
    kind: ClassVar[str]
    label: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]]
    limits: ClassVar[PostLimits]
    # Capabilities that work only on a paid API tier, told to the user on the connection form.
    paid_capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Step-by-step help for the connection form (markdown-free plain text, translated).
    help_text: ClassVar[str] = ""
    # The network itself drops a second post made with the same idempotency key (Mastodon's
    # Idempotency-Key, VK's guid, Bluesky's record key), so a publish may safely be repeated.
    idempotent_publish: ClassVar[bool] = False
    # find_published's None is certain: the network can be asked by key and would show the post if it had
    # it, so a repeat after a failed attempt may post. False where None only means "cannot tell".
    finds_published: ClassVar[bool] = False
    # The network fetches a post's pictures from our public address (SMMDESK_PUBLIC_URL), so it must be
    # set before a post with media can go out. Only the fake network, which runs inside us, does not.
    fetches_media: ClassVar[bool] = True
    # Webhook headers that carry a shared secret itself (not a signature of the body): stored encrypted
    # with the raw delivery, so the database never holds the secret in clear. Lower case.
    secret_headers: ClassVar[frozenset[str]] = frozenset()
    # The answer to a delivery we accepted; None means the endpoint's usual JSON.
    webhook_ack: ClassVar[WebhookAnswer | None] = None

    def __init__(self, config: BaseModel, channel_id: int | None = None):
        self.config = config
        self.channel_id = channel_id

    def sealed_cache_keys(self) -> list[tuple[str, int | None]]:
        """(cache key, timeout) of each value this adapter keeps in the shared cache encrypted with
        lib/crypto, so `smmdesk rotate-key` can move it to the new key with the database's secrets."""
        return []

    def _unsupported(self, capability: Capability):
        raise AdapterError(f"{self.kind} does not support {capability.value}", permanent=True)

    def check(self) -> AccountInfo:
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        self._unsupported(Capability.INBOX)

    def handshake(self, method: str, query, body: bytes, headers) -> WebhookAnswer | None:
        """A network's check of the webhook address before or besides deliveries (VK's confirmation,
        Facebook's GET with hub.challenge). None: this request is an ordinary delivery. Raise
        SignatureError when the check's secret is wrong."""
        return None

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        self._unsupported(Capability.INBOX)

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        self._unsupported(Capability.REPLY)

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        self._unsupported(Capability.PUBLISH)

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        """Reconciliation after a crash or a lost answer: the post made with this key, if the network has
        it. Raise AdapterError when the network cannot be asked now (it counts as "unknown")."""
        self._unsupported(Capability.PUBLISH)

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        self._unsupported(Capability.MODERATE)

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        self._unsupported(Capability.METRICS)

    def entries(self, ref: ExternalRef) -> list[Entry]:
        self._unsupported(Capability.ENTRIES)

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        self._unsupported(Capability.SEARCH)

    def followers(self) -> int | None:
        """How many people follow the account now (a group's members, a channel's subscribers), or None
        when the network does not tell. One cheap call: the daily follower count asks every channel."""
        return None
