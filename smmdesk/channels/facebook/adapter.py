"""Facebook Page through the Graph API: posts, comments and Messenger messages into the inbox (webhooks,
with a polling fallback for comments), replies, hiding and deleting comments, metrics and contest
entries. docs/networks/facebook.md is the user's side of it.

The Graph API has no idempotency mechanism for posts, so find_published answers None and the product's
ledger (channels/ledger.py) keeps a retried publish from posting twice.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, Field, SecretStr

from smmdesk.channels.base import (
    SOCIAL,
    AccountInfo,
    Adapter,
    AdapterError,
    Entry,
    ExternalRef,
    InboundEvent,
    MetricPoint,
    OutboundReply,
    PostLimits,
    PostVariant,
    WebhookAnswer,
)
from smmdesk.channels.facebook import graph, payloads

logger = logging.getLogger(__name__)

MAX_TEXT = 63206
MAX_IMAGES = 10
MESSENGER_MAX_TEXT = 2000
# Polling is the safety net under webhooks: the newest posts' newest comments, one call a minute.
POLL_POSTS = 10
POLL_COMMENTS = 50
# A new channel does not pull in years of old comments: its first poll looks back this far.
FIRST_POLL_WINDOW = timedelta(days=2)
ENTRY_PAGES = 50


def version_field():
    return Field(
        graph.DEFAULT_VERSION,
        pattern=r"^v\d+\.\d+$",
        title=gettext_noop("Graph API version"),
        description=gettext_noop("Like v26.0. Meta retires old versions about two years after release."),
    )


def graph_url_field():
    return Field(
        graph.DEFAULT_GRAPH_URL,
        title=gettext_noop("Graph API address"),
        description=gettext_noop("Change only to point smmdesk at a test server."),
    )


def app_secret_field():
    return Field(
        title=gettext_noop("App secret"),
        description=gettext_noop(
            "From the Meta app's Settings → Basic. Meta signs every webhook with it, and smmdesk signs its "
            "calls with it (appsecret_proof)."
        ),
    )


def verify_token_field():
    return Field(
        None,
        title=gettext_noop("Webhook verify token"),
        description=gettext_noop(
            "Any text you choose; type the same text as Verify token in the app's Webhooks settings."
        ),
    )


class FacebookConfig(BaseModel):
    page_id: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^\d+$",
        title=gettext_noop("Page ID"),
        description=gettext_noop("The number under the Page's About → Page transparency, or in its URL."),
    )
    page_access_token: SecretStr = Field(
        title=gettext_noop("Page access token"),
        description=gettext_noop(
            "A long-lived Page token with pages_manage_posts, pages_manage_engagement, pages_read_engagement, "
            "pages_read_user_content and pages_messaging."
        ),
    )
    app_secret: SecretStr = app_secret_field()
    verify_token: SecretStr | None = verify_token_field()
    graph_url: str = graph_url_field()
    api_version: str = version_field()


class FacebookAdapter(Adapter):
    kind = "facebook"
    label = _("Facebook Page")
    Config = FacebookConfig
    capabilities = SOCIAL
    limits = PostLimits(max_text=MAX_TEXT, max_media=MAX_IMAGES, supports_link=True)
    help_text = _(
        "1. At developers.facebook.com create an app of the Business type and add the Webhooks and "
        "Messenger products; copy the App secret from Settings → Basic.\n"
        "2. In the Graph API Explorer choose the app, ask for a user token with pages_show_list, "
        "pages_manage_posts, pages_manage_engagement, pages_read_engagement, pages_read_user_content, "
        "pages_manage_metadata and pages_messaging, then pick your Page to get its Page token; make it "
        "long-lived with the Access Token Debugger (Extend access token), or use a system user's token "
        "from Business Settings.\n"
        "3. Paste the Page ID, the Page token, the App secret and a verify token of your choice here.\n"
        "4. In the app's Webhooks settings choose Page, set the callback URL to this server's "
        "/hooks/<channel id>/ address (shown on the channel page) and the same verify token, and "
        "subscribe to feed, mention and messages. Then subscribe the Page to the app (POST "
        "/<page id>/subscribed_apps with the Page token, or Messenger settings → Add Pages)."
    )

    def __init__(self, config: FacebookConfig, channel_id: int | None = None):
        super().__init__(config, channel_id)
        self.page_id = config.page_id
        self.graph = graph.GraphClient(
            graph_url=config.graph_url,
            version=config.api_version,
            token=config.page_access_token,
            app_secret=config.app_secret,
            account=config.page_id,
            label="facebook",
        )

    def check(self) -> AccountInfo:
        page = self.graph.request("GET", self.page_id, what="check", params={"fields": "name,link"})
        return AccountInfo(
            external_id=str(page.get("id") or self.page_id),
            name=page.get("name", ""),
            url=page.get("link") or f"https://www.facebook.com/{self.page_id}",
        )

    # --- inbound ------------------------------------------------------------------------------------

    def handshake(self, method: str, query, body: bytes, headers) -> WebhookAnswer | None:
        return graph.handshake(self.config.verify_token, method, query)

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        graph.verify_signature(self.config.app_secret, body, headers)
        events = []
        for entry in graph.deliveries(body, "page"):
            # One Meta app may serve several Pages; each channel takes its own Page's entries.
            if str(entry.get("id", "")) != self.page_id:
                continue
            events += payloads.events_of_entry(entry, self.page_id)
        for event in events:
            if event.kind == "mention" and not event.text:
                self._fill_mention(event)
        return events

    def _fill_mention(self, event: InboundEvent) -> None:
        """Meta's mention notice names the post or comment but not always its text: look it up, and keep
        the mention without text if the lookup fails (the notice must not be lost for it)."""
        try:
            found = self.graph.request(
                "GET",
                event.external_id,
                what="mention lookup",
                params={"fields": "message,created_time,permalink_url"},
            )
        except AdapterError as exc:
            logger.info("facebook mention %s: text not available: %s", event.external_id, exc.message)
            return
        event.text = found.get("message", "")
        if found.get("created_time"):
            event.created_at = graph.parse_time(found["created_time"])
        if found.get("permalink_url"):
            event.attachments.append({"type": "link", "url": found["permalink_url"]})

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """New comments on the Page's latest posts, in one call; the cursor is the newest comment time
        seen. Comments at exactly that time are read again, which ingestion ignores, so none is lost to
        two comments sharing a second."""
        since = graph.cursor_time(cursor, FIRST_POLL_WINDOW)
        fields = (
            f"id,comments.filter(stream).order(reverse_chronological).limit({POLL_COMMENTS})"
            "{id,message,from,created_time,parent{id},attachment}"
        )
        feed = self.graph.request(
            "GET", f"{self.page_id}/feed", what="poll", params={"fields": fields, "limit": POLL_POSTS}
        )
        events = []
        for post in feed.get("data") or []:
            for comment in (post.get("comments") or {}).get("data") or []:
                event = payloads.comment_event(comment, post["id"])
                if event.created_at >= since:
                    events.append(event)
        newest = max([e.created_at for e in events], default=since)
        return events, newest.strftime("%Y-%m-%dT%H:%M:%S%z")

    # --- replies and publishing ---------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        target = reply.reply_to_id
        if target and not target.startswith(("m_", "mid.")):
            # A comment (the reply joins its thread) or a post the Page was mentioned in.
            return self._comment(target, reply)
        if "_" in reply.thread_id:
            # Post ids are PAGEID_POSTID: a comment on the post. A Messenger thread is a bare PSID.
            return self._comment(reply.thread_id, reply)
        return self._message(reply)

    def _comment(self, target: str, reply: OutboundReply) -> ExternalRef:
        answer = self.graph.request("POST", f"{target}/comments", what="reply", data={"message": reply.text})
        return ExternalRef(str(answer["id"]), parent_id=reply.thread_id)

    def _message(self, reply: OutboundReply) -> ExternalRef:
        recipient = reply.recipient_id or reply.thread_id
        if len(reply.text) > MESSENGER_MAX_TEXT:
            raise AdapterError(
                f"facebook message: longer than {MESSENGER_MAX_TEXT} characters", permanent=True
            )
        # RESPONSE: an answer within 24 hours of the person's last message, which Messenger allows
        # without a message tag; later, Meta refuses it (a permanent error shown on the reply).
        body = {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": {"text": reply.text}}
        answer = self.graph.request("POST", f"{self.page_id}/messages", what="message", json=body)
        return ExternalRef(str(answer.get("message_id", "")), parent_id=reply.thread_id)

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        if len(variant.text) > MAX_TEXT:
            raise AdapterError(f"facebook publish: text longer than {MAX_TEXT} characters", permanent=True)
        if len(variant.media) > MAX_IMAGES:
            raise AdapterError(f"facebook publish: at most {MAX_IMAGES} images", permanent=True)
        if not variant.media:
            data = {"message": variant.text}
            if variant.link:
                data["link"] = variant.link
            answer = self.graph.request("POST", f"{self.page_id}/feed", what="publish", data=data)
            return self._post_ref(answer["id"])
        # A photo post has no link field: the link goes into the text.
        text = variant.text
        if variant.link and variant.link not in text:
            text = f"{text}\n{variant.link}" if text else variant.link
        if len(variant.media) == 1:
            answer = self.graph.request(
                "POST",
                f"{self.page_id}/photos",
                what="publish photo",
                data={"url": variant.media[0], "caption": text},
            )
            return self._post_ref(answer.get("post_id") or answer["id"])
        # Several photos: upload each unpublished, then one post that attaches them all.
        photo_ids = [
            self.graph.request(
                "POST", f"{self.page_id}/photos", what="upload photo", data={"url": url, "published": "false"}
            )["id"]
            for url in variant.media
        ]
        data = {"message": text}
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        answer = self.graph.request("POST", f"{self.page_id}/feed", what="publish", data=data)
        return self._post_ref(answer["id"])

    def _post_ref(self, post_id) -> ExternalRef:
        return ExternalRef(str(post_id), url=f"https://www.facebook.com/{post_id}")

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        # A Page post carries nothing we could find it by later; the ledger's record is the only memory.
        return None

    # --- moderation, metrics, entries ---------------------------------------------------------------

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        if ref.external_id.startswith(("m_", "mid.")):
            raise AdapterError("facebook: Messenger messages cannot be hidden or deleted", permanent=True)
        if action == "hide":
            # Hidden comments stay visible to their author and friends, and to nobody else.
            self.graph.request("POST", ref.external_id, what="hide", data={"is_hidden": "true"})
        elif action == "delete":
            self.graph.request("DELETE", ref.external_id, what="delete")
        else:
            raise AdapterError(f"facebook: unknown moderation action {action!r}", permanent=True)

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        now = datetime.now(UTC)
        fields = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
        points = []
        for ref in refs:
            try:
                post = self.graph.request("GET", ref.external_id, what="metrics", params={"fields": fields})
            except graph.GraphError as exc:
                if exc.code == 100:  # the post is gone (or was never visible to this Page)
                    continue
                raise
            counts = {
                "likes": ((post.get("reactions") or {}).get("summary") or {}).get("total_count"),
                "comments": ((post.get("comments") or {}).get("summary") or {}).get("total_count"),
                "reposts": (post.get("shares") or {}).get("count", 0),
            }
            points += [
                MetricPoint(ref.external_id, name, float(value), now)
                for name, value in counts.items()
                if isinstance(value, int | float)
            ]
        return points

    def entries(self, ref: ExternalRef) -> list[Entry]:
        """Who commented on or reacted to a post (any reaction counts as a like)."""
        found: dict[str, dict] = {}
        comments = self.graph.pages(
            f"{ref.external_id}/comments",
            what="entries comments",
            params={"filter": "stream", "fields": "id,from,message,created_time", "limit": 100},
            limit=ENTRY_PAGES,
        )
        for comment in comments:
            author = comment.get("from") or {}
            if not author.get("id") or author["id"] == self.page_id:
                continue
            entry = found.setdefault(
                author["id"], {"name": author.get("name", ""), "kinds": set(), "text": "", "at": None}
            )
            entry["kinds"].add("comment")
            at = graph.parse_time(comment.get("created_time"))
            if entry["at"] is None or at < entry["at"]:
                entry["text"], entry["at"] = comment.get("message", ""), at
        reactions = self.graph.pages(
            f"{ref.external_id}/reactions",
            what="entries reactions",
            params={"fields": "id,name,type", "limit": 100},
            limit=ENTRY_PAGES,
        )
        for reaction in reactions:
            if not reaction.get("id"):
                continue
            entry = found.setdefault(
                reaction["id"], {"name": reaction.get("name", ""), "kinds": set(), "text": "", "at": None}
            )
            entry["kinds"].add("like")
        return [
            Entry(
                author_id=uid,
                author_name=e["name"],
                kinds=frozenset(e["kinds"]),
                text=e["text"],
                created_at=e["at"],
            )
            for uid, e in found.items()
        ]
