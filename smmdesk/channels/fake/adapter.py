"""The fake network: an in-memory network with every capability, for tests, the demo and benchmarks.

State lives in this process (FakeNetwork.accounts), keyed by the channel's account id, so two channels
with the same account see the same network. Tests reach in through `FakeNetwork` to inject inbound
messages, revoke tokens or inspect what was published.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, Field, SecretStr

from smmdesk.channels.base import (
    AccountInfo,
    Adapter,
    AdapterError,
    Capability,
    Entry,
    ExternalRef,
    InboundEvent,
    MetricPoint,
    OutboundReply,
    PostLimits,
    PostVariant,
    SignatureError,
)

REVOKED_PREFIX = "revoked"


@dataclass
class FakeAccount:
    posts: dict[str, dict] = field(default_factory=dict)
    replies: dict[str, OutboundReply] = field(default_factory=dict)
    inbound: list[InboundEvent] = field(default_factory=list)
    moderated: dict[str, str] = field(default_factory=dict)
    entries: dict[str, list[Entry]] = field(default_factory=dict)
    revoked: bool = False
    # When set, check() fails with this message, as a real network's error would (tests put secrets in it).
    check_error: str | None = None
    # Followers of the account, set by tests and the demo; None: the network does not tell.
    followers: int | None = 0


class FakeNetwork:
    accounts: dict[str, FakeAccount] = {}
    _ids = itertools.count(1)
    _lock = threading.Lock()

    @classmethod
    def account(cls, account_id: str) -> FakeAccount:
        with cls._lock:
            return cls.accounts.setdefault(account_id, FakeAccount())

    @classmethod
    def next_id(cls, prefix: str) -> str:
        return f"{prefix}{next(cls._ids)}"

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.accounts.clear()


# Titles and descriptions are marked with gettext_noop for extraction; the settings form translates them
# when it is shown, in the viewer's language.
class FakeConfig(BaseModel):
    account_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        title=gettext_noop("Account id"),
        description=gettext_noop("Any id; channels with the same id share one fake account."),
    )
    stands_for: Literal["vk", "telegram", "mastodon", "other"] = Field(
        "other",
        title=gettext_noop("Stands for"),
        description=gettext_noop("Which real network this fake channel imitates in the demo."),
        json_schema_extra={
            "choice_labels": {
                "vk": gettext_noop("VK"),
                "telegram": gettext_noop("Telegram"),
                "mastodon": gettext_noop("Mastodon"),
                "other": gettext_noop("Other"),
            }
        },
    )
    api_token: SecretStr = Field(
        title=gettext_noop("API token"),
        description=gettext_noop("Any text; a token starting with 'revoked' fails the check."),
    )
    webhook_secret: SecretStr | None = Field(
        None,
        title=gettext_noop("Webhook secret"),
        description=gettext_noop("Signs inbound webhooks (HMAC-SHA256 of the body)."),
    )


class FakeAdapter(Adapter):
    kind = "fake"
    label = _("Fake network (demo and tests)")
    Config = FakeConfig
    capabilities = frozenset(Capability)
    limits = PostLimits(max_text=2000, max_media=10, supports_link=True, supports_first_comment=True)
    fetches_media = False

    @property
    def _account(self) -> FakeAccount:
        account = FakeNetwork.account(self.config.account_id)
        if account.revoked or self.config.api_token.get_secret_value().startswith(REVOKED_PREFIX):
            raise AdapterError("the access token was revoked", reconnect=True)
        return account

    def check(self) -> AccountInfo:
        account = self._account
        if account.check_error:
            raise AdapterError(account.check_error)
        return AccountInfo(
            external_id=self.config.account_id,
            name=f"Fake {self.config.stands_for} account",
            url=f"https://fake.invalid/{self.config.account_id}",
        )

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        secret = self.config.webhook_secret
        if secret is None:
            raise AdapterError("this channel has no webhook secret", permanent=True)
        expected = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Fake-Signature", "")):
            raise SignatureError("bad webhook signature")
        try:
            items = json.loads(body)
            return [
                InboundEvent(
                    external_id=str(item["id"]),
                    kind=item.get("kind", "dm"),
                    author_id=str(item["from"]),
                    author_name=item.get("name", ""),
                    text=item.get("text", ""),
                    created_at=datetime.fromisoformat(item["date"]),
                    thread_id=str(item.get("thread", "")),
                    reply_to_id=str(item.get("reply_to", "")),
                    raw=item,
                )
                for item in items
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(f"malformed webhook body: {exc}", permanent=True)

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        account = self._account
        start = int(cursor or 0)
        batch = account.inbound[start : start + 100]
        return batch, str(start + len(batch))

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        account = self._account
        key = reply.idempotency_key or FakeNetwork.next_id("k")
        if key not in account.replies:
            account.replies[key] = reply
        return ExternalRef(external_id=f"reply-{key}", parent_id=reply.thread_id)

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        account = self._account
        if len(variant.text) > self.limits.max_text:
            raise AdapterError(f"text longer than {self.limits.max_text} characters", permanent=True)
        existing = self.find_published(idempotency_key)
        if existing:
            return existing
        post_id = FakeNetwork.next_id("post")
        account.posts[post_id] = {
            "text": variant.text,
            "key": idempotency_key,
            "media": list(variant.media),
            "likes": 0,
            "reposts": 0,
            "comments": 0,
            "deleted": False,
        }
        return ExternalRef(
            external_id=post_id, url=f"https://fake.invalid/{self.config.account_id}/{post_id}"
        )

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        for post_id, post in self._account.posts.items():
            if post["key"] == idempotency_key:
                return ExternalRef(
                    external_id=post_id, url=f"https://fake.invalid/{self.config.account_id}/{post_id}"
                )
        return None

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        self._account.moderated[ref.external_id] = action

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        account = self._account
        now = datetime.now(UTC)
        points = []
        for ref in refs:
            post = account.posts.get(ref.external_id)
            if post is None:
                continue
            points += [
                MetricPoint(ref.external_id, name, float(post[name]), now)
                for name in ("likes", "reposts", "comments")
            ]
        return points

    def entries(self, ref: ExternalRef) -> list[Entry]:
        return list(self._account.entries.get(ref.external_id, []))

    def followers(self) -> int | None:
        return self._account.followers

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        needle = query.casefold()
        return [
            e
            for e in self._account.inbound
            if needle in e.text.casefold() and (since is None or e.created_at >= since)
        ]
