"""Bluesky (AT Protocol): one account, signed in with an app password, through its PDS.

Inbound is polled from notifications (mentions, replies, quotes); Bluesky has no webhooks. A post's
record key is derived from the idempotency key, so a retried publish finds its post instead of making a
second one. See docs/networks/bluesky.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

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
from smmdesk.channels.bluesky import payloads, richtext
from smmdesk.channels.bluesky.payloads import POST
from smmdesk.channels.bluesky.xrpc import SESSION_TTL, XRPC, XRPCError, now_iso
from smmdesk.lib import http

MAX_TEXT = 300  # graphemes
MAX_TEXT_BYTES = 3000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images
PAGE = 100
POLL_PAGE = 50
THREADGATE = "app.bsky.feed.threadgate"
MAX_HIDDEN_REPLIES = 50


class BlueskyConfig(BaseModel):
    identifier: str = Field(
        min_length=3,
        max_length=253,
        title=gettext_noop("Handle"),
        description=gettext_noop("Your Bluesky handle, like shop.bsky.social, or the account's e-mail."),
    )
    app_password: SecretStr = Field(
        title=gettext_noop("App password"),
        description=gettext_noop(
            "Settings → Privacy and security → App passwords. Never your main password."
        ),
    )
    pds_url: str = Field(
        "https://bsky.social",
        title=gettext_noop("Server (PDS) address"),
        description=gettext_noop("Change only if your account lives on another PDS."),
    )
    appview_url: str = Field(
        "https://public.api.bsky.app",
        title=gettext_noop("Public API address"),
        description=gettext_noop("Where public counters, likes and threads are read from."),
    )


def _cursor(value: str | None) -> dict:
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        state = {}
    return state if isinstance(state, dict) else {}


class BlueskyAdapter(Adapter):
    kind = "bluesky"
    label = _("Bluesky")
    Config = BlueskyConfig
    capabilities = SOCIAL | {Capability.SEARCH}
    limits = PostLimits(max_text=MAX_TEXT, max_media=MAX_IMAGES, supports_link=True)
    # The record key is derived from the idempotency key: a repeat collides instead of posting.
    idempotent_publish = True
    help_text = _(
        "1. Sign in to Bluesky (bsky.app) as the account to connect.\n"
        "2. Open Settings → Privacy and security → App passwords → Add App Password.\n"
        "3. Name it smmdesk and create it; copy the password shown (xxxx-xxxx-xxxx-xxxx).\n"
        "4. Enter your handle (for example shop.bsky.social) and that app password here.\n"
        "Keep the server addresses unless your account is on your own PDS. "
        "Mentions, replies and quotes are fetched every minute."
    )

    def __init__(self, config: BlueskyConfig, channel_id: int | None = None):
        super().__init__(config, channel_id)
        self.xrpc = XRPC(
            config.pds_url, config.identifier, config.app_password.get_secret_value(), channel_id
        )

    def sealed_cache_keys(self) -> list[tuple[str, int | None]]:
        return [(self.xrpc.cache_key, SESSION_TTL)]

    # --- account ------------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        me = self.xrpc.call("GET", "com.atproto.server.getSession")
        did, handle = str(me.get("did") or ""), str(me.get("handle") or "")
        if not did:
            raise AdapterError("bluesky getSession: no account in the answer")
        profile = self.xrpc.call("GET", "app.bsky.actor.getProfile", params={"actor": did})
        name = profile.get("displayName") or handle
        return AccountInfo(external_id=did, name=f"{name} (@{handle})", url=payloads.profile_url(handle))

    # --- inbound ------------------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """Notifications newer than the mark in the cursor, read newest first a page at a time.

        The API pages backwards in time, so the cursor holds the mark (the newest notification already
        taken), the newest time of the walk under way, and where that walk goes on. A walk ends at the
        mark; then the mark moves up. The first poll takes the latest page only, not the history."""
        state = _cursor(cursor)
        mark = payloads.parse_time(state.get("mark"))
        params = {"limit": POLL_PAGE}
        if state.get("page"):
            params["cursor"] = state["page"]
        answer = self.xrpc.call("GET", "app.bsky.notification.listNotifications", params=params)
        notifications = [n for n in answer.get("notifications") or [] if isinstance(n, dict)]
        times = [payloads.parse_time(n.get("indexedAt")) for n in notifications]
        fresh = [
            n for n, t in zip(notifications, times, strict=True) if mark is None or t is None or t >= mark
        ]
        top = state.get("top") or next(
            (n.get("indexedAt") for n in notifications if n.get("indexedAt")), None
        )
        # Reaching the mark ends the walk; items at the mark itself are taken again (ingest skips them),
        # so one that shares the mark's moment is not lost.
        reached = mark is None or any(t is not None and t <= mark for t in times)
        if reached or not answer.get("cursor") or not notifications:
            newest = max([t for t in (payloads.parse_time(top), mark) if t], default=None)
            next_state = {"mark": newest.isoformat()} if newest else {}
        else:
            next_state = {"mark": state.get("mark"), "top": top, "page": answer["cursor"]}
        events = [e for e in map(payloads.notification_event, reversed(fresh)) if e is not None]
        return events, json.dumps(next_state, separators=(",", ":")) if next_state else cursor

    # --- posting ------------------------------------------------------------------------------------

    def _resolve(self, handle: str) -> str | None:
        try:
            answer = self.xrpc.public(
                "com.atproto.identity.resolveHandle", self.config.pds_url, params={"handle": handle}
            )
        except XRPCError as exc:
            if exc.permanent:
                return None  # no such handle: the @name stays plain text
            raise
        did = answer.get("did") if isinstance(answer, dict) else None
        return did if isinstance(did, str) and did.startswith("did:") else None

    @staticmethod
    def _fits(text: str) -> None:
        if richtext.graphemes(text) > MAX_TEXT or len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise AdapterError(f"text longer than {MAX_TEXT} characters", permanent=True)

    def _record(self, text: str) -> dict:
        self._fits(text)
        record = {"$type": POST, "text": text, "createdAt": now_iso()}
        found = richtext.facets(text, self._resolve)
        if found:
            record["facets"] = found
        return record

    def _image(self, source: str) -> dict:
        try:
            fetched = http.get(source, user_url=True)
        except http.OutboundError as exc:
            raise AdapterError(f"image {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after)
        mime = fetched.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not mime.startswith("image/"):
            raise AdapterError("Bluesky posts take images only", permanent=True)
        if len(fetched.content) > MAX_IMAGE_BYTES:
            raise AdapterError("Bluesky takes images up to 1 MB", permanent=True)
        answer = self.xrpc.call(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=fetched.content,
            headers={"Content-Type": mime},
        )
        blob = answer.get("blob") if isinstance(answer, dict) else None
        if not isinstance(blob, dict):
            raise AdapterError("bluesky uploadBlob: no blob in the answer")
        return {"alt": "", "image": blob}

    def _get_post_record(self, rkey: str) -> dict | None:
        try:
            return self.xrpc.call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": self.xrpc.did, "collection": POST, "rkey": rkey},
            )
        except XRPCError as exc:
            if exc.error == "RecordNotFound" or exc.status == 404:
                return None
            raise

    def _ref(self, uri: str) -> ExternalRef:
        return ExternalRef(external_id=uri, url=payloads.post_url(uri, self.xrpc.handle))

    def _create(self, record: dict, rkey: str | None) -> dict:
        body = {"repo": self.xrpc.did, "collection": POST, "record": record}
        if rkey:
            body["rkey"] = rkey
        try:
            # With our own rkey a repeat cannot make a second record, so lib/http may retry after a timeout.
            return self.xrpc.call(
                "POST", "com.atproto.repo.createRecord", json=body, write=True, idempotent=bool(rkey)
            )
        except XRPCError as exc:
            if not rkey or not exc.permanent or exc.reconnect:
                raise
            # The key is taken: an earlier attempt made this very post. Give that one back.
            existing = self._get_post_record(rkey)
            if existing is None:
                raise
            return existing

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        if len(variant.media) > MAX_IMAGES:
            raise AdapterError(f"more than {MAX_IMAGES} images", permanent=True)
        text = variant.text
        if variant.link and variant.link not in text:
            text = f"{text}\n\n{variant.link}".strip()
        self._fits(text)
        # Asked first: a retry finds its post without uploading the images again.
        existing = self.find_published(idempotency_key)
        if existing is not None:
            return existing
        record = self._record(text)
        if variant.media:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [self._image(m) for m in variant.media],
            }
        made = self._create(record, richtext.rkey_for(idempotency_key))
        return self._ref(str(made.get("uri", "")))

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        found = self._get_post_record(richtext.rkey_for(idempotency_key))
        return self._ref(str(found["uri"])) if found and found.get("uri") else None

    def _posts(self, uris: list[str], public: bool = True) -> list[dict]:
        posts = []
        for start in range(0, len(uris), 25):  # getPosts takes up to 25
            params = {"uris": uris[start : start + 25]}
            if public:
                answer = self.xrpc.public("app.bsky.feed.getPosts", self.config.appview_url, params=params)
            else:
                answer = self.xrpc.call("GET", "app.bsky.feed.getPosts", params=params)
            posts += [p for p in answer.get("posts") or [] if isinstance(p, dict)]
        return posts

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        """A reply under the post answered (or the thread's post), in its thread: the record names the
        thread's root and the parent, each by URI and CID, as app.bsky.feed.post#replyRef requires."""
        target = reply.reply_to_id or reply.thread_id
        if not target.startswith("at://"):
            raise AdapterError("bluesky reply: nothing to answer (no post)", permanent=True)
        found = self._posts([target], public=False)
        if not found:
            raise AdapterError("bluesky reply: the post answered is gone", permanent=True)
        parent = found[0]
        parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
        root_ref = ((parent.get("record") or {}).get("reply") or {}).get("root") or parent_ref
        record = self._record(reply.text)
        record["reply"] = {"root": {"uri": root_ref["uri"], "cid": root_ref["cid"]}, "parent": parent_ref}
        rkey = richtext.rkey_for(reply.idempotency_key, "reply") if reply.idempotency_key else None
        made = self._create(record, rkey)
        ref = self._ref(str(made.get("uri", "")))
        return ExternalRef(ref.external_id, ref.url, parent_id=parent["uri"])

    # --- moderation ---------------------------------------------------------------------------------

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        """delete: our own post goes. hide: someone's reply in a thread we started is hidden with the
        thread's threadgate (Bluesky's own "hide reply"); nobody can delete another account's post."""
        did, collection, rkey = payloads.parse_uri(ref.external_id)
        if action == "delete":
            if did != self.xrpc.did:
                raise AdapterError(
                    "Bluesky cannot delete someone else's post; hide the reply instead", permanent=True
                )
            self.xrpc.call(
                "POST",
                "com.atproto.repo.deleteRecord",
                json={"repo": did, "collection": collection or POST, "rkey": rkey},
                write=True,
            )
            return
        found = self._posts([ref.external_id], public=False)
        if not found:
            return  # gone already
        root = ((found[0].get("record") or {}).get("reply") or {}).get("root") or {}
        root_did, _collection, root_rkey = payloads.parse_uri(str(root.get("uri", "")))
        if root_did != self.xrpc.did:
            raise AdapterError("Bluesky hides replies only in threads this account started", permanent=True)
        self._hide_in_threadgate(root["uri"], root_rkey, ref.external_id)

    def _hide_in_threadgate(self, root_uri: str, root_rkey: str, reply_uri: str) -> None:
        # The threadgate shares its rkey with the root post (lexicon); an existing one keeps its rules.
        try:
            gate = self.xrpc.call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": self.xrpc.did, "collection": THREADGATE, "rkey": root_rkey},
            ).get("value")
        except XRPCError as exc:
            if exc.error != "RecordNotFound":
                raise
            gate = None
        gate = (
            dict(gate)
            if isinstance(gate, dict)
            else {"$type": THREADGATE, "post": root_uri, "createdAt": now_iso()}
        )
        hidden = list(gate.get("hiddenReplies") or [])
        if reply_uri in hidden:
            return
        if len(hidden) >= MAX_HIDDEN_REPLIES:
            raise AdapterError(
                f"Bluesky hides at most {MAX_HIDDEN_REPLIES} replies in a thread", permanent=True
            )
        gate["hiddenReplies"] = hidden + [reply_uri]
        self.xrpc.call(
            "POST",
            "com.atproto.repo.putRecord",
            json={"repo": self.xrpc.did, "collection": THREADGATE, "rkey": root_rkey, "record": gate},
            write=True,
        )

    # --- numbers, contests, listening -----------------------------------------------------------------

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        now = datetime.now(UTC)
        points = []
        for post in self._posts([r.external_id for r in refs]):
            for name, field in (
                ("likes", "likeCount"),
                ("reposts", "repostCount"),
                ("comments", "replyCount"),
                ("quotes", "quoteCount"),
            ):
                points.append(MetricPoint(post["uri"], name, float(post.get(field) or 0), now))
        return points

    def _paged(self, nsid: str, params: dict, key: str, max_pages: int = 20):
        params = {**params, "limit": PAGE}
        for _page in range(max_pages):
            answer = self.xrpc.public(nsid, self.config.appview_url, params=params)
            yield from (item for item in answer.get(key) or [] if isinstance(item, dict))
            if not answer.get("cursor") or not answer.get(key):
                return
            params["cursor"] = answer["cursor"]

    def entries(self, ref: ExternalRef) -> list[Entry]:
        me = self.xrpc.did
        found: dict[str, dict] = {}

        def add(actor: dict, kind: str, text: str = "", created=None):
            did = str((actor or {}).get("did") or "")
            if not did or did == me:
                return
            entry = found.setdefault(
                did, {"name": payloads.author_fields(actor)["author_handle"], "kinds": set()}
            )
            entry["kinds"].add(kind)
            if text and not entry.get("text"):
                entry["text"], entry["created_at"] = text, created

        for like in self._paged("app.bsky.feed.getLikes", {"uri": ref.external_id}, "likes"):
            add(like.get("actor"), "like")
        for actor in self._paged("app.bsky.feed.getRepostedBy", {"uri": ref.external_id}, "repostedBy"):
            add(actor, "repost")
        thread = self.xrpc.public(
            "app.bsky.feed.getPostThread",
            self.config.appview_url,
            params={"uri": ref.external_id, "depth": 10, "parentHeight": 0},
        ).get("thread")
        pending = list((thread or {}).get("replies") or [])
        while pending:
            node = pending.pop(0)
            post = node.get("post") if isinstance(node, dict) else None
            if not isinstance(post, dict):
                continue  # a deleted or blocked reply
            record = post.get("record") or {}
            add(
                post.get("author"),
                "comment",
                str(record.get("text") or ""),
                payloads.parse_time(record.get("createdAt")),
            )
            pending += list(node.get("replies") or [])
        return [
            Entry(
                author_id=did,
                author_name=entry["name"],
                kinds=frozenset(entry["kinds"]),
                text=entry.get("text", ""),
                created_at=entry.get("created_at"),
            )
            for did, entry in found.items()
        ]

    def followers(self) -> int | None:
        profile = self.xrpc.call("GET", "app.bsky.actor.getProfile", params={"actor": self.xrpc.did})
        count = profile.get("followersCount") if isinstance(profile, dict) else None
        return count if type(count) is int and count >= 0 else None

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        params = {"q": query, "sort": "latest", "limit": PAGE}
        if since:
            params["since"] = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        events = []
        for _page in range(3):
            answer = self.xrpc.call("GET", "app.bsky.feed.searchPosts", params=params)
            for post in answer.get("posts") or []:
                if not isinstance(post, dict):
                    continue
                event = payloads.post_event(
                    str(post.get("uri") or ""),
                    post.get("record"),
                    post.get("author"),
                    post.get("indexedAt"),
                    post,
                )
                if event is not None and (since is None or event.created_at >= since):
                    event.kind = "mention"
                    events.append(event)
            if not answer.get("cursor") or not answer.get("posts"):
                break
            params["cursor"] = answer["cursor"]
        return events
