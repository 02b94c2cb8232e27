"""Use cases behind the public chat endpoints: find the widget's channel, identify the visitor, take in a
message, list the visitor's conversation, and rate limits.

Visitor identity. The widget runs on the business's site, so a cookie of ours would be a third-party
cookie, which browsers block. The visitor id is therefore a random id signed with the server's secret
key, kept by the widget in the site's localStorage and sent in the X-Smmdesk-Visitor header. It is also set
as an HttpOnly cookie, which only counts where the widget runs on this server's own pages (the landing
pages). Only the bare id is stored (as the customer's network id); the signature is what proves a request
comes from that visitor, so an id read off an inbox page does not let anyone read the conversation.

Messages are taken in synchronously rather than through a raw event and the queue, so the visitor sees
their own message at once and the inbox gets it without waiting for a worker.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext as _

from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.channels.webchat.adapter import TOKEN_PATTERN, WebchatAdapter, WebchatConfig
from smmdesk.channels.webhook.payload import has_unstorable
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Customer, Message

MAX_TEXT = 2000
# The page address the widget reports: a slug of a landing page is at most this long.
MAX_PAGE = 500
PAGE_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,119}")
MAX_TAGS = 20
MAX_NAME = 100
MAX_EMAIL = 254
MAX_LIST = 200
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
VISITOR_ID = re.compile(r"^v[A-Za-z0-9_-]{16,40}$")
TOKEN = re.compile(TOKEN_PATTERN)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Per minute. A visitor typing fast sends a few messages a minute; the widget polls 40 times a minute
# while open. Per address limits are higher because an office or a mobile network shares one address.
LIMITS = {
    "session_ip": 60,
    "send_visitor": 20,
    "send_ip": 60,
    "poll_visitor": 120,
    "poll_ip": 1200,
}
WINDOW = 60


class ChatError(Exception):
    """Refused input; `field` names it for the answer."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Widget:
    channel: Channel
    config: WebchatConfig


def find_widget(public_key: str) -> Widget | None:
    """The enabled webchat channel with this public key; None for unknown keys and unreadable configs."""
    if not isinstance(public_key, str) or not TOKEN.match(public_key):
        return None
    channel = (
        Channel.objects.select_related("workspace__profile")
        .filter(kind=WebchatAdapter.kind, config__public_key=public_key)
        .exclude(status=Channel.Status.DISABLED)
        .order_by("pk")
        .first()
    )
    if channel is None:
        return None
    try:
        config = channel.typed_config()
    except ValueError:  # pydantic's ValidationError is one: a config from an older version of the adapter
        return None
    return Widget(channel, config)


def title_of(widget: Widget) -> str:
    if widget.config.title:
        return widget.config.title
    profile = getattr(widget.channel.workspace, "profile", None)
    return (profile.name if profile is not None else "") or widget.channel.workspace.name


# Visitors


def _signer(channel: Channel) -> signing.Signer:
    return signing.Signer(salt=f"smmdesk.webchat.visitor.{channel.pk}")


def new_visitor(channel: Channel) -> tuple[str, str]:
    """(visitor id, token): the id is stored with the messages, the token is what the widget keeps."""
    visitor = "v" + secrets.token_urlsafe(18)
    return visitor, _signer(channel).sign(visitor)


def visitor_of(channel: Channel, token: str | None) -> str | None:
    if not token or len(token) > 200:
        return None
    try:
        visitor = _signer(channel).unsign(token)
    except signing.BadSignature:
        return None
    return visitor if VISITOR_ID.match(visitor) else None


# Rate limits


