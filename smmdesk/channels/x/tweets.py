"""X payloads: posts (tweets) from API v2 answers turned into InboundEvents, and X's own way of counting
a post's length."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from smmdesk.channels.base import InboundEvent

# The fields and expansions every read asks for, so a post arrives with what the inbox needs.
TWEET_FIELDS = "created_at,author_id,conversation_id,referenced_tweets,in_reply_to_user_id,attachments"
READ_PARAMS = {
    "tweet.fields": TWEET_FIELDS,
    "expansions": "author_id,attachments.media_keys",
    "user.fields": "name,username",
    "media.fields": "type,url,preview_image_url,width,height",
}

# X counts every URL as 23 characters (t.co wraps it) and weighs characters outside these code point
# ranges (CJK, emoji...) double; 280 is the limit in those units (twitter-text configuration v3).
URL_LENGTH = 23
SINGLE_WEIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)


def weighted_length(text: str) -> int:
    length = URL_LENGTH * len(_URL.findall(text))
    for char in _URL.sub("", text):
        code = ord(char)
        length += 1 if any(lo <= code <= hi for lo, hi in SINGLE_WEIGHT_RANGES) else 2
    return length


def parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def post_url(post_id: str, username: str = "") -> str:
    # x.com/i/web/status/<id> resolves without knowing the author.
    return (
        f"https://x.com/{username}/status/{post_id}" if username else f"https://x.com/i/web/status/{post_id}"
    )


def users_of(payload: dict) -> dict[str, dict]:
    return {u["id"]: u for u in (payload.get("includes") or {}).get("users") or [] if "id" in u}


def events_from(payload: dict, kind: str = "mention") -> list[InboundEvent]:
    """A page of posts (data + includes) as inbox events: the thread is X's conversation_id, the reply
    target the post this one answers, the author from the expanded users."""
    users = users_of(payload)
    media = {
        m["media_key"]: m for m in (payload.get("includes") or {}).get("media") or [] if "media_key" in m
    }
    events = []
    for post in payload.get("data") or []:
        author = users.get(post.get("author_id", ""), {})
        username = author.get("username", "")
        replied_to = next(
            (r["id"] for r in post.get("referenced_tweets") or [] if r.get("type") == "replied_to"), ""
        )
        attachments = []
        for key in (post.get("attachments") or {}).get("media_keys") or []:
            item = media.get(key, {})
            attachments.append(
                {
                    "type": item.get("type", "media"),
                    "url": item.get("url") or item.get("preview_image_url", ""),
                    "media_key": key,
                }
            )
        events.append(
            InboundEvent(
                external_id=post["id"],
                kind=kind,
                author_id=post.get("author_id", ""),
                author_name=author.get("name") or username,
                author_handle=username,
                author_url=f"https://x.com/{username}" if username else "",
                text=post.get("text", ""),
                created_at=parse_time(post.get("created_at")),
                thread_id=post.get("conversation_id") or post["id"],
                reply_to_id=replied_to,
                attachments=attachments,
                raw=post,
            )
        )
    return events
