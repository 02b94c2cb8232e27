"""Telegram Update objects (https://core.telegram.org/bots/api#update) into InboundEvents, and the ids the
adapter hands out.

Ids, chosen so one channel row can hold many chats without collisions:
- a message: "<chat id>:<message id>" (message ids are unique only inside their chat);
- an album: "<chat id>:<id>,<id>,..." (every message of it, so a delete removes them all);
- an edit: "<chat id>:<message id>@<edit date>" (each edit is its own inbox message, threaded to the
  original by reply_to_id);
- a thread: the chat id for a private chat or a group, "<chat id>/<topic id>" for a forum topic, and for
  comments the channel post they answer ("<channel id>:<post id>", the id publish() returned for it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from smmdesk.channels.base import Entry, InboundEvent

# The update types asked for; the rest (edited_channel_post, my_chat_member, callback_query, ...) are left
# out of getUpdates and setWebhook so Telegram does not even send them. channel_post: posts of the channels
# the bot is in, for listening (never the inbox); our own channel's posts among them are dropped.
ALLOWED_UPDATES = ["message", "edited_message", "channel_post"]

# Content a customer sends besides text, kept as metadata only (files are not downloaded).
MEDIA_FIELDS = {
    "animation": (
        "file_id",
        "file_unique_id",
        "width",
        "height",
        "duration",
        "file_name",
        "mime_type",
        "file_size",
    ),
    "audio": (
        "file_id",
        "file_unique_id",
        "duration",
        "performer",
        "title",
        "file_name",
        "mime_type",
        "file_size",
    ),
    "document": ("file_id", "file_unique_id", "file_name", "mime_type", "file_size"),
    "video": (
        "file_id",
        "file_unique_id",
        "width",
        "height",
        "duration",
        "file_name",
        "mime_type",
        "file_size",
    ),
    "video_note": ("file_id", "file_unique_id", "length", "duration", "file_size"),
    "voice": ("file_id", "file_unique_id", "duration", "mime_type", "file_size"),
    "sticker": ("file_id", "file_unique_id", "width", "height", "emoji", "set_name", "file_size"),
    "contact": ("phone_number", "first_name", "last_name", "user_id"),
    "location": ("latitude", "longitude"),
    "dice": ("emoji", "value"),
}


def message_ref(chat_id, message_id) -> str:
    return f"{chat_id}:{message_id}"


def split_ref(value: str) -> tuple[str, list[int]]:
    """(chat id, message ids) of a message, album or edit id; ValueError if it is none of them."""
    chat, _, ids = value.rpartition(":")
    numbers = [int(part.split("@", 1)[0]) for part in ids.split(",")]
    if not chat or not numbers:
        raise ValueError(f"not a Telegram message id: {value!r}")
    return chat, numbers


def split_thread(value: str) -> tuple[str, int | None]:
    """(chat id, forum topic id or None) of a chat thread id."""
    chat, _, topic = value.partition("/")
    return chat, int(topic) if topic else None


def _when(timestamp) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC)


def _attachments(message: dict) -> list[dict]:
    found = []
    if message.get("photo"):
        # Telegram sends every size it made; the last one is the largest.
        largest = message["photo"][-1]
        found.append(
            {
                "type": "photo",
                **{
                    k: largest[k]
                    for k in ("file_id", "file_unique_id", "width", "height", "file_size")
                    if k in largest
                },
            }
        )
    for kind, keys in MEDIA_FIELDS.items():
        item = message.get(kind)
        # An animation comes with the same file as "document" too, for old clients: say it once.
        if kind == "document" and message.get("animation"):
            continue
        if isinstance(item, dict):
            found.append({"type": kind, **{k: item[k] for k in keys if k in item}})
    if isinstance(message.get("venue"), dict):
        venue = message["venue"]
        found.append({"type": "venue", "title": venue.get("title", ""), "address": venue.get("address", "")})
    if isinstance(message.get("poll"), dict):
        poll = message["poll"]
        options = [o.get("text", "") for o in poll.get("options", [])]
        found.append({"type": "poll", "question": poll.get("question", ""), "options": options})
    if message.get("venue"):
        # A venue carries its location too; one attachment says it.
        found = [a for a in found if a["type"] != "location"]
    return found


def _person(user: dict) -> tuple[str, str, str]:
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return str(user["id"]), name, user.get("username") or ""


def channel_post_of(reply: dict | None) -> str:
    """The channel post a discussion-group message answers: the group's copy of a channel post is an
    automatic forward that still names the post (forward_origin since Bot API 7.0, forward_from_* before)."""
    if not reply or not reply.get("is_automatic_forward"):
        return ""
    origin = reply.get("forward_origin") or {}
    if origin.get("type") == "channel" and "message_id" in origin:
        return message_ref(origin["chat"]["id"], origin["message_id"])
    if reply.get("forward_from_chat") and reply.get("forward_from_message_id"):
        return message_ref(reply["forward_from_chat"]["id"], reply["forward_from_message_id"])
    # No origin at all: the group's copy is the best name for the post there is.
    return message_ref(reply["chat"]["id"], reply["message_id"])


def is_channel(chat: dict | None, configured: str | None) -> bool:
    """Whether `chat` is the configured channel (given as @username or numeric id)."""
    if not chat or not configured:
        return False
    if configured.startswith("@"):
        return (chat.get("username") or "").casefold() == configured[1:].casefold()
    return str(chat.get("id")) == configured


def channel_post_event(post: dict, update: dict, channel: str | None) -> InboundEvent | None:
    """A post of a public channel the bot is in, as a mention only listening hears (raw "listening_only":
    the inbox leaves it out): the channel is the author, and the post's t.me link is kept when the channel
    has a username. Our own channel's posts are the echo of publishing and are left out."""
    chat = post["chat"]
    if chat["type"] != "channel" or is_channel(chat, channel):
        return None
    text = post.get("text") or post.get("caption") or ""
    if not text.strip():
        return None
    username = chat.get("username") or ""
    ref = message_ref(chat["id"], post["message_id"])
    url = f"https://t.me/{username}/{post['message_id']}" if username else ""
    return InboundEvent(
        external_id=ref,
        kind="mention",
        author_id=str(chat["id"]),
        author_name=chat.get("title") or username or str(chat["id"]),
        author_handle=username,
        author_url=f"https://t.me/{username}" if username else "",
        text=text,
        created_at=_when(post["date"]),
        thread_id=ref,
        attachments=_attachments(post),
        raw={**update, "listening_only": True, "url": url},
    )


