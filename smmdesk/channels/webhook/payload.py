"""The JSON a CRM, a site form or a script posts to a generic inbound webhook (docs/inbound-webhook.md).

Validation is strict about what we store and lenient about what we ignore: unknown keys are dropped, ids
may be numbers, and every refusal names the field it is about (``messages[0].author.id: field required``)
so whoever wires up the integration can fix it from the answer alone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

MAX_MESSAGES = 100
KINDS = ("dm", "comment", "mention", "email", "chat")
# NUL cannot be stored in PostgreSQL text and a lone surrogate cannot be encoded as UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class PayloadError(ValueError):
    """The body does not fit the documented shape; the message names the field."""


def has_unstorable(text: str) -> bool:
    return bool(UNSTORABLE.search(text))


def _id_text(value):
    # CRMs number their records; an integer id is the same id as its decimal text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Id = Annotated[str, BeforeValidator(_id_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value):
        if isinstance(value, str) and has_unstorable(value):
            raise ValueError("contains characters that are not allowed (NUL or a lone surrogate)")
        return value


class Author(_Strict):
    id: Id = Field(min_length=1, max_length=200)
    name: str = Field("", max_length=200)
    handle: str = Field("", max_length=200)
    url: str = Field("", max_length=500)

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        # Shown as a link in the inbox: only web addresses, never javascript: or data: URLs.
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value


class WebhookMessage(_Strict):
    id: Id = Field(min_length=1, max_length=300)
    kind: Literal["dm", "comment", "mention", "email", "chat"] = "dm"
    # thread keys are stored as "<kind>:<thread>" in 300 characters
    thread: Id = Field("", max_length=280)
    reply_to: Id = Field("", max_length=300)
    subject: str = Field("", max_length=300)
    author: Author
    text: str = Field(min_length=1, max_length=20000)
    date: datetime | None = None

    @field_validator("date")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A time without a zone is taken as UTC rather than as whatever zone the server runs in.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Envelope(_Strict):
    messages: list[WebhookMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


def _location(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "body"


def _describe(exc: ValidationError, limit: int = 10) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        # Literal and tagged-union errors add the type name to the location; people never wrote that.
        loc = tuple(p for p in error.get("loc", ()) if not (isinstance(p, str) and p.startswith("literal[")))
        if error.get("type") == "missing":
            message = "field required"
        else:
            message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
        parts.append(f"{_location(loc)}: {message}")
    more = len(exc.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def parse(data) -> list[WebhookMessage]:
    """The messages in a decoded JSON body: {"messages": [...]} or one message object."""
    if not isinstance(data, dict):
        raise PayloadError('body: expected a JSON object, {"messages": [...]} or one message')
    try:
        if "messages" in data:
            return Envelope.model_validate(data).messages
        return [WebhookMessage.model_validate(data)]
    except ValidationError as exc:
        raise PayloadError(_describe(exc)) from None
