"""Instagram professional account (business or creator, linked to a Facebook Page) through the Graph API:
image posts and carousels, comments and @mentions into the inbox (webhooks, with a polling fallback for
comments), replies, hiding and deleting comments, metrics and contest entries from comments.

Instagram publishes only with media: a post without an image is refused before any call. There is no
idempotency mechanism, so find_published answers None and the product's ledger guards retries.
"""

from __future__ import annotations

import logging
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
    Entry,
    ExternalRef,
    InboundEvent,
    MetricPoint,
    OutboundReply,
    PostLimits,
    PostVariant,
    WebhookAnswer,
)
from smmdesk.channels.facebook import graph
from smmdesk.channels.facebook.adapter import (
    ENTRY_PAGES,
    FIRST_POLL_WINDOW,
    POLL_COMMENTS,
    POLL_POSTS,
    app_secret_field,
    graph_url_field,
    verify_token_field,
    version_field,
)

logger = logging.getLogger(__name__)

MAX_CAPTION = 2200
MAX_IMAGES = 10  # a carousel holds up to ten
COMMENT_FIELDS = "id,text,timestamp,username,from,parent_id"
# Mentions are a reply target of their own kind (POST /{ig-user-id}/mentions): their ids say so.
MENTION_PREFIX = "mention:"


class InstagramConfig(BaseModel):
    ig_user_id: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^\d+$",
        title=gettext_noop("Instagram account ID"),
        description=gettext_noop(
            "The Instagram business account's id: GET /<page id>?fields=instagram_business_account."
        ),
    )
    access_token: SecretStr = Field(
        title=gettext_noop("Access token"),
        description=gettext_noop(
            "The linked Facebook Page's long-lived token with instagram_basic, instagram_content_publish, "
            "instagram_manage_comments, instagram_manage_insights and pages_read_engagement."
        ),
    )
    app_secret: SecretStr = app_secret_field()
    verify_token: SecretStr | None = verify_token_field()
    graph_url: str = graph_url_field()
    api_version: str = version_field()


def mention_id(media_id: str, comment_id: str = "") -> str:
    return f"{MENTION_PREFIX}{media_id}:{comment_id}" if comment_id else f"{MENTION_PREFIX}{media_id}"


def comment_event(value: dict, media_id: str, created_at: datetime) -> InboundEvent:
    author = value.get("from") or {}
    username = author.get("username") or value.get("username", "")
    return InboundEvent(
        external_id=str(value["id"]),
        kind="comment",
        author_id=str(author.get("id", "")),
        author_name=username,
        author_handle=username,
        author_url=f"https://www.instagram.com/{username}" if username else "",
        text=value.get("text", ""),
        created_at=created_at,
        thread_id=media_id,
        reply_to_id=str(value.get("parent_id") or ""),
        raw=value,
    )


