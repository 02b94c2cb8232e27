"""Bluesky's views (notification, postView, profileView) turned into the adapter contract's dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime

from smmdesk.channels.base import InboundEvent

POST = "app.bsky.feed.post"


def parse_uri(uri: str) -> tuple[str, str, str]:
    """at://<did>/<collection>/<rkey> as (did, collection, rkey); empty parts when it is not one."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return "", "", ""
    parts = (uri[len("at://") :].split("/", 2) + ["", ""])[:3]
    return parts[0], parts[1], parts[2]


def profile_url(handle_or_did: str) -> str:
    return f"https://bsky.app/profile/{handle_or_did}" if handle_or_did else ""


def post_url(uri: str, handle: str = "") -> str:
    did, collection, rkey = parse_uri(uri)
    if collection != POST or not rkey:
        return ""
    return f"{profile_url(handle or did)}/post/{rkey}"


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def author_fields(author: dict) -> dict:
    author = author if isinstance(author, dict) else {}
    handle = str(author.get("handle") or "")
    return {
        "author_id": str(author.get("did") or ""),
        "author_name": author.get("displayName") or handle,
        "author_handle": f"@{handle}" if handle else "",
        "author_url": profile_url(handle),
    }


def attachments(record: dict) -> list[dict]:
    """What a post embeds, as metadata: image blobs (by CID, with alt text), a link card, a quoted post."""
    embed = record.get("embed") if isinstance(record, dict) else None
    if not isinstance(embed, dict):
        return []
    kind = embed.get("$type", "")
    if kind == "app.bsky.embed.recordWithMedia":
        return attachments({"embed": embed.get("media")}) + attachments({"embed": embed.get("record")})
    found = []
    if kind == "app.bsky.embed.images":
        for image in embed.get("images") or []:
            blob = (image or {}).get("image") or {}
            found.append(
                {
                    "type": "image",
                    "cid": str((blob.get("ref") or {}).get("$link", "")),
                    "mime_type": blob.get("mimeType", ""),
                    "size": blob.get("size"),
                    "description": (image or {}).get("alt", ""),
                }
            )
    elif kind == "app.bsky.embed.video":
        found.append({"type": "video", "description": embed.get("alt", "")})
    elif kind == "app.bsky.embed.external":
        external = embed.get("external") or {}
        found.append(
            {"type": "link", "url": str(external.get("uri", "")), "description": external.get("title", "")}
        )
    elif kind == "app.bsky.embed.record":
        found.append({"type": "quote", "uri": str((embed.get("record") or {}).get("uri", ""))})
    return found


def post_event(
    uri: str, record: dict, author: dict, indexed_at, raw: dict, kind: str = ""
) -> InboundEvent | None:
    """A post as an inbox event: its at:// URI is the id; its thread is the root post of its reply
    chain (itself when it starts one) and it answers its parent."""
    if not uri or not isinstance(record, dict):
        return None
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    root = str((reply.get("root") or {}).get("uri") or uri)
    parent = str((reply.get("parent") or {}).get("uri") or "")
    created = parse_time(record.get("createdAt")) or parse_time(indexed_at) or datetime.now(UTC)
    return InboundEvent(
        external_id=uri,
        kind=kind or ("comment" if parent else "mention"),
        text=str(record.get("text") or ""),
        created_at=created,
        thread_id=root,
        reply_to_id=parent,
        attachments=attachments(record),
        raw=raw,
        **author_fields(author),
    )


# Notifications that are messages to answer; likes, reposts and follows are not.
MESSAGE_REASONS = {"mention": "mention", "reply": "comment", "quote": "mention"}


def notification_event(notification: dict) -> InboundEvent | None:
    kind = MESSAGE_REASONS.get(notification.get("reason"))
    if kind is None:
        return None
    return post_event(
        str(notification.get("uri") or ""),
        notification.get("record"),
        notification.get("author"),
        notification.get("indexedAt"),
        notification,
        kind,
    )
