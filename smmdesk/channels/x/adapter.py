"""X (API v2) with an OAuth 2.0 user-context token: posts, mentions into the inbox, replies, hidden
replies, metrics, contest entries and recent search. docs/networks/x.md is the user's side of it.

X has no idempotency mechanism for posts, so find_published answers None and the product's ledger
(channels/ledger.py) is what keeps a retried publish from posting twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Literal

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
)
from smmdesk.channels.x import tweets
from smmdesk.channels.x.client import XClient
from smmdesk.lib import http

MAX_TEXT = 280
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
PAGE_SIZE = 100
# Contest entries and search read at most this many pages per list: X bills every post and user read.
MAX_PAGES = 10
SEARCH_PAGES = 5
# Recent search covers the last seven days; a start_time older than that is refused.
SEARCH_WINDOW = timedelta(days=7) - timedelta(minutes=1)
ME_CACHE_SECONDS = 24 * 3600


def _cursor_state(cursor: str | None) -> dict:
    # A cursor this adapter did not write (an older format, a hand edit) starts afresh, like a first poll.
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


class XConfig(BaseModel):
    access_token: SecretStr = Field(
        title=gettext_noop("Access token"),
        description=gettext_noop(
            "OAuth 2.0 user-context access token of the account (scopes tweet.read tweet.write "
            "users.read offline.access media.write like.read tweet.moderate.write)."
        ),
    )
    refresh_token: SecretStr | None = Field(
        None,
        title=gettext_noop("Refresh token"),
        description=gettext_noop(
            "Issued with the offline.access scope. Access tokens expire after two hours; with a refresh "
            "token and the client ID smmdesk renews them itself."
        ),
    )
    client_id: str = Field(
        "",
        max_length=200,
        title=gettext_noop("OAuth 2.0 client ID"),
        description=gettext_noop("From the app's Keys and tokens page; needed to renew the access token."),
    )
    client_secret: SecretStr | None = Field(
        None,
        title=gettext_noop("OAuth 2.0 client secret"),
        description=gettext_noop("Only for a confidential client (Web App type); leave empty otherwise."),
    )
    api_url: str = Field(
        "https://api.x.com",
        title=gettext_noop("API address"),
        description=gettext_noop("Change only to point smmdesk at a test server."),
    )


class XAdapter(Adapter):
    kind = "x"
    label = _("X")
    Config = XConfig
    capabilities = SOCIAL | {Capability.SEARCH}
    # Reading (mentions, metrics, likes, reposts, search) and hiding replies are paid on X: the free plan
    # only posts, and accounts made since February 2026 pay per use for every call.
    paid_capabilities = frozenset(
        {Capability.INBOX, Capability.MODERATE, Capability.METRICS, Capability.ENTRIES, Capability.SEARCH}
    )
    limits = PostLimits(max_text=MAX_TEXT, max_media=MAX_IMAGES, supports_link=True)
    help_text = _(
        "1. Sign in at console.x.com (the X Developer Console) with the account that will post, create a "
        "project and an app, and buy API credits: reading mentions, metrics, likes and search is paid.\n"
        "2. In the app's User authentication settings turn on OAuth 2.0, type Web App or Native App, "
        "permissions Read and write, and any callback address you control.\n"
        "3. Authorize the app for the account with the scopes tweet.read tweet.write users.read "
        "offline.access media.write like.read tweet.moderate.write (the console's token generator or "
        "any OAuth 2.0 tool with PKCE does this), and paste the access token and the refresh token here.\n"
        "4. Copy the OAuth 2.0 client ID (and the client secret for a Web App) from Keys and tokens, so "
        "smmdesk can renew the access token when it expires every two hours.\n"
        "Mentions are read every minute; X sends no webhooks to this kind of app."
    )

    def __init__(self, config: XConfig, channel_id: int | None = None):
        super().__init__(config, channel_id)
        self.client = XClient(config)

    def sealed_cache_keys(self) -> list[tuple[str, int | None]]:
        # The refreshed token pair lives only there, without expiry: losing it means reconnecting.
        key = self.client._store_key()
        return [(key, None)] if key else []

    # --- account ------------------------------------------------------------------------------------

    def _me(self, fresh: bool = False) -> dict:
        """The authenticated user (GET /2/users/me), kept a day: mentions need its id on every poll and X
        bills each user read."""
        key = f"x:me:{self.client.account_key}"
        me = None if fresh else cache.get(key)
        if me is None:
            me = self.client.request(
                "GET", "/2/users/me", params={"user.fields": "name,username"}, what="check"
            ).get("data")
            if not isinstance(me, dict) or not me.get("id"):
                raise AdapterError("x check: the answer names no user")
            cache.set(key, me, ME_CACHE_SECONDS)
        return me

    def check(self) -> AccountInfo:
        me = self._me(fresh=True)
        username = me.get("username", "")
        return AccountInfo(
            external_id=str(me["id"]),
            name=me.get("name") or f"@{username}",
            url=f"https://x.com/{username}" if username else "",
        )

    # --- inbox --------------------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """Mentions newer than the cursor, newest page first.

        X pages backwards from the newest post, so one batch of new mentions may take several pages:
        the cursor keeps since_id (everything up to it is in), the next page's token and the newest id
        of the batch, which becomes since_id once the last page is read. The first poll takes the latest
        page only, not the account's whole history.
        """
        state = _cursor_state(cursor)
        user_id = self._me()["id"]
        params = dict(tweets.READ_PARAMS, max_results=PAGE_SIZE)
        if state.get("since"):
            params["since_id"] = state["since"]
        if state.get("next"):
            params["pagination_token"] = state["next"]
        page = self.client.request(
            "GET",
            f"/2/users/{user_id}/mentions",
            route="GET /2/users/:id/mentions",
            params=params,
            what="mentions",
        )
        meta = page.get("meta") or {}
        events = tweets.events_from(page, kind="mention")
        top = state.get("top") or meta.get("newest_id")
        if state.get("since") and meta.get("next_token"):
            following = {"since": state["since"], "next": meta["next_token"], "top": top}
        elif top:
            following = {"since": top}
        else:
            following = state
        return events, json.dumps(following, separators=(",", ":")) if following else cursor

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        oldest = datetime.now(UTC) - SEARCH_WINDOW
        start = max(since, oldest) if since else oldest
        params = dict(
            tweets.READ_PARAMS,
            query=query,
            max_results=PAGE_SIZE,
            start_time=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        found: list[InboundEvent] = []
        for page in self._pages("/2/tweets/search/recent", params, "search", SEARCH_PAGES):
            found += tweets.events_from(page, kind="mention")
        return found

    def _pages(self, path: str, params: dict, what: str, limit: int, route: str = ""):
        token = None
        for _page in range(limit):
            page = self.client.request(
                "GET",
                path,
                route=route,
                params=dict(params, pagination_token=token) if token else params,
                what=what,
            )
            yield page
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return

    # --- replies and publishing ---------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        # X cannot deduplicate a post; a reply task that runs twice is kept from posting twice by the inbox.
        target = reply.reply_to_id or reply.thread_id
        if not target:
            raise AdapterError("x reply: no post to answer", permanent=True)
        self._check_length(reply.text)
        data = self._create({"text": reply.text, "reply": {"in_reply_to_tweet_id": target}}, "reply")
        return ExternalRef(data["id"], url=tweets.post_url(data["id"]), parent_id=reply.thread_id)

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        text = variant.text
        if variant.link and variant.link not in text:
            text = f"{text}\n{variant.link}" if text else variant.link
        self._check_length(text, media=bool(variant.media))
        if len(variant.media) > MAX_IMAGES:
            raise AdapterError(f"x publish: at most {MAX_IMAGES} images per post", permanent=True)
        # An image alone makes a post; X wants no empty text field then.
        body: dict = {"text": text} if text else {}
        media_ids = [self._upload(url) for url in variant.media]
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        data = self._create(body, "publish")
        return ExternalRef(data["id"], url=tweets.post_url(data["id"]))

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        # A post carries nothing we could find it by later; the ledger's record is the only memory.
        return None

    def _check_length(self, text: str, media: bool = False) -> None:
        if not text.strip() and not media:
            raise AdapterError("x: a post needs text or an image", permanent=True)
        if tweets.weighted_length(text) > MAX_TEXT:
            raise AdapterError(f"x: text longer than {MAX_TEXT} characters as X counts them", permanent=True)

    def _create(self, body: dict, what: str) -> dict:
        data = self.client.request("POST", "/2/tweets", json=body, what=what).get("data") or {}
        if not data.get("id"):
            raise AdapterError(f"x {what}: the answer has no post id")
        return data

    def _upload(self, url: str) -> str:
        """Fetch an image from its public address and upload it (POST /2/media/upload, one request: images
        up to 5 MB need no chunked upload); the media id for the post."""
        try:
            image = http.get(url, timeout=30.0)
        except http.OutboundError as exc:
            raise AdapterError(f"x media: cannot fetch the image: {exc.message}", permanent=exc.permanent)
        content_type = image.headers.get("Content-Type", "").split(";")[0].strip()
        if not content_type.startswith("image/"):
            raise AdapterError("x media: only images can be attached", permanent=True)
        if len(image.content) > MAX_IMAGE_BYTES:
            raise AdapterError("x media: an image may be at most 5 MB", permanent=True)
        name = url.rsplit("/", 1)[-1].split("?")[0] or "image"
        answer = self.client.request(
            "POST",
            "/2/media/upload",
            files={"media": (name, image.content, content_type)},
            data={"media_category": "tweet_image"},
            what="media upload",
        )
        media_id = (answer.get("data") or {}).get("id")
        if not media_id:
            raise AdapterError("x media upload: the answer has no media id")
        return str(media_id)

    # --- moderation, metrics, entries ---------------------------------------------------------------

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        if action == "hide":
            # Only replies in a conversation the account started can be hidden.
            self.client.request(
                "PUT",
                f"/2/tweets/{ref.external_id}/hidden",
                route="PUT /2/tweets/:id/hidden",
                json={"hidden": True},
                what="hide reply",
            )
        elif action == "delete":
            # X lets an account delete only its own posts; someone else's reply can only be hidden.
            self.client.request(
                "DELETE", f"/2/tweets/{ref.external_id}", route="DELETE /2/tweets/:id", what="delete"
            )
        else:
            raise AdapterError(f"x: unknown moderation action {action!r}", permanent=True)

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        now = datetime.now(UTC)
        ids = [r.external_id for r in refs if r.external_id]
        names = {
            "like_count": "likes",
            "retweet_count": "reposts",
            "reply_count": "comments",
            "quote_count": "quotes",
            "impression_count": "views",
        }
        points = []
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            # Deleted posts come back under "errors" (resource-not-found) and are skipped.
            answer = self.client.request(
                "GET",
                "/2/tweets",
                params={"ids": ",".join(chunk), "tweet.fields": "public_metrics"},
                what="metrics",
            )
            for post in answer.get("data") or []:
                counters = post.get("public_metrics") or {}
                points += [
                    MetricPoint(post["id"], name, float(counters[field]), now)
                    for field, name in names.items()
                    if isinstance(counters.get(field), int | float)
                ]
        return points

    def entries(self, ref: ExternalRef) -> list[Entry]:
        """Who liked, reposted or replied to a post. Replies come from recent search (conversation_id),
        which reaches seven days back, so run a contest's draw within a week of the post."""
        found: dict[str, dict] = {}

        def add(user_id: str, name: str, kind: str, text: str = "", created_at=None):
            entry = found.setdefault(user_id, {"name": name, "kinds": set(), "text": "", "created_at": None})
            entry["kinds"].add(kind)
            entry["name"] = entry["name"] or name
            if text and (entry["created_at"] is None or (created_at and created_at < entry["created_at"])):
                entry["text"], entry["created_at"] = text, created_at

        post_id = ref.external_id
        users = {"max_results": PAGE_SIZE, "user.fields": "name,username"}
        for kind, edge in (("like", "liking_users"), ("repost", "retweeted_by")):
            for page in self._pages(
                f"/2/tweets/{post_id}/{edge}",
                users,
                f"entries {edge}",
                MAX_PAGES,
                f"GET /2/tweets/:id/{edge}",
            ):
                for user in page.get("data") or []:
                    add(user["id"], user.get("name") or user.get("username", ""), kind)
        replies = dict(tweets.READ_PARAMS, query=f"conversation_id:{post_id}", max_results=PAGE_SIZE)
        for page in self._pages("/2/tweets/search/recent", replies, "entries replies", MAX_PAGES):
            for event in tweets.events_from(page, kind="comment"):
                add(event.author_id, event.author_name, "comment", event.text, event.created_at)
        return [
            Entry(
                author_id=user_id,
                author_name=e["name"],
                kinds=frozenset(e["kinds"]),
                text=e["text"],
                created_at=e["created_at"],
            )
            for user_id, e in found.items()
        ]
