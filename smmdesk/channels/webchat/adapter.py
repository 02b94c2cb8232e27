"""The site chat widget (channel kind "webchat"): one script tag on the business's site opens a chat whose
messages land in the inbox and whose replies the visitor sees live.

The "network" is smmdesk itself: visitors post through the public endpoints in inbox/webhook_views.py,
and a reply is delivered by being stored, because the widget polls our database for it. So send_reply has
nothing to call and only names the delivery. The embed code is

    <script src="https://<this smmdesk>/hooks/chat/<public key>/widget.js" async></script>
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from pydantic import BaseModel, Field, field_validator

from smmdesk.channels.base import (
    AccountInfo,
    Adapter,
    Capability,
    ExternalRef,
    OutboundReply,
    PostLimits,
)

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
OUT_PREFIX = "webchat-out-"


def new_public_key() -> str:
    return secrets.token_urlsafe(18)


def normalise_origin(text: str) -> str | None:
    """ "https://Salon.example/" → "https://salon.example"; None for anything that is not an origin."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class WebchatConfig(BaseModel):
    public_key: str = Field(
        default_factory=new_public_key,
        pattern=TOKEN_PATTERN,
        title=gettext_noop("Public key"),
        description=gettext_noop(
            "Not a secret: it is part of the embed code, a script tag loading "
            "/hooks/chat/KEY/widget.js from this server (see docs/site-chat.md). "
            "Change it to stop old embeds working."
        ),
    )
    allowed_origins: str = Field(
        "",
        max_length=2000,
        title=gettext_noop("Sites allowed to embed"),
        description=gettext_noop(
            "Comma-separated site addresses, like https://salon.example, https://www.salon.example. "
            "Empty: only this smmdesk's own pages."
        ),
    )
    title: str = Field(
        "",
        max_length=80,
        title=gettext_noop("Chat title"),
        description=gettext_noop("Shown at the top of the chat; empty uses the business name."),
    )
    greeting: str = Field(
        "",
        max_length=300,
        title=gettext_noop("Greeting"),
        description=gettext_noop("The first line a visitor sees, e.g. “Hello! How can we help?”"),
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        origins, bad = [], []
        for item in (part for part in value.replace("\n", ",").split(",") if part.strip()):
            origin = normalise_origin(item)
            (origins if origin else bad).append(origin or item.strip())
        if bad:
            raise ValueError(
                _("Not a site address: %(items)s. Write it like https://salon.example, without a path.")
                % {"items": ", ".join(bad[:5])}
            )
        return ", ".join(dict.fromkeys(origins))

    def origins(self) -> set[str]:
        return {o.strip() for o in self.allowed_origins.split(",") if o.strip()}


class WebchatAdapter(Adapter):
    kind = "webchat"
    label = gettext_lazy("Site chat widget")
    Config = WebchatConfig
    capabilities = frozenset({Capability.INBOX, Capability.REPLY})
    limits = PostLimits(max_text=4000, max_media=0, supports_link=True)

    def check(self) -> AccountInfo:
        # Nothing remote to reach: the widget talks to this server.
        return AccountInfo(external_id="", name=self.config.title or "Site chat")

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        # The stored reply is the delivery: the visitor's widget polls for it. The key makes the id stable,
        # so a retried task records the same id.
        key = reply.idempotency_key or secrets.token_hex(16)
        return ExternalRef(external_id=f"{OUT_PREFIX}{key}", parent_id=reply.thread_id)
