"""Facebook Page payloads as inbox events: webhook deliveries (feed changes, Messenger messages and
postbacks, Page mentions) and comments read back from the Graph API."""

from __future__ import annotations

from smmdesk.channels.base import InboundEvent
from smmdesk.channels.facebook.graph import parse_time

# Feed items that are a visitor's post on the Page: a new conversation about that post.
VISITOR_POST_ITEMS = frozenset({"post", "status", "photo", "video", "share"})


def _attachments_of_change(value: dict) -> list[dict]:
    found = []
    if value.get("photo"):
        found.append({"type": "photo", "url": value["photo"]})
    if value.get("video"):
        found.append({"type": "video", "url": value["video"]})
    for url in value.get("photos") or []:
        found.append({"type": "photo", "url": url})
    return found


def feed_event(value: dict, page_id: str) -> InboundEvent | None:
    """A feed change: a new comment (or reply to a comment), or a visitor's post on the Page."""
    if value.get("verb") != "add":
        return None
    author = value.get("from") or {}
    post_id = str(value.get("post_id") or "")
    item = value.get("item")
    if item == "comment" and value.get("comment_id"):
        parent = str(value.get("parent_id") or "")
        return InboundEvent(
            external_id=str(value["comment_id"]),
            kind="comment",
            author_id=str(author.get("id", "")),
            author_name=author.get("name", ""),
            text=value.get("message", ""),
            created_at=parse_time(value.get("created_time")),
            thread_id=post_id,
            # A comment straight on the post answers nothing in the inbox; a reply answers its comment.
            reply_to_id=parent if parent and parent != post_id else "",
            attachments=_attachments_of_change(value),
            raw=value,
        )
    if item in VISITOR_POST_ITEMS and post_id and str(author.get("id", "")) != page_id:
        return InboundEvent(
            external_id=post_id,
            kind="comment",
            author_id=str(author.get("id", "")),
            author_name=author.get("name", ""),
            text=value.get("message", ""),
            created_at=parse_time(value.get("created_time")),
            thread_id=post_id,
            attachments=_attachments_of_change(value),
            raw=value,
        )
    return None


def mention_event(value: dict) -> InboundEvent | None:
    """The Page @mentioned in someone's post or comment ("mention" field). Meta sends ids and the sender;
    the text is there only when Meta includes it (the adapter may look it up)."""
    if value.get("verb", "add") != "add":
        return None
    post_id = str(value.get("post_id") or "")
    target = str(value.get("comment_id") or post_id)
    if not target:
        return None
    return InboundEvent(
        external_id=target,
        kind="mention",
        author_id=str(value.get("sender_id", "")),
        author_name=value.get("sender_name", ""),
        text=value.get("message", ""),
        created_at=parse_time(value.get("created_time")),
        thread_id=post_id or target,
        raw=value,
    )


def messaging_event(event: dict, page_id: str) -> InboundEvent | None:
    """A Messenger event: a message from a person (or a button they pressed). The thread is the person's
    Page-scoped id (PSID), which is also where a reply goes. Echoes of the Page's own messages, delivery
    and read receipts are not customer messages."""
    sender = str((event.get("sender") or {}).get("id", ""))
    if not sender or sender == page_id:
        return None
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo") or not message.get("mid"):
            return None
        attachments = [
            {"type": a.get("type", "file"), "url": (a.get("payload") or {}).get("url", "")}
            for a in message.get("attachments") or []
            if isinstance(a, dict)
        ]
        return InboundEvent(
            external_id=str(message["mid"]),
            kind="dm",
            author_id=sender,
            author_name="",
            text=message.get("text", ""),
            created_at=parse_time(event.get("timestamp")),
            thread_id=sender,
            reply_to_id=str((message.get("reply_to") or {}).get("mid", "")),
            attachments=attachments,
            raw=event,
        )
    postback = event.get("postback")
    if isinstance(postback, dict):
        # A button press reads in the inbox as the button's title, like the person typed it.
        return InboundEvent(
            external_id=str(postback.get("mid") or f"postback:{sender}:{event.get('timestamp', '')}"),
            kind="dm",
            author_id=sender,
            author_name="",
            text=postback.get("title") or postback.get("payload", ""),
            created_at=parse_time(event.get("timestamp")),
            thread_id=sender,
            raw=event,
        )
    return None


def events_of_entry(entry: dict, page_id: str) -> list[InboundEvent]:
    events: list[InboundEvent | None] = []
    for change in entry.get("changes") or []:
        if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
            continue
        if change.get("field") == "feed":
            events.append(feed_event(change["value"], page_id))
        elif change.get("field") == "mention":
            events.append(mention_event(change["value"]))
    for event in entry.get("messaging") or []:
        if isinstance(event, dict):
            events.append(messaging_event(event, page_id))
    return [e for e in events if e is not None]


def comment_event(comment: dict, post_id: str) -> InboundEvent:
    """A comment read from the Graph API (GET /{post-id}/comments or the feed's comments field)."""
    author = comment.get("from") or {}
    parent = str((comment.get("parent") or {}).get("id", ""))
    attachment = comment.get("attachment") or {}
    media_url = ((attachment.get("media") or {}).get("image") or {}).get("src", "")
    return InboundEvent(
        external_id=str(comment["id"]),
        kind="comment",
        author_id=str(author.get("id", "")),
        author_name=author.get("name", ""),
        text=comment.get("message", ""),
        created_at=parse_time(comment.get("created_time")),
        thread_id=post_id,
        reply_to_id=parent,
        attachments=[{"type": attachment.get("type", "photo"), "url": media_url}] if media_url else [],
        raw=comment,
    )
