"""VK events (Callback API deliveries and Bots Long Poll updates share one shape) turned into InboundEvents,
and the ids smmdesk uses for VK objects.

Ids are VK's own notation, so one look tells what they are and they never collide inside a channel:

    wall-1_2          the post 2 on the wall of community 1: a comment thread, and a published post
    wall-1_2_r3       the comment 3 under that post (VK's link is vk.com/wall-1_2?reply=3)
    m12345_7          the message 7 (conversation_message_id) in the conversation with peer 12345
    ...~edit~<hash>   an edited comment or message: a new inbox message per distinct edit

Thread ids tell the reply which call to make: "wall…" answers with wall.createComment, a bare number (the
peer id) with messages.send.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from smmdesk.channels.base import InboundEvent

# peer_id of a group chat = 2000000000 + chat id (https://dev.vk.com/ru/method/messages.send).
CHAT_PEER_BASE = 2_000_000_000
EDIT_MARK = "~edit~"
POST_THREAD = re.compile(r"^wall(-?\d+)_(\d+)$")
COMMENT_ID = re.compile(r"^wall(-?\d+)_(\d+)_r(\d+)(?:~edit~.*)?$")
MESSAGE_ID = re.compile(r"^m(-?\d+)_(\d+)(?:~edit~.*)?$")
# Events that carry no text for the inbox. Likes, joins and reposts are what contests count, and those are
# read from the API at draw time (entries()), which also sees what happened before the channel existed.
SILENT_TYPES = frozenset(
    {
        "confirmation",
        "message_reply",  # our own outgoing message
        "message_allow",
        "message_deny",
        "message_read",
        "message_typing_state",
        "wall_reply_delete",
        "like_add",
        "like_remove",
        "group_join",
        "group_leave",
    }
)


def post_thread(owner_id: int, post_id: int) -> str:
    return f"wall{owner_id}_{post_id}"


def comment_id(owner_id: int, post_id: int, comment: int) -> str:
    return f"wall{owner_id}_{post_id}_r{comment}"


def message_id(peer_id: int, conversation_message_id: int) -> str:
    return f"m{peer_id}_{conversation_message_id}"


def post_url(owner_id: int, post_id: int, comment: int | None = None) -> str:
    url = f"https://vk.com/wall{owner_id}_{post_id}"
    return f"{url}?reply={comment}" if comment else url


def profile_url(owner_id: int) -> str:
    return f"https://vk.com/id{owner_id}" if owner_id > 0 else f"https://vk.com/club{-owner_id}"


def handle(owner_id: int) -> str:
    return f"id{owner_id}" if owner_id > 0 else f"club{-owner_id}"


def parse_post_ref(external_id: str, group_id: int) -> tuple[int, int] | None:
    """(owner_id, post_id) from "wall-1_2", "-1_2" or a bare post id of the channel's own wall."""
    text = external_id.strip()
    if text.isdigit():
        return -group_id, int(text)
    match = POST_THREAD.match(text if text.startswith("wall") else f"wall{text}")
    return (int(match[1]), int(match[2])) if match else None


