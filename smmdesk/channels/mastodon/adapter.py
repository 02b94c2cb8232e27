"""Mastodon: any server of the fediverse that speaks Mastodon's REST API, with an access token of one account.

Inbound is polled from the account's mention notifications (a direct status is a private message);
an instance's own admin may also push local statuses by webhook. Publishing carries Mastodon's
Idempotency-Key. See docs/networks/mastodon.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, urlsplit

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, Field, SecretStr

from smmdesk.channels.base import (
    SOCIAL,
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
from smmdesk.channels.mastodon import payloads
from smmdesk.channels.mastodon.client import MastodonAPI
from smmdesk.lib import http

POLL_LIMIT = 40  # the most Mastodon returns in one page of notifications
MAX_TEXT = 500  # Mastodon's default; a server may allow more
MAX_MEDIA = 4
URL_WEIGHT = 23  # Mastodon counts every link as 23 characters, whatever its length
MAX_MEDIA_BYTES = 40 * 1024 * 1024
MEDIA_POLLS = 10
SIGNATURE_HEADER = "X-Hub-Signature"
VISIBILITIES = ("public", "unlisted", "private", "direct")
ME_TTL = 24 * 3600
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_REMOTE_MENTION = re.compile(r"(@[\w.]+)@[\w.-]+\w")
# Replaced by tests: waiting for the server to process an uploaded video is the only sleep here.
_sleep = time.sleep


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it against the limit: links weigh 23, remote mentions only @user."""
    text = _URL.sub("x" * URL_WEIGHT, text)
    return len(_REMOTE_MENTION.sub(r"\1", text))


