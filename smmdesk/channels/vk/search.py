"""VK post search for listening: newsfeed.search over every public wall, as mentions.

newsfeed.search answers {"items": [posts], "profiles": [...], "groups": [...], "next_from": "..."} with
extended=1; each post has id, owner_id, from_id, date, text, views, likes, reposts and, for a repost,
copy_history with the reposted post. VK runs it only with a user access token: a community token gets
error 27 (https://dev.vk.com/ru/method/newsfeed.search).
"""

from __future__ import annotations

from datetime import datetime

from smmdesk.channels.base import InboundEvent
from smmdesk.channels.vk import events

METHOD = "newsfeed.search"
PAGE = 200  # the most newsfeed.search returns per call
MAX_PAGES = 5


def _names(answer: dict) -> dict[int, tuple[str, str]]:
    """(name, screen name) per author id, people positive and communities negative, as VK writes them."""
    names: dict[int, tuple[str, str]] = {}
    for person in answer.get("profiles") or []:
        if isinstance(person, dict) and person.get("id") is not None:
            name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
            names[int(person["id"])] = (name, str(person.get("screen_name") or ""))
    for group in answer.get("groups") or []:
        if isinstance(group, dict) and group.get("id") is not None:
            names[-int(group["id"])] = (str(group.get("name") or ""), str(group.get("screen_name") or ""))
    return names


def _text(post: dict) -> str:
    """The post's words; a bare repost speaks with the words of what it reposts, so it clusters with
    the original."""
    text = str(post.get("text") or "")
    if not text.strip():
        for original in post.get("copy_history") or []:
            if isinstance(original, dict) and str(original.get("text") or "").strip():
                return str(original["text"])
    return text


def page_events(answer: dict, group_id: int) -> list[InboundEvent]:
    """The posts of one answer as mention events; our own community's posts are left out. Raises
    KeyError, TypeError or ValueError on a post without the documented shape."""
    names = _names(answer)
    found = []
    for post in answer.get("items") or []:
        if not isinstance(post, dict):
            continue
        owner = int(post["owner_id"])
        author = int(post.get("from_id") or owner)
        if author == -group_id:
            continue
        text = _text(post)
        if not text.strip():
            continue
        ref = events.post_thread(owner, int(post["id"]))
        name, screen = names.get(author, ("", ""))
        found.append(
            InboundEvent(
                external_id=ref,
                kind="mention",
                author_id=str(author),
                author_name=name,
                author_handle=screen or events.handle(author),
                author_url=f"https://vk.com/{screen}" if screen else events.profile_url(author),
                text=text,
                created_at=events._when(post.get("date")),
                thread_id=ref,
                attachments=events.attachments(post.get("attachments")),
                raw={**post, "url": events.post_url(owner, int(post["id"]))},
            )
        )
    return found


def params(query: str, since: datetime | None, start_from: str | None) -> dict:
    values = {"q": query, "extended": 1, "count": PAGE, "start_from": start_from}
    if since is not None:
        values["start_time"] = int(since.timestamp())
    return values