def _when(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _edit_suffix(obj: dict) -> str:
    # One inbox message per distinct edit: a repeated delivery of the same edit has the same id.
    stamp = f"{obj.get('update_time') or ''}|{obj.get('text') or ''}"
    return EDIT_MARK + hashlib.sha256(stamp.encode()).hexdigest()[:12]


def _largest_photo(photo: dict) -> str:
    sizes = [s for s in photo.get("sizes") or [] if isinstance(s, dict) and s.get("url")]
    if not sizes:
        return ""
    return max(sizes, key=lambda s: (s.get("width") or 0) * (s.get("height") or 0))["url"]


def attachments(items) -> list[dict]:
    """Metadata only (type, VK id, a link, a title): files stay on VK."""
    found = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type") or "")
        obj = item.get(kind) if isinstance(item.get(kind), dict) else {}
        meta = {"type": kind}
        if obj.get("id") is not None and obj.get("owner_id") is not None:
            meta["id"] = f"{kind}{obj['owner_id']}_{obj['id']}"
        if kind == "photo":
            url = _largest_photo(obj)
        elif kind == "audio_message":
            url = obj.get("link_mp3") or ""
        else:
            url = obj.get("url") or ""
        if url:
            meta["url"] = str(url)
        if obj.get("title"):
            meta["title"] = str(obj["title"])[:200]
        found.append(meta)
    return found


def _author(event_kwargs: dict, author: int) -> dict:
    return {
        **event_kwargs,
        "author_id": str(author),
        "author_name": "",
        "author_handle": handle(author),
        "author_url": profile_url(author),
    }


def _message(update: dict, edited: bool) -> list[InboundEvent]:
    obj = update.get("object") or {}
    # message_new carries {"message": ..., "client_info": ...}; message_edit the message itself.
    msg = obj.get("message") if isinstance(obj.get("message"), dict) else obj
    if msg.get("out") == 1:
        return []
    peer = int(msg["peer_id"])
    author = int(msg.get("from_id") or peer)
    cmid = msg.get("conversation_message_id")
    base = message_id(peer, int(cmid)) if cmid is not None else f"mid{int(msg['id'])}"
    reply_to = ""
    quoted = msg.get("reply_message")
    if isinstance(quoted, dict) and quoted.get("conversation_message_id") is not None:
        reply_to = message_id(peer, int(quoted["conversation_message_id"]))
    if edited:
        reply_to = base
    return [
        InboundEvent(
            **_author(
                {
                    "external_id": base + (_edit_suffix(msg) if edited else ""),
                    "kind": "chat" if peer > CHAT_PEER_BASE else "dm",
                    "text": str(msg.get("text") or ""),
                    "created_at": _when(msg.get("update_time") if edited else msg.get("date")),
                    "thread_id": str(peer),
                    "reply_to_id": reply_to,
                    "attachments": attachments(msg.get("attachments")),
                    "raw": _raw(update),
                },
                author,
            )
        )
    ]


def _comment(update: dict, edited: bool) -> list[InboundEvent]:
    obj = update.get("object") or {}
    owner = int(obj.get("post_owner_id") or obj.get("owner_id"))
    post = int(obj["post_id"])
    base = comment_id(owner, post, int(obj["id"]))
    parent = obj.get("reply_to_comment")
    reply_to = comment_id(owner, post, int(parent)) if parent else ""
    if edited:
        reply_to = base
    return [
        InboundEvent(
            **_author(
                {
                    "external_id": base + (_edit_suffix(obj) if edited else ""),
                    "kind": "comment",
                    "text": str(obj.get("text") or ""),
                    "created_at": _when(obj.get("date")),
                    "thread_id": post_thread(owner, post),
                    "reply_to_id": reply_to,
                    "attachments": attachments(obj.get("attachments")),
                    "raw": _raw(update),
                },
                int(obj["from_id"]),
            )
        )
    ]


def _post(update: dict, group_id: int, repost: bool) -> list[InboundEvent]:
    """A post by someone else on our wall (an open wall, a suggested post) or a repost of ours with words:
    people talking to or about the community, taken in as mentions. Our own posts (and scheduled ones)
    are the echo of publishing and are dropped here."""
    obj = update.get("object") or {}
    author = int(obj.get("from_id") or obj.get("owner_id"))
    text = str(obj.get("text") or "")
    if author == -group_id or obj.get("post_type") == "postpone" or (repost and not text.strip()):
        return []
    owner = int(obj["owner_id"])
    ref = post_thread(owner, int(obj["id"]))
    return [
        InboundEvent(
            **_author(
                {
                    "external_id": ref,
                    "kind": "mention",
                    "text": text,
                    "created_at": _when(obj.get("date")),
                    "thread_id": ref,
                    "attachments": attachments(obj.get("attachments")),
                    "raw": _raw(update),
                },
                author,
            )
        )
    ]


def _raw(update: dict) -> dict:
    # The Callback secret travels in every delivery; it has no business in a stored message.
    return {k: v for k, v in update.items() if k != "secret"}


def parse_update(update: dict, group_id: int) -> list[InboundEvent]:
    """The inbox events in one VK event; [] for kinds the inbox does not take. Raises KeyError, TypeError
    or ValueError on a malformed event."""
    kind = update.get("type")
    if kind in ("message_new", "message_edit"):
        return _message(update, edited=kind == "message_edit")
    if kind in ("wall_reply_new", "wall_reply_restore", "wall_reply_edit"):
        return _comment(update, edited=kind == "wall_reply_edit")
    if kind in ("wall_post_new", "wall_repost"):
        return _post(update, group_id, repost=kind == "wall_repost")
    # SILENT_TYPES and anything else enabled in the community's settings: acknowledged, not stored.
    return []


def parse_updates(updates, group_id: int) -> list[InboundEvent]:
    events: list[InboundEvent] = []
    for update in updates or []:
        if isinstance(update, dict):
            events += parse_update(update, group_id)
    return events


def with_names(events: list[InboundEvent], names: dict[str, str]) -> list[InboundEvent]:
    for event in events:
        if not event.author_name and names.get(event.author_id):
            event.author_name = names[event.author_id]
    return events