def parse_update(update: dict, channel: str | None = None) -> InboundEvent | None:
    """One Update as an inbox event, or None for what is not a customer's message.

    Left out: service messages (members joining, pinned messages, new titles), the discussion group's
    automatic copies of our channel posts, messages sent as our channel or as the group itself (its
    anonymous admins: staff), and update types other than message, edited_message and channel_post.
    A channel_post of another channel is a listening-only mention (channel_post_event).
    Raises KeyError, TypeError or ValueError on an update that does not have the documented shape.
    """
    if isinstance(update.get("channel_post"), dict):
        return channel_post_event(update["channel_post"], update, channel)
    edited = "message" not in update and "edited_message" in update
    message = update.get("edited_message") if edited else update.get("message")
    if not isinstance(message, dict):
        return None
    chat = message["chat"]
    if chat["type"] == "channel" or message.get("is_automatic_forward"):
        return None
    sender_chat = message.get("sender_chat")
    if sender_chat and (sender_chat["id"] == chat["id"] or is_channel(sender_chat, channel)):
        return None
    # A sticker alone reads as its emoji, so the inbox list shows something a person understands.
    text = message.get("text") or message.get("caption") or (message.get("sticker") or {}).get("emoji") or ""
    attachments = _attachments(message)
    if not text and not attachments:
        return None
    if sender_chat:
        # A message sent on behalf of another channel: that channel is who the reader sees.
        author_id, author_name, handle = (
            str(sender_chat["id"]),
            sender_chat.get("title", ""),
            sender_chat.get("username") or "",
        )
    elif isinstance(message.get("from"), dict):
        author_id, author_name, handle = _person(message["from"])
    else:
        return None
    kind, thread, reply_to = _place(message)
    external_id = message_ref(chat["id"], message["message_id"])
    created = message["date"]
    if edited:
        created = message.get("edit_date") or created
        reply_to, external_id = external_id, f"{external_id}@{created}"
    return InboundEvent(
        external_id=external_id,
        kind=kind,
        author_id=author_id,
        author_name=author_name or handle or author_id,
        author_handle=handle,
        author_url=f"https://t.me/{handle}" if handle else "",
        text=text,
        created_at=_when(created),
        thread_id=thread,
        reply_to_id=reply_to,
        attachments=attachments,
        raw=update,
    )