def sign(secret: str, body: bytes) -> str:
    """X-Hub-Signature as Mastodon's admin webhooks send it (WebSub: sha256=<hex HMAC of the body>)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MastodonConfig(BaseModel):
    instance_url: str = Field(
        "https://mastodon.social",
        title=gettext_noop("Server address"),
        description=gettext_noop("The address of the Mastodon server the account is on."),
    )
    access_token: SecretStr = Field(
        title=gettext_noop("Access token"),
        description=gettext_noop(
            "Preferences → Development → New application, with the scopes read and write; then copy "
            "“Your access token”."
        ),
    )
    visibility: Literal["public", "unlisted", "private"] = Field(
        "public",
        title=gettext_noop("Who sees new posts"),
        description=gettext_noop("Public, unlisted (not in public timelines) or followers only."),
        json_schema_extra={
            "choice_labels": {
                "public": gettext_noop("Public"),
                "unlisted": gettext_noop("Unlisted"),
                "private": gettext_noop("Followers only"),
            }
        },
    )
    webhook_secret: SecretStr | None = Field(
        None,
        title=gettext_noop("Webhook secret"),
        description=gettext_noop(
            "Only if you administer the server: the secret of its webhook for status.created, "
            "pointed at this channel's webhook address."
        ),
    )


class MastodonAdapter(Adapter):
    kind = "mastodon"
    label = _("Mastodon")
    Config = MastodonConfig
    capabilities = SOCIAL | {Capability.SEARCH}
    limits = PostLimits(max_text=MAX_TEXT, max_media=MAX_MEDIA, supports_link=True)
    # Mastodon keeps an Idempotency-Key for an hour and answers a repeat with the first status.
    idempotent_publish = True
    help_text = _(
        "1. Sign in to your Mastodon server in a browser.\n"
        "2. Open Preferences → Development → New application.\n"
        "3. Name it smmdesk, keep at least the scopes read and write, and save.\n"
        "4. Open the application and copy “Your access token”.\n"
        "5. Paste it here with your server's address, for example https://mastodon.social.\n"
        "New mentions and private messages are fetched every minute."
    )

    def __init__(self, config: MastodonConfig, channel_id: int | None = None):
        super().__init__(config, channel_id)
        self.api = MastodonAPI(config.instance_url, config.access_token.get_secret_value())

    # --- who we are ---------------------------------------------------------------------------------

    def _me_key(self) -> str:
        return f"mastodon:me:{self.channel_id}:{self.api.rate_key}"

    def _verify_credentials(self) -> dict:
        me = self.api.json("GET", "/api/v1/accounts/verify_credentials", what="verify_credentials")
        if not isinstance(me, dict) or not me.get("id"):
            raise AdapterError("mastodon verify_credentials: no account in the answer")
        me = {k: me.get(k) for k in ("id", "acct", "username", "display_name", "url")}
        cache.set(self._me_key(), me, ME_TTL)
        return me

    def _me(self) -> dict:
        """Our own account (id, acct, url), remembered for a day so webhooks and entries need no call."""
        me = cache.get(self._me_key())
        return me if isinstance(me, dict) else self._verify_credentials()

    def check(self) -> AccountInfo:
        me = self._verify_credentials()
        handle = f"@{me.get('acct') or me.get('username')}@{self.api.host}"
        name = f"{me['display_name']} ({handle})" if me.get("display_name") else handle
        url = me.get("url") if str(me.get("url", "")).startswith(("https://", "http://")) else ""
        return AccountInfo(external_id=str(me["id"]), name=name, url=url)

    # --- inbound ------------------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """Mentions (public and direct) newer than the cursor, the id of the last notification taken.

        min_id asks for the page just after the cursor, oldest first in time, so a busy minute is read
        page by page without a gap; the first poll takes the latest page only."""
        params = {"types[]": "mention", "limit": POLL_LIMIT}
        if cursor:
            params["min_id"] = cursor
        response = self.api.request("GET", "/api/v1/notifications", params=params, what="notifications")
        try:
            notifications = response.json()
        except ValueError:
            raise AdapterError("mastodon notifications: the answer is not JSON")
        if not isinstance(notifications, list):
            raise AdapterError("mastodon notifications: expected a list", permanent=True)
        valid = [n for n in notifications if isinstance(n, dict) and str(n.get("id", "")).isdigit()]
        if not valid:
            return [], cursor
        events = []
        # Oldest first: a reply in the same page then finds the message it answers.
        for notification in sorted(valid, key=lambda n: int(n["id"])):
            if notification.get("type") != "mention":
                continue
            event = payloads.status_event(notification.get("status"), self.api.host, raw=notification)
            if event is not None:
                events.append(event)
        newest = max(int(n["id"]) for n in valid)
        if cursor and cursor.isdigit():
            newest = max(newest, int(cursor))
        return events, str(newest)

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        """An admin webhook of the server (status.created): the statuses that mention this account."""
        secret = self.config.webhook_secret
        if secret is None:
            raise SignatureError("this channel has no webhook secret: set the one of the server's webhook")
        given = headers.get(SIGNATURE_HEADER) or ""
        if not given:
            raise SignatureError(f"{SIGNATURE_HEADER}: header missing")
        expected = sign(secret.get_secret_value(), body)
        if not hmac.compare_digest(expected.encode(), given.strip().encode("utf-8", "replace")):
            raise SignatureError(f"{SIGNATURE_HEADER}: signature does not match the body")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise AdapterError("body: not JSON", permanent=True)
        if not isinstance(data, dict):
            raise AdapterError("body: expected a JSON object", permanent=True)
        # Edits, accounts and reports are acknowledged and ignored: only new statuses are messages.
        if data.get("event") != "status.created":
            return []
        status = data.get("object")
        if not isinstance(status, dict):
            raise AdapterError("body: status.created without a status object", permanent=True)
        me = str(self._me()["id"])
        mentioned = any(isinstance(m, dict) and str(m.get("id")) == me for m in status.get("mentions") or [])
        author = str((status.get("account") or {}).get("id", ""))
        if not mentioned or author == me:
            return []
        event = payloads.status_event(status, self.api.host, raw=data)
        return [event] if event else []

    # --- outbound -----------------------------------------------------------------------------------

    def _post_status(self, params: dict, key: str, what: str) -> dict:
        status = self.api.json(
            "POST", "/api/v1/statuses", json=params, idempotency_key=key, what=what, ok=(200,)
        )
        if not isinstance(status, dict) or not status.get("id"):
            raise AdapterError(f"mastodon {what}: no status in the answer")
        return status

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        """Answer a status in its thread, mentioning its author (Mastodon delivers a reply to the people
        it mentions), with the visibility of the status answered: a private message stays private."""
        if reply.reply_to_id:
            parent = self.api.json(
                "GET", f"/api/v1/statuses/{quote(reply.reply_to_id, safe='')}", what="reply target"
            )
            account = parent.get("account") or {}
            visibility = parent.get("visibility")
            if visibility not in VISIBILITIES:
                visibility = "public"
            in_reply_to = str(parent.get("id"))
        elif reply.recipient_id:
            account = self.api.json(
                "GET", f"/api/v1/accounts/{quote(reply.recipient_id, safe='')}", what="reply recipient"
            )
            visibility, in_reply_to = "direct", ""
        else:
            raise AdapterError(
                "mastodon reply: nothing to answer (no status and no recipient)", permanent=True
            )
        acct = str(account.get("acct") or "")
        text = reply.text
        if acct and f"@{acct}".lower() not in text.lower():
            text = f"@{acct} {text}"
        params = {"status": text, "visibility": visibility}
        if in_reply_to:
            params["in_reply_to_id"] = in_reply_to
        status = self._post_status(params, reply.idempotency_key, "reply")
        return ExternalRef(external_id=str(status["id"]), url=status.get("url") or "", parent_id=in_reply_to)

    def _upload(self, source: str) -> str:
        """Fetch one media file by its address (SSRF-guarded) and upload it; its attachment id."""
        try:
            fetched = http.get(source, user_url=True)
        except http.OutboundError as exc:
            raise AdapterError(f"media {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after)
        content = fetched.content
        if len(content) > MAX_MEDIA_BYTES:
            raise AdapterError(f"media larger than {MAX_MEDIA_BYTES // 2**20} MB", permanent=True)
        mime = fetched.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        name = urlsplit(source).path.rsplit("/", 1)[-1] or "media"
        response = self.api.request(
            "POST", "/api/v2/media", files={"file": (name[:100], content, mime)}, what="media", ok=(200, 202)
        )
        media = response.json()
        media_id = str(media.get("id", ""))
        # 202: a large file is still being processed; a status naming it before then is refused.
        polls = 0
        while response.status_code in (202, 206):
            if polls >= MEDIA_POLLS:
                raise AdapterError("mastodon media: still processing, try again later")
            _sleep(1.0)
            polls += 1
            response = self.api.request(
                "GET", f"/api/v1/media/{quote(media_id, safe='')}", what="media", ok=(200, 206)
            )
        return media_id

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        text = variant.text
        if variant.link and variant.link not in text:
            text = f"{text}\n\n{variant.link}".strip()
        if mastodon_length(text) > MAX_TEXT:
            raise AdapterError(f"text longer than {MAX_TEXT} characters", permanent=True)
        if len(variant.media) > MAX_MEDIA:
            raise AdapterError(f"more than {MAX_MEDIA} media files", permanent=True)
        params = {"status": text, "visibility": self.config.visibility}
        media_ids = [self._upload(source) for source in variant.media]
        if media_ids:
            params["media_ids"] = media_ids
        # The same key within an hour gives back the status already made, not a second one.
        status = self._post_status(params, idempotency_key, "publish")
        return ExternalRef(external_id=str(status["id"]), url=status.get("url") or "")

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        """Mastodon cannot look a status up by its idempotency key. None is still safe for the hour the
        server keeps the key: publishing again with it returns the status made before."""
        return None

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        if action != "delete":
            raise AdapterError("Mastodon cannot hide a status; only our own can be deleted", permanent=True)
        # 404: already gone, which is what deleting wanted.
        self.api.request(
            "DELETE", f"/api/v1/statuses/{quote(ref.external_id, safe='')}", what="delete", ok=(200, 404)
        )

    # --- numbers, contests, listening -----------------------------------------------------------------

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        points = []
        for ref in refs:
            response = self.api.request(
                "GET", f"/api/v1/statuses/{quote(ref.external_id, safe='')}", what="status", ok=(200, 404)
            )
            if response.status_code == 404:
                continue  # deleted: no numbers
            try:
                status = response.json()
            except ValueError:
                raise AdapterError("mastodon status: the answer is not JSON")
            now = datetime.now(UTC)
            for name, field in (
                ("likes", "favourites_count"),
                ("reposts", "reblogs_count"),
                ("comments", "replies_count"),
            ):
                points.append(MetricPoint(ref.external_id, name, float(status.get(field) or 0), now))
        return points

    def entries(self, ref: ExternalRef) -> list[Entry]:
        """Everyone who favourited, boosted or answered the status (answers anywhere below it)."""
        status_path = f"/api/v1/statuses/{quote(ref.external_id, safe='')}"
        me = str(self._me()["id"])
        found: dict[str, dict] = {}

        def add(account: dict, kind: str, text: str = "", created=None):
            account_id = str(account.get("id", ""))
            if not account_id or account_id == me:
                return
            entry = found.setdefault(
                account_id,
                {"name": payloads.author_fields(account, self.api.host)["author_handle"], "kinds": set()},
            )
            entry["kinds"].add(kind)
            if text and not entry.get("text"):
                entry["text"], entry["created_at"] = text, created

        for kind, path in (("like", "favourited_by"), ("repost", "reblogged_by")):
            for page in self.api.pages(f"{status_path}/{path}", {"limit": 80}, what=path):
                for account in page:
                    if isinstance(account, dict):
                        add(account, kind)
        context = self.api.json("GET", f"{status_path}/context", what="context")
        for status in context.get("descendants") or []:
            if isinstance(status, dict):
                add(
                    status.get("account") or {},
                    "comment",
                    payloads.status_text(status),
                    payloads.parse_time(status.get("created_at")),
                )
        return [
            Entry(
                author_id=account_id,
                author_name=entry["name"],
                kinds=frozenset(entry["kinds"]),
                text=entry.get("text", ""),
                created_at=entry.get("created_at"),
            )
            for account_id, entry in found.items()
        ]

    def followers(self) -> int | None:
        # Asked fresh each time: the account remembered by _me() keeps no counters.
        me = self.api.json("GET", "/api/v1/accounts/verify_credentials", what="verify_credentials")
        count = me.get("followers_count") if isinstance(me, dict) else None
        return count if type(count) is int and count >= 0 else None

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        """A single #tag reads the tag's public timeline (every server it federates with); anything else
        is a full-text search, which Mastodon answers only where the server indexes posts."""
        query = query.strip()
        if re.fullmatch(r"#\w+", query):
            pages = self.api.pages(
                f"/api/v1/timelines/tag/{quote(query[1:], safe='')}",
                {"limit": 40},
                what="tag timeline",
                max_pages=5,
            )
            statuses = []
            for page in pages:
                statuses += page
                oldest = payloads.parse_time(page[-1].get("created_at")) if page else None
                if since and oldest and oldest < since:
                    break
        else:
            found = self.api.json(
                "GET", "/api/v2/search", params={"q": query, "type": "statuses", "limit": 40}, what="search"
            )
            statuses = (found.get("statuses") or []) if isinstance(found, dict) else []
        events = []
        for status in statuses:
            event = payloads.status_event(status, self.api.host)
            if event is None or (since and event.created_at < since):
                continue
            # A public post found by listening starts its own thread, whatever it answers.
            event.kind, event.thread_id = "mention", event.external_id
            events.append(event)
        return events
