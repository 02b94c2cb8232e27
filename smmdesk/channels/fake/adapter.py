"""The fake network: an in-memory network with every capability, for tests, the demo and benchmarks.

State lives in this process (FakeNetwork.accounts), keyed by the channel's account id, so two channels
with the same account see the same network. Tests reach in through `FakeNetwork` to inject inbound
messages, revoke tokens or inspect what was published, and set `FakeNetwork.faults` to make its calls
fail as real networks' do (channels/fake/faults.py).

The network honours idempotency keys: a reply or a post repeated with the same key is answered with the
first one. An account with `drops_repeats` off posts every publish call, as a network without keys does,
and can only be asked afterwards (find_published), which always knows.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

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
from smmdesk.channels.fake.faults import FaultInjector
from smmdesk.lib import http

REVOKED_PREFIX = "revoked"
T = TypeVar("T")


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
    # Off: a publish repeated with the same key makes a second post (the key is only kept for lookups).
    drops_repeats: bool = True


class FakeNetwork:
    accounts: dict[str, FakeAccount] = {}
    # When set, calls fail as it decides (channels/fake/faults.py).
    faults: FaultInjector | None = None
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
            cls.faults = None


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

    # The network can always say whether it holds a post with a key: None from find_published is sure.
    finds_published = True

    @property
    def _account(self) -> FakeAccount:
        account = FakeNetwork.account(self.config.account_id)
        if account.revoked or self.config.api_token.get_secret_value().startswith(REVOKED_PREFIX):
            raise AdapterError("the access token was revoked", reconnect=True)
        return account

    def _call(self, operation: str, act: Callable[[FakeAccount], T], subject: str = "", key: str = "") -> T:
        """Run one call on the network, through the fault injector when one is set: a fault strikes
        before `act` (nothing happened) or after it (it happened and the answer was lost)."""
        account = self._account
        injector = FakeNetwork.faults
        if injector is None:
            return act(account)
        token = self.config.api_token.get_secret_value()
        fault = injector.draw(self.config.account_id, token, operation, subject, key)
        try:
            if fault is not None and not fault.after_write:
                raise fault.error()
            result = act(account)
            if fault is not None:
                raise fault.error()
        except http.OutboundError as exc:
            raise refusal(operation, exc)
        return result

    def check(self) -> AccountInfo:
        def act(account: FakeAccount) -> AccountInfo:
            if account.check_error:
                raise AdapterError(account.check_error)
            return AccountInfo(
                external_id=self.config.account_id,
                name=f"Fake {self.config.stands_for} account",
                url=f"https://fake.invalid/{self.config.account_id}",
            )

        return self._call("check", act)

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
        def act(account: FakeAccount):
            start = int(cursor or 0)
            batch = account.inbound[start : start + 100]
            return batch, str(start + len(batch))

        return self._call("poll", act, cursor or "")

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        key = reply.idempotency_key or FakeNetwork.next_id("k")

        def act(account: FakeAccount) -> ExternalRef:
            if key not in account.replies:
                account.replies[key] = reply
            return ExternalRef(external_id=f"reply-{key}", parent_id=reply.thread_id)

        return self._call("reply", act, reply.text, key)

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        if len(variant.text) > self.limits.max_text:
            raise AdapterError(f"text longer than {self.limits.max_text} characters", permanent=True)

        def act(account: FakeAccount) -> ExternalRef:
            existing = self._find(account, idempotency_key) if account.drops_repeats else None
            if existing:
                return existing
            post_id = FakeNetwork.next_id("post")
            account.posts[post_id] = {
                "text": variant.text,
                "key": idempotency_key,
                "media": list(variant.media),
                "reach": fake_reach(post_id),
                "likes": 0,
                "reposts": 0,
                "comments": 0,
                "deleted": False,
            }
            return self._ref(post_id)

        return self._call("publish", act, variant.text, idempotency_key)

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        return self._call(
            "find_published", lambda account: self._find(account, idempotency_key), key=idempotency_key
        )

    def _find(self, account: FakeAccount, idempotency_key: str) -> ExternalRef | None:
        for post_id, post in account.posts.items():
            if post["key"] == idempotency_key:
                return self._ref(post_id)
        return None

    def _ref(self, post_id: str) -> ExternalRef:
        return ExternalRef(
            external_id=post_id, url=f"https://fake.invalid/{self.config.account_id}/{post_id}"
        )

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        def act(account: FakeAccount) -> None:
            account.moderated[ref.external_id] = action

        self._call("moderate", act, ref.external_id)

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        def act(account: FakeAccount) -> list[MetricPoint]:
            now = datetime.now(UTC)
            points = []
            for ref in refs:
                post = account.posts.get(ref.external_id)
                if post is None:
                    continue
                points += [
                    MetricPoint(ref.external_id, name, float(post[name]), now)
                    for name in ("reach", "likes", "reposts", "comments")
                    if name in post  # a post a test put in by hand may lack some
                ]
            return points

        return self._call("metrics", act)

    def entries(self, ref: ExternalRef) -> list[Entry]:
        return self._call("entries", lambda account: list(account.entries.get(ref.external_id, [])))

    def followers(self) -> int | None:
        return self._call("followers", lambda account: account.followers)

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        needle = query.casefold()
        return self._call(
            "search",
            lambda account: [
                e
                for e in account.inbound
                if needle in e.text.casefold() and (since is None or e.created_at >= since)
            ],
            query,
        )


def fake_reach(post_id: str) -> int:
    """How many people saw a fake post: 200 to 1999, the same for the same post id on every run, so the
    demo's performance page has engagement rates to show and tests can predict them."""
    return 200 + int(hashlib.sha256(post_id.encode()).hexdigest()[:8], 16) % 1800


def refusal(operation: str, exc: http.OutboundError) -> AdapterError:
    """The AdapterError for a failed call, as the real adapters judge lib/http's errors: 401 means the
    token no longer works; the rest is permanent or not, with Retry-After, as lib/http says."""
    message = f"fake {operation}: {exc.message}"
    if exc.status == 401:
        return AdapterError(f"{message} (the access token was revoked)", reconnect=True)
    return AdapterError(message, permanent=exc.permanent, retry_after=exc.retry_after)