def _place(message: dict) -> tuple[str, str, str]:
    """(kind, thread id, reply_to id) of a message by the chat it is in and what it answers."""
    chat_id = message["chat"]["id"]
    reply = message.get("reply_to_message")
    reply_to = message_ref(chat_id, reply["message_id"]) if isinstance(reply, dict) else ""
    if message["chat"]["type"] == "private":
        return "dm", str(chat_id), reply_to
    post = channel_post_of(reply)
    if post:
        # A comment: its conversation is the post; the group's copy of the post is not in the inbox.
        return "comment", post, ""
    topic = message.get("message_thread_id")
    if message.get("is_topic_message") and topic:
        # In a forum topic every message "answers" the topic's first message unless it quotes another.
        if reply and (reply["message_id"] == topic or "forum_topic_created" in reply):
            reply_to = ""
        return "chat", f"{chat_id}/{topic}", reply_to
    return "chat", str(chat_id), reply_to


def _message_of(event: InboundEvent) -> dict:
    raw = event.raw if isinstance(event.raw, dict) else {}
    message = raw.get("message") or raw.get("edited_message")
    return message if isinstance(message, dict) else {}


def comment_entries(
    post_id: str, comments: Iterable[InboundEvent], exclude: Iterable[str] = ()
) -> list[Entry]:
    """Contest entries of a channel post from comment events the product has seen, one per author.

    The Bot API has no way to list the comments of a post, so the caller passes the events: the inbox's
    messages of the post's conversation, as InboundEvents of kind "comment" with thread_id = the post's
    id (replies to comments joined that conversation, so they count). `post_id` is what publish()
    returned; for an album any of its message ids matches. Events straight from parse_update need no
    such care: a reply to a comment (kind "chat") is matched by its raw update's comment thread
    (message_thread_id of the group's copy of the post, learnt from the direct comments among them).
    `exclude`: author ids that are not contestants (the bot, the channel).
    """
    chat, ids = split_ref(post_id)
    posts = {message_ref(chat, i) for i in ids}
    events = list(comments)
    roots = set()
    for event in events:
        message = _message_of(event)
        reply = message.get("reply_to_message") or {}
        if event.kind == "comment" and event.thread_id in posts and reply:
            roots.add((message["chat"]["id"], reply["message_id"]))
    skip = set(exclude)
    first: dict[str, InboundEvent] = {}
    for event in events:
        message = _message_of(event)
        in_thread = event.kind == "comment" and event.thread_id in posts
        if not in_thread and message:
            in_thread = (message["chat"]["id"], message.get("message_thread_id")) in roots
        if not in_thread or event.author_id in skip:
            continue
        known = first.get(event.author_id)
        if known is None or event.created_at < known.created_at:
            first[event.author_id] = event
    return [
        Entry(
            author_id=e.author_id,
            author_name=e.author_name,
            kinds=frozenset({"comment"}),
            text=e.text,
            created_at=e.created_at,
        )
        for e in sorted(first.values(), key=lambda e: (e.created_at, e.external_id))
    ]
