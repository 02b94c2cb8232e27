"""The generic inbound webhook (channel kind "api"): a CRM, a site form or a script posts signed JSON and
it becomes messages in the inbox. The contract for integrators is docs/inbound-webhook.md.

It only receives: there is nobody on the other side to take a reply, so REPLY is not a capability and the
base class refuses send_reply with a permanent error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from pydantic import BaseModel, Field, SecretStr, field_validator

from smmdesk.channels.base import (
    AccountInfo,
    Adapter,
    AdapterError,
    Capability,
    InboundEvent,
    PostLimits,
    SignatureError,
)
from smmdesk.channels.webhook import payload

SIGNATURE_HEADER = "X-Smmdesk-Signature"
SIGNATURE_PREFIX = "sha256="
MIN_SECRET = 16


def sign(secret: str, body: bytes) -> str:
    """The header value for a body: what integrators compute, and what tests send."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _header(headers, name: str) -> str:
    # Django's request.headers ignores case; a dict restored from a stored raw event may not.
    value = headers.get(name)
    if value is None and hasattr(headers, "items"):
        wanted = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == wanted), None)
    return value if isinstance(value, str) else ""


class WebhookConfig(BaseModel):
    secret: SecretStr = Field(
        title=gettext_noop("Signing secret"),
        description=gettext_noop(
            "At least 16 characters, shared with the sender, who signs each request body with it "
            "(HMAC-SHA256, header X-Smmdesk-Signature). See docs/inbound-webhook.md."
        ),
    )
    allowed_kinds: str = Field(
        "",
        max_length=100,
        title=gettext_noop("Allowed kinds"),
        description=gettext_noop(
            "Comma-separated message kinds this sender may create: dm, comment, mention, email, chat. "
            "Empty allows all."
        ),
    )

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET:
            raise ValueError(_("Use at least %(count)s characters.") % {"count": MIN_SECRET})
        return value

    @field_validator("allowed_kinds")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        kinds = [k.strip().lower() for k in value.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in payload.KINDS]
        if unknown:
            raise ValueError(
                _("Unknown kind: %(kinds)s. Use %(known)s.")
                % {"kinds": ", ".join(unknown), "known": ", ".join(payload.KINDS)}
            )
        return ",".join(dict.fromkeys(kinds))

    def kinds(self) -> set[str]:
        return set(self.allowed_kinds.split(",")) - {""} or set(payload.KINDS)


class WebhookAdapter(Adapter):
    kind = "api"
    label = gettext_lazy("Inbound webhook (CRM, site forms)")
    Config = WebhookConfig
    capabilities = frozenset({Capability.INBOX})
    limits = PostLimits(max_text=0, max_media=0, supports_link=False)

    def check(self) -> AccountInfo:
        # Nothing to call: the sender calls us. The check confirms the config is complete.
        if len(self.config.secret.get_secret_value()) < MIN_SECRET:
            raise AdapterError("the signing secret is too short", permanent=True)
        return AccountInfo(external_id="", name="Inbound webhook")

    def verify(self, body: bytes, headers) -> None:
        given = _header(headers, SIGNATURE_HEADER)
        if not given:
            raise SignatureError(f"{SIGNATURE_HEADER}: header missing")
        expected = sign(self.config.secret.get_secret_value(), body)
        # Bytes, so a header with non-ASCII characters is a mismatch rather than a TypeError.
        if not hmac.compare_digest(expected.encode(), given.strip().encode("utf-8", "replace")):
            raise SignatureError(f"{SIGNATURE_HEADER}: signature does not match the body")

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        self.verify(body, headers)
        try:
            data = json.loads(body)
        except UnicodeDecodeError:
            raise AdapterError("body: not UTF-8 text", permanent=True)
        except RecursionError:
            raise AdapterError("body: nested too deeply", permanent=True)
        except ValueError as exc:
            raise AdapterError(f"body: malformed JSON: {exc}", permanent=True)
        try:
            messages = payload.parse(data)
        except payload.PayloadError as exc:
            raise AdapterError(str(exc), permanent=True)
        allowed = self.config.kinds()
        prefix = "messages[{}]." if "messages" in data else ""
        refused = [
            f"{prefix.format(i)}kind: {m.kind!r} is not allowed on this channel"
            for i, m in enumerate(messages)
            if m.kind not in allowed
        ]
        if refused:
            raise AdapterError("; ".join(refused[:10]), permanent=True)
        now = datetime.now(UTC)
        return [
            InboundEvent(
                external_id=m.id,
                kind=m.kind,
                author_id=m.author.id,
                author_name=m.author.name,
                author_handle=m.author.handle,
                author_url=m.author.url,
                text=m.text,
                created_at=m.date or now,
                thread_id=m.thread,
                reply_to_id=m.reply_to,
                raw=m.model_dump(mode="json"),
            )
            for m in messages
        ]