def over_limit(name: str, key: str, *, now: float | None = None) -> float | None:
    """Count one request against `name` for `key`; seconds to wait if over the limit, else None.

    Fixed one-minute windows in Django's cache: per process with the default local-memory cache (right
    for one machine), shared by all web processes when REDIS_URL makes the cache Redis."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    cache_key = f"smmdesk:webchat:{name}:{key}:{window}"
    cache.add(cache_key, 0, timeout=WINDOW + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=WINDOW + 5)
        count = 1
    if count > LIMITS[name]:
        return max(1.0, math.ceil((window + 1) * WINDOW - now))
    return None


# Input


def clean_text(value) -> str:
    if not isinstance(value, str):
        raise ChatError("text", _("Enter text."))
    text = value.replace("\r\n", "\n").strip()
    if has_unstorable(text):
        raise ChatError("text", _("The text contains characters that are not allowed."))
    text = CONTROL.sub("", text)
    if not text:
        raise ChatError("text", _("Write a message."))
    if len(text) > MAX_TEXT:
        raise ChatError("text", _("Enter at most %(count)s characters.") % {"count": MAX_TEXT})
    return text


def clean_name(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatError("name", _("Enter text."))
    if has_unstorable(value):
        raise ChatError("name", _("The text contains characters that are not allowed."))
    name = " ".join(CONTROL.sub("", value).split())
    if len(name) > MAX_NAME:
        raise ChatError("name", _("Enter at most %(count)s characters.") % {"count": MAX_NAME})
    return name


def clean_email(value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or has_unstorable(value):
        raise ChatError("email", _("Enter a valid e-mail address."))
    email = value.strip()
    try:
        if len(email) > MAX_EMAIL:
            raise DjangoValidationError("too long")
        validate_email(email)
    except DjangoValidationError:
        raise ChatError("email", _("Enter a valid e-mail address."))
    return email


def clean_client_id(value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise ChatError("client_id", _("Enter a valid value."))
    return value


# Use cases


def send(widget: Widget, visitor: str, data) -> Message:
    """Take in a visitor's message: validate, ingest (dedup makes a resent message count once), and keep
    the name and e-mail they gave on their customer record."""
    if not isinstance(data, dict):
        raise ChatError("body", _("Enter text."))
    text = clean_text(data.get("text"))
    name = clean_name(data.get("name"))
    email = clean_email(data.get("email"))
    client_id = clean_client_id(data.get("client_id")) or secrets.token_urlsafe(12)
    channel = widget.channel
    event = InboundEvent(
        external_id=f"webchat-in-{visitor}-{client_id}",
        kind="chat",
        author_id=visitor,
        author_name=name,
        text=text,
        created_at=datetime.now(UTC),
        thread_id=visitor,
        raw={"source": "webchat", "name": name, "email": email},
    )
    ingest(channel, [event])
    if name or email:
        _remember(channel, visitor, name, email)
    message = Message.objects.select_related("conversation").get(
        channel=channel, external_id=event.external_id
    )
    _tag_page(message.conversation, page_slug(data.get("page")))
    return message


def page_slug(value) -> str:
    """The last part of the address the widget was opened on ("/site/salon/zhenskaya-strizhka/" or an
    exported "/zhenskaya-strizhka/index.html" → "zhenskaya-strizhka"): landing pages' funnels count
    the chats tagged with their slug. The browser says it, so it is only ever a tag, and only a slug."""
    if not isinstance(value, str) or len(value) > MAX_PAGE:
        return ""
    parts = [part for part in value.split("?")[0].split("#")[0].split("/") if part and part != "index.html"]
    candidate = parts[-1].lower() if parts else ""
    return candidate if PAGE_SLUG.fullmatch(candidate) else ""


def _tag_page(conversation, slug: str) -> None:
    tags = conversation.tags if isinstance(conversation.tags, list) else []
    if slug and slug not in tags and len(tags) < MAX_TAGS:
        conversation.tags = [*tags, slug]
        conversation.save(update_fields=["tags"])


def _remember(channel: Channel, visitor: str, name: str, email: str) -> None:
    # Only fills what is empty: an agent's correction of the customer record wins over the widget.
    customers = Customer.objects.filter(identities__channel=channel, identities__network_id=visitor)
    if name:
        customers.filter(name="").update(name=name)
    if email:
        customers.filter(email="").update(email=email)


def history(widget: Widget, visitor: str, after: int = 0) -> list[Message]:
    """The visitor's conversation after message id `after`: their messages and our replies (sent or on
    their way), never internal notes or failed replies."""
    shown = Q(direction=Message.Direction.IN) | Q(
        direction=Message.Direction.OUT, delivery__in=[Message.Delivery.SENT, Message.Delivery.PENDING]
    )
    return list(
        Message.objects.filter(
            shown,
            channel=widget.channel,
            conversation__channel=widget.channel,
            conversation__thread_key=f"chat:{visitor}",
            pk__gt=after,
        ).order_by("pk")[:MAX_LIST]
    )


def as_json(message: Message) -> dict:
    """What the widget may know of a message: never the agent's name or anything internal."""
    return {
        "id": message.pk,
        "from": "visitor" if message.direction == Message.Direction.IN else "business",
        "text": message.text,
        "at": (message.sent_at or message.received_at).isoformat(),
        "pending": message.direction == Message.Direction.OUT
        and message.delivery == Message.Delivery.PENDING,
    }
