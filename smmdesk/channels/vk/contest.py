"""Contest entries of a VK post: who commented, reposted, liked, and which of them are community members.

Read at draw time from the API rather than from the event stream, so it also counts what happened before
the channel was connected or while smmdesk was down. Comments, reposts and likes are public wall data
(service key, or the admin user token); membership is asked with the community token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from smmdesk.channels.base import Entry
from smmdesk.channels.vk.api import VKApi

COMMENTS_PAGE = 100  # wall.getComments: count up to 100
REPOSTS_PAGE = 1000  # wall.getReposts: count up to 1000
LIKES_PAGE = 100  # likes.getList with extended=1: count up to 100
MEMBERS_BATCH = 500  # groups.isMember: up to 500 user_ids
# A runaway loop guard, far above any real post: 2000 pages of comments is 200 000 comments.
MAX_PAGES = 2000


@dataclass
class _Participant:
    name: str = ""
    kinds: set[str] = field(default_factory=set)
    text: str = ""
    first_at: datetime | None = None

    def saw(self, kind: str, text: str = "", date=None) -> None:
        self.kinds.add(kind)
        if text and not self.text:
            self.text = text
        if date:
            when = datetime.fromtimestamp(int(date), tz=UTC)
            if self.first_at is None or when < self.first_at:
                self.first_at = when


def _names(response: dict) -> dict[int, str]:
    names = {}
    for profile in response.get("profiles") or []:
        names[int(profile["id"])] = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()
    for group in response.get("groups") or []:
        names[-int(group["id"])] = str(group.get("name") or "")
    return names


class EntryCollector:
    def __init__(self, api: VKApi, read_token: str, owner_id: int, post_id: int):
        self.api = api
        self.read = read_token
        self.owner_id = owner_id
        self.post_id = post_id
        self.people: dict[int, _Participant] = {}

    def _person(self, owner: int, names: dict[int, str]) -> _Participant:
        person = self.people.setdefault(owner, _Participant())
        if not person.name and names.get(owner):
            person.name = names[owner]
        return person

    def comments(self, comment: int | None = None) -> None:
        """Every comment and reply under the post; threads with more replies than the page carries are
        read on their own (comment_id=...)."""
        offset = 0
        for _page in range(MAX_PAGES):
            page = self.api.call(
                "wall.getComments",
                self.read,
                owner_id=self.owner_id,
                post_id=self.post_id,
                comment_id=comment,
                offset=offset,
                count=COMMENTS_PAGE,
                sort="asc",
                extended=1,
                preview_length=0,
                thread_items_count=0 if comment else 10,
            )
            names = _names(page)
            items = page.get("items") or []
            for item in items:
                self._comment(item, names)
                thread = item.get("thread") or {}
                if not comment and thread.get("count", 0) > len(thread.get("items") or []):
                    self.comments(int(item["id"]))
                else:
                    for reply in thread.get("items") or []:
                        self._comment(reply, names)
            offset += len(items)
            if not items or offset >= int(page.get("current_level_count") or page.get("count") or 0):
                return

    def _comment(self, item: dict, names: dict[int, str]) -> None:
        if item.get("deleted") or not item.get("from_id"):
            return
        self._person(int(item["from_id"]), names).saw(
            "comment", str(item.get("text") or ""), item.get("date")
        )

    def reposts(self) -> None:
        offset = 0
        for _page in range(MAX_PAGES):
            page = self.api.call(
                "wall.getReposts",
                self.read,
                owner_id=self.owner_id,
                post_id=self.post_id,
                offset=offset,
                count=REPOSTS_PAGE,
            )
            names = _names(page)
            items = page.get("items") or []
            for item in items:
                # A repost lives on the reposter's wall: its owner is the participant.
                who = int(item.get("owner_id") or item.get("from_id"))
                self._person(who, names).saw("repost", str(item.get("text") or ""), item.get("date"))
            offset += len(items)
            if len(items) < REPOSTS_PAGE:
                return

    def likes(self) -> None:
        offset = 0
        for _page in range(MAX_PAGES):
            page = self.api.call(
                "likes.getList",
                self.read,
                type="post",
                owner_id=self.owner_id,
                item_id=self.post_id,
                filter="likes",
                extended=1,
                offset=offset,
                count=LIKES_PAGE,
            )
            items = page.get("items") or []
            for item in items:
                if isinstance(item, dict):
                    who = int(item["id"]) if item.get("type", "profile") == "profile" else -int(item["id"])
                    name = f"{item.get('first_name', '')} {item.get('last_name', '')}".strip() or item.get(
                        "name", ""
                    )
                    self._person(who, {who: name}).saw("like")
                else:
                    self._person(int(item), {}).saw("like")
            offset += len(items)
            if not items or offset >= int(page.get("count") or 0):
                return

    def membership(self, group_id: int) -> None:
        users = sorted(owner for owner in self.people if owner > 0)
        for start in range(0, len(users), MEMBERS_BATCH):
            batch = users[start : start + MEMBERS_BATCH]
            answer = self.api.call("groups.isMember", "community", group_id=group_id, user_ids=batch)
            for row in answer if isinstance(answer, list) else []:
                if row.get("member") in (1, True):
                    self.people[int(row["user_id"])].kinds.add("member")

    def result(self, exclude: int) -> list[Entry]:
        return [
            Entry(
                author_id=str(owner),
                author_name=person.name,
                kinds=frozenset(person.kinds),
                text=person.text,
                created_at=person.first_at,
            )
            for owner, person in sorted(self.people.items())
            if owner != exclude
        ]