class InstagramAdapter(Adapter):
    kind = "instagram"
    label = _("Instagram")
    Config = InstagramConfig
    capabilities = SOCIAL
    limits = PostLimits(max_text=MAX_CAPTION, max_media=MAX_IMAGES, supports_link=False, media_required=True)
    help_text = _(
        "1. Make the Instagram account a business or creator account and link it to your Facebook Page "
        "(Instagram → Settings → Account type and tools; Page settings → Linked accounts).\n"
        "2. At developers.facebook.com use (or create) a Business app with the Instagram Graph API and "
        "Webhooks products; copy the App secret from Settings → Basic.\n"
        "3. In the Graph API Explorer ask for a user token with instagram_basic, "
        "instagram_content_publish, instagram_manage_comments, instagram_manage_insights, "
        "pages_show_list and pages_read_engagement, pick the linked Page to get its token, and extend it "
        "in the Access Token Debugger. GET /<page id>?fields=instagram_business_account gives the account ID.\n"
        "4. Paste the account ID, the token, the App secret and a verify token of your choice here.\n"
        "5. In the app's Webhooks settings choose Instagram, set the callback URL to this server's "
        "/hooks/<channel id>/ address and the same verify token, and subscribe to comments and mentions.\n"
        "Every post needs at least one image, given by its public address."
    )

    def __init__(self, config: InstagramConfig, channel_id: int | None = None):
        super().__init__(config, channel_id)
        self.ig_user_id = config.ig_user_id
        self.graph = graph.GraphClient(
            graph_url=config.graph_url,
            version=config.api_version,
            token=config.access_token,
            app_secret=config.app_secret,
            account=config.ig_user_id,
            label="instagram",
        )

    def check(self) -> AccountInfo:
        user = self.graph.request("GET", self.ig_user_id, what="check", params={"fields": "username,name"})
        username = user.get("username", "")
        return AccountInfo(
            external_id=str(user.get("id") or self.ig_user_id),
            name=user.get("name") or username,
            url=f"https://www.instagram.com/{username}" if username else "",
        )

    # --- inbound ------------------------------------------------------------------------------------

    def handshake(self, method: str, query, body: bytes, headers) -> WebhookAnswer | None:
        return graph.handshake(self.config.verify_token, method, query)

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        graph.verify_signature(self.config.app_secret, body, headers)
        events = []
        for entry in graph.deliveries(body, "instagram"):
            if str(entry.get("id", "")) != self.ig_user_id:
                continue
            sent_at = graph.parse_time(entry.get("time"))
            for change in entry.get("changes") or []:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict):
                    continue
                field = change.get("field")
                if field in ("comments", "live_comments") and value.get("id"):
                    media_id = str((value.get("media") or {}).get("id", ""))
                    # Meta's comment notice carries no time of its own: the delivery's time stands in.
                    events.append(comment_event(value, media_id, sent_at))
                elif field == "mentions" and value.get("media_id"):
                    events.append(self._mention(value, sent_at))
        return events

    def _mention(self, value: dict, sent_at: datetime) -> InboundEvent:
        """@mention in someone's caption or comment. The notice holds only ids, so the text and author are
        looked up (GET /{ig-user-id}?fields=mentioned_comment / mentioned_media); if that fails the
        mention is kept without them rather than lost."""
        media_id = str(value["media_id"])
        comment_id = str(value.get("comment_id") or "")
        event = InboundEvent(
            external_id=mention_id(media_id, comment_id),
            kind="mention",
            author_id="",
            author_name="",
            text="",
            created_at=sent_at,
            thread_id=media_id,
            raw=value,
        )
        if comment_id:
            field = f"mentioned_comment.comment_id({comment_id}){{text,timestamp,username,from}}"
        else:
            field = f"mentioned_media.media_id({media_id}){{caption,timestamp,username,permalink}}"
        try:
            found = self.graph.request(
                "GET", self.ig_user_id, what="mention lookup", params={"fields": field}
            )
        except AdapterError as exc:
            logger.info("instagram mention %s: details not available: %s", event.external_id, exc.message)
            return event
        item = found.get("mentioned_comment") or found.get("mentioned_media") or {}
        event.text = item.get("text") or item.get("caption", "")
        event.author_name = event.author_handle = item.get("username", "")
        event.author_id = str((item.get("from") or {}).get("id", ""))
        if event.author_name:
            event.author_url = f"https://www.instagram.com/{event.author_name}"
        if item.get("timestamp"):
            event.created_at = graph.parse_time(item["timestamp"])
        if item.get("permalink"):
            event.attachments.append({"type": "link", "url": item["permalink"]})
        return event

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """New comments (and replies) on the latest posts in one call; the cursor is the newest comment
        time seen, re-read inclusively so two comments in one second are not lost."""
        since = graph.cursor_time(cursor, FIRST_POLL_WINDOW)
        fields = f"id,comments.limit({POLL_COMMENTS}){{{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}}}"
        media = self.graph.request(
            "GET", f"{self.ig_user_id}/media", what="poll", params={"fields": fields, "limit": POLL_POSTS}
        )
        events = []
        for post in media.get("data") or []:
            for comment in (post.get("comments") or {}).get("data") or []:
                for item in [comment, *((comment.get("replies") or {}).get("data") or [])]:
                    event = comment_event(item, post["id"], graph.parse_time(item.get("timestamp")))
                    if event.created_at >= since:
                        events.append(event)
        newest = max([e.created_at for e in events], default=since)
        return events, newest.strftime("%Y-%m-%dT%H:%M:%S%z")

    # --- replies and publishing ---------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        target = reply.reply_to_id
        if target.startswith(MENTION_PREFIX):
            # Someone else's caption or comment: Instagram takes the answer through the mentions edge.
            media_id, _sep, comment_id = target[len(MENTION_PREFIX) :].partition(":")
            data = {"media_id": media_id, "message": reply.text}
            if comment_id:
                data["comment_id"] = comment_id
            answer = self.graph.request(
                "POST", f"{self.ig_user_id}/mentions", what="mention reply", data=data
            )
        elif target:
            answer = self.graph.request(
                "POST", f"{target}/replies", what="reply", data={"message": reply.text}
            )
        elif reply.thread_id:
            answer = self.graph.request(
                "POST", f"{reply.thread_id}/comments", what="comment", data={"message": reply.text}
            )
        else:
            raise AdapterError("instagram reply: nothing to answer", permanent=True)
        return ExternalRef(str(answer.get("id", "")), parent_id=reply.thread_id)

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        """A media container from the image (or a carousel of up to ten), then media_publish."""
        caption = variant.text
        if variant.link and variant.link not in caption:
            # Links in captions are not clickable on Instagram, but the address is still worth showing.
            caption = f"{caption}\n{variant.link}" if caption else variant.link
        if not variant.media:
            raise AdapterError("instagram publish: Instagram posts need at least one image", permanent=True)
        if len(variant.media) > MAX_IMAGES:
            raise AdapterError(f"instagram publish: at most {MAX_IMAGES} images", permanent=True)
        if len(caption) > MAX_CAPTION:
            raise AdapterError(
                f"instagram publish: caption longer than {MAX_CAPTION} characters", permanent=True
            )
        media_path = f"{self.ig_user_id}/media"
        if len(variant.media) == 1:
            container = self.graph.request(
                "POST",
                media_path,
                what="media container",
                data={"image_url": variant.media[0], "caption": caption},
            )
        else:
            children = [
                self.graph.request(
                    "POST",
                    media_path,
                    what="carousel item",
                    data={"image_url": url, "is_carousel_item": "true"},
                )["id"]
                for url in variant.media
            ]
            container = self.graph.request(
                "POST",
                media_path,
                what="carousel container",
                data={"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption},
            )
        published = self.graph.request(
            "POST", f"{self.ig_user_id}/media_publish", what="publish", data={"creation_id": container["id"]}
        )
        media_id = str(published["id"])
        return ExternalRef(media_id, url=self._permalink(media_id))

    def _permalink(self, media_id: str) -> str:
        # The post exists by now: a failed lookup must not turn it into an error (a retry would post twice).
        try:
            return self.graph.request("GET", media_id, what="permalink", params={"fields": "permalink"}).get(
                "permalink", ""
            )
        except AdapterError:
            return ""

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        return None

    # --- moderation, metrics, entries ---------------------------------------------------------------

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        if ref.external_id.startswith(MENTION_PREFIX):
            raise AdapterError(
                "instagram: a mention on someone else's post cannot be moderated", permanent=True
            )
        if action == "hide":
            self.graph.request("POST", ref.external_id, what="hide", data={"hide": "true"})
        elif action == "delete":
            self.graph.request("DELETE", ref.external_id, what="delete")
        else:
            raise AdapterError(f"instagram: unknown moderation action {action!r}", permanent=True)

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        now = datetime.now(UTC)
        points = []
        for ref in refs:
            try:
                media = self.graph.request(
                    "GET", ref.external_id, what="metrics", params={"fields": "like_count,comments_count"}
                )
            except graph.GraphError as exc:
                if exc.code == 100:  # deleted
                    continue
                raise
            for field, name in (("like_count", "likes"), ("comments_count", "comments")):
                if isinstance(media.get(field), int | float):
                    points.append(MetricPoint(ref.external_id, name, float(media[field]), now))
        return points

    def entries(self, ref: ExternalRef) -> list[Entry]:
        """Commenters of a post. Instagram's API does not list who liked a post, so likes cannot count."""
        found: dict[str, dict] = {}
        for comment in self.graph.pages(
            f"{ref.external_id}/comments",
            what="entries",
            params={"fields": COMMENT_FIELDS, "limit": 50},
            limit=ENTRY_PAGES,
        ):
            author = comment.get("from") or {}
            key = str(author.get("id") or comment.get("username") or "")
            if not key or key == self.ig_user_id:
                continue
            at = graph.parse_time(comment.get("timestamp"))
            entry = found.setdefault(key, {"name": comment.get("username", ""), "text": "", "at": None})
            if entry["at"] is None or at < entry["at"]:
                entry["text"], entry["at"] = comment.get("text", ""), at
        return [
            Entry(
                author_id=k,
                author_name=e["name"],
                kinds=frozenset({"comment"}),
                text=e["text"],
                created_at=e["at"],
            )
            for k, e in found.items()
        ]
