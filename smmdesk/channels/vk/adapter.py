"""VK (API 5.199): a community's messages and wall comments into the inbox, replies from the community,
posts on the community wall, comment deletion, post metrics and contest entries.

Inbound arrives by Callback API (VK posts every event to /hooks/<channel id>/) or by Bots Long Poll (the
periodic poll asks VK what is new); the shapes and ids are in events.py, the calls and error mapping in
api.py. The user-facing guide, including which VK key each feature needs, is docs/networks/vk.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Literal

from django.utils.translation import gettext_lazy as _
from pydantic import SecretStr

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
    SignatureError,
    WebhookAnswer,
)
from smmdesk.channels.vk import events, search
from smmdesk.channels.vk.api import VKApi, classify
from smmdesk.channels.vk.config import VKConfig
from smmdesk.channels.vk.contest import EntryCollector
from smmdesk.channels.vk.media import attachment_ids

logger = logging.getLogger(__name__)

MESSAGE_MAX = 9000  # messages.send: "maximum length 9000"
INT32_MAX = 2**31 - 1
POSTS_PER_CALL = 100  # wall.getById takes up to 100 posts
NAMES_PER_CALL = 1000  # users.get takes up to 1000 ids
METRICS = ("views", "likes", "reposts", "comments")


class VKAdapter(Adapter):
    kind = "vk"
    label = _("VK")
    Config = VKConfig
    # SEARCH: newsfeed.search over public walls, which needs the admin user token.
    capabilities = SOCIAL | {Capability.SEARCH}
    # Text: the length VK's post editor accepts; media: at most 10 photos or videos per post (wall.post).
    limits = PostLimits(max_text=16384, max_media=10, supports_link=True, supports_first_comment=True)
    # VK drops a wall.post repeated with the same guid.
    idempotent_publish = True
    help_text = _(
        "1. Open your community on vk.com → Manage → Settings → API usage → Access tokens → Create token. "
        "Allow community management and community messages, copy the token.\n"
        "2. The community id is the number in vk.com/club123456.\n"
        "3. Messages: either turn on Long Poll API there (and tick the event types: incoming messages, wall "
        "comments, wall posts, reposts), or choose Callback API, add the server address "
        "https://<this smmdesk>/hooks/<channel id>/, set a secret key, and tick the same event types.\n"
        "4. Metrics and contests: create an app at id.vk.com and paste its service key.\n"
        "5. Publishing and deleting comments: VK allows them only with a user token of a community admin "
        "(rights: wall, photos, offline); paste it as the admin user token. Without it, the channel still "
        "receives and answers messages and comments."
    )
    webhook_ack = WebhookAnswer(200, "ok")  # VK wants the text "ok" for every delivery it should not repeat

    def __init__(self, config: VKConfig, channel_id: int | None = None):
        super().__init__(config, channel_id)
        self._longpoll: dict | None = None
        self.api = VKApi(
            config.api_url,
            config.group_id,
            {
                "community": config.access_token.get_secret_value(),
                "user": _secret(config.user_token),
                "service": _secret(config.service_token),
            },
        )

    @property
    def group_id(self) -> int:
        return self.config.group_id

    @property
    def account_id(self) -> str:
        # VK writes the community as a negative owner/author id: our own posts, comments and messages carry
        # from_id = -group_id, which is what the echo guard compares with.
        return str(-self.group_id)

    def _read_token(self) -> str:
        """Public wall data (metrics, entries) reads with the service key, else the admin user token."""
        if self.api.has("service"):
            return "service"
        if self.api.has("user"):
            return "user"
        raise AdapterError(
            "vk: metrics and contest entries need a service key or the admin user token; add one in the "
            "channel settings",
            permanent=True,
        )

    # --- credentials -------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        # Without group_id a community token answers with its own community, which catches a token of
        # another community pasted by mistake.
        groups = _groups(self.api.call("groups.getById"))
        if not groups:
            raise AdapterError("vk groups.getById: no community in the answer")
        group = groups[0]
        if int(group["id"]) != self.group_id:
            raise AdapterError(
                f"the community access token belongs to community {group['id']}, not {self.group_id}",
                permanent=True,
            )
        if self.api.has("user"):
            managed = (_groups(self.api.call("groups.getById", "user", group_id=self.group_id)) or [{}])[0]
            if managed.get("is_admin") == 0:
                raise AdapterError(
                    "the admin user token belongs to someone who is not an admin of this community",
                    permanent=True,
                )
        if self.api.has("service"):
            self.api.call("groups.getById", "service", group_id=self.group_id)
        screen = group.get("screen_name") or f"club{self.group_id}"
        return AccountInfo(
            external_id=self.account_id, name=str(group.get("name") or screen), url=f"https://vk.com/{screen}"
        )

    # --- inbound -----------------------------------------------------------------------------------

    def handshake(self, method: str, query, body: bytes, headers) -> WebhookAnswer | None:
        """VK's Callback API address check: a POST {"type": "confirmation", "group_id": ...} that must be
        answered with the community's confirmation string as plain text."""
        if method != "POST":
            return None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None  # parse_webhook answers the malformed body
        if not isinstance(data, dict) or data.get("type") != "confirmation":
            return None
        if str(data.get("group_id")) != str(self.group_id):
            raise SignatureError("vk confirmation: for another community")
        if "secret" in data:
            self._verify(data)
        code = self.config.confirmation_code
        if not code:
            answer = self.api.call("groups.getCallbackConfirmationCode", group_id=self.group_id)
            code = str(answer.get("code") or "")
        if not code:
            raise AdapterError("vk confirmation: no confirmation string", permanent=True)
        return WebhookAnswer(200, code)

    def _verify(self, data: dict) -> None:
        key = self.config.secret_key
        if key is None or not key.get_secret_value():
            raise SignatureError(
                "vk: this channel has no Callback API secret key; set one here and in VK's Callback API settings"
            )
        given = data.get("secret")
        if not isinstance(given, str) or not hmac.compare_digest(
            given.encode("utf-8", "replace"), key.get_secret_value().encode()
        ):
            raise SignatureError("vk: the delivery's secret does not match the channel's secret key")

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise AdapterError(f"vk callback: malformed JSON: {exc}", permanent=True)
        if not isinstance(data, dict):
            raise AdapterError("vk callback: the body is not an object", permanent=True)
        # The secret is inside the body: nothing of it is trusted, not even the type, before this check.
        self._verify(data)
        if str(data.get("group_id")) != str(self.group_id):
            raise AdapterError("vk callback: the event is for another community", permanent=True)
        try:
            return events.parse_update(data, self.group_id)
        except (KeyError, TypeError, ValueError) as exc:
            raise AdapterError(f"vk callback: malformed {data.get('type')} event: {exc!r}", permanent=True)

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """Bots Long Poll, without waiting. The cursor is only VK's event number (ts): the session key is
        asked anew on each run instead of being stored, because it reads the community's messages and the
        cursor column is not encrypted."""
        if self.config.inbound != "longpoll":
            return [], cursor
        session = self._session()
        ts = cursor or session["ts"]
        for _attempt in range(3):
            answer = self.api.long_poll(session["server"], session["key"], ts)
            failed = answer.get("failed")
            if failed is None:
                updates = answer.get("updates") or []
                try:
                    found = events.parse_updates(updates, self.group_id)
                except (KeyError, TypeError, ValueError) as exc:
                    raise AdapterError(f"vk long poll: malformed event: {exc!r}", permanent=True)
                return self._named(found), str(answer.get("ts") or ts)
            if failed == 1:
                # Part of the history is gone; VK says to go on from the ts it gives.
                ts = str(answer.get("ts") or ts)
            elif failed == 2:
                # The key expired; the event number stays valid.
                session = self._session(fresh=True)
            elif failed == 3:
                # Key and history lost: start again from the present.
                session = self._session(fresh=True)
                ts = session["ts"]
            else:
                raise AdapterError(f"vk long poll: unknown failure {failed!r}")
        raise AdapterError("vk long poll: VK kept refusing the session")

    def _session(self, fresh: bool = False) -> dict:
        if self._longpoll is None or fresh:
            answer = self.api.call("groups.getLongPollServer", group_id=self.group_id)
            self._longpoll = {
                "server": str(answer["server"]),
                "key": str(answer["key"]),
                "ts": str(answer["ts"]),
            }
        return self._longpoll

    def _named(self, found: list[InboundEvent]) -> list[InboundEvent]:
        """Fill in authors' names (events carry only ids). Names are a courtesy: a failed lookup leaves
        them blank rather than holding up the messages."""
        people = sorted({int(e.author_id) for e in found if int(e.author_id) > 0})
        groups = sorted({-int(e.author_id) for e in found if int(e.author_id) < 0})
        names: dict[str, str] = {}
        try:
            for start in range(0, len(people), NAMES_PER_CALL):
                for user in self.api.call("users.get", user_ids=people[start : start + NAMES_PER_CALL]):
                    names[str(user["id"])] = (
                        f"{user.get('first_name', '')} {user.get('last_name', '')}".strip()
                    )
            if groups:
                for group in _groups(self.api.call("groups.getById", group_ids=groups)):
                    names[str(-int(group["id"]))] = str(group.get("name") or "")
        except (AdapterError, KeyError, TypeError, ValueError) as exc:
            logger.info(
                "vk channel %s: author names not resolved: %s", self.channel_id, getattr(exc, "message", exc)
            )
        return events.with_names(found, names)

    # --- replies ---------------------------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        thread = reply.thread_id.strip()
        post = events.POST_THREAD.match(thread)
        comment = events.COMMENT_ID.match(reply.reply_to_id or "")
        if post or (not thread and comment):
            owner, post_id = (int(post[1]), int(post[2])) if post else (int(comment[1]), int(comment[2]))
            return self._comment_reply(owner, post_id, reply, int(comment[3]) if comment else None)
        if thread.lstrip("-").isdigit():
            return self._message_reply(int(thread), reply)
        raise AdapterError(f"vk: cannot tell where to reply in thread {thread!r}", permanent=True)

    def _comment_reply(
        self, owner: int, post_id: int, reply: OutboundReply, parent: int | None
    ) -> ExternalRef:
        key = reply.idempotency_key
        answer = self.api.call(
            "wall.createComment",
            owner_id=owner,
            post_id=post_id,
            from_group=self.group_id,
            message=reply.text,
            reply_to_comment=parent,
            # VK drops a repeated comment with the same guid, so a retried reply never posts twice.
            guid=_guid(self.group_id, key) if key else None,
            idempotent=bool(key),
        )
        comment = int(answer["comment_id"])
        return ExternalRef(
            external_id=events.comment_id(owner, post_id, comment),
            url=events.post_url(owner, post_id, comment),
            parent_id=events.post_thread(owner, post_id),
        )

    def _message_reply(self, peer: int, reply: OutboundReply) -> ExternalRef:
        if len(reply.text) > MESSAGE_MAX:
            raise AdapterError(f"vk: a message holds at most {MESSAGE_MAX} characters", permanent=True)
        key = reply.idempotency_key
        quoted = events.MESSAGE_ID.match(reply.reply_to_id or "")
        forward = None
        if quoted and int(quoted[1]) == peer:
            forward = json.dumps(
                {"peer_id": peer, "conversation_message_ids": [int(quoted[2])], "is_reply": True}
            )
        answer = self.api.call(
            "messages.send",
            # peer_ids (even for one) makes VK answer with conversation_message_id, the id events carry.
            peer_ids=peer,
            random_id=random_id(self.group_id, key) if key else secrets.randbelow(INT32_MAX) + 1,
            message=reply.text,
            forward=forward,
            # The same random_id is never delivered twice, so a retry is safe to repeat.
            idempotent=bool(key),
        )
        row = answer[0] if isinstance(answer, list) and answer else {}
        if not isinstance(row, dict) or row.get("error"):
            error = row.get("error") if isinstance(row, dict) else None
            code = int(error.get("code") or 0) if isinstance(error, dict) else 0
            text = error.get("description", "") if isinstance(error, dict) else str(error or "no answer")
            raise classify("messages.send", code, text)
        cmid = row.get("conversation_message_id")
        external = events.message_id(peer, int(cmid)) if cmid is not None else f"mid{row['message_id']}"
        return ExternalRef(
            external_id=external, url=f"https://vk.com/gim{self.group_id}?sel={peer}", parent_id=str(peer)
        )

    # --- publishing ------------------------------------------------------------------------------------

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        if len(variant.text) > self.limits.max_text:
            raise AdapterError(f"vk: a post holds at most {self.limits.max_text} characters", permanent=True)
        if len(variant.media) > self.limits.max_media:
            raise AdapterError(
                f"vk: a post holds at most {self.limits.max_media} attachments", permanent=True
            )
        self.api.require("user", "wall.post")
        answer = self.api.call(
            "wall.post",
            "user",
            owner_id=-self.group_id,
            from_group=1,
            message=variant.text or None,
            attachments=attachment_ids(self.api, variant.media, variant.link) or None,
            # VK drops a second post with the same guid; our key, hashed to a fixed safe length.
            guid=_guid(self.group_id, idempotency_key),
            idempotent=True,
        )
        post_id = int(answer["post_id"])
        if variant.first_comment:
            self._first_comment(post_id, variant.first_comment, idempotency_key)
        return ExternalRef(
            external_id=events.post_thread(-self.group_id, post_id),
            url=events.post_url(-self.group_id, post_id),
        )

    def _first_comment(self, post_id: int, text: str, key: str) -> None:
        # The post exists by now: a failed first comment must not make the publication look failed (a
        # retry would then be refused or, worse, doubled), so it is logged and left.
        try:
            self.api.call(
                "wall.createComment",
                owner_id=-self.group_id,
                post_id=post_id,
                from_group=self.group_id,
                message=text,
                guid=_guid(self.group_id, f"{key}:first-comment"),
                idempotent=True,
            )
        except AdapterError as exc:
            logger.warning(
                "vk channel %s: first comment under post %s failed: %s", self.channel_id, post_id, exc.message
            )

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        """VK keeps a post's guid to itself: no method finds a post by it, and wall.get shows no trace of
        it. So there is nothing to look up, and None sends the ledger to publish again with the same key;
        that repeat carries the same guid, which VK answers with the post it already made instead of a
        second one (docs/networks/vk.md, "Publishing exactly once")."""
        return None

    # --- moderation, metrics, entries ------------------------------------------------------------------

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        if action == "hide":
            raise AdapterError("vk: VK's API cannot hide a comment; delete it instead", permanent=True)
        match = events.COMMENT_ID.match(ref.external_id)
        if not match:
            raise AdapterError(f"vk: {ref.external_id!r} is not a wall comment", permanent=True)
        # Only a user token may delete comments (wall.deleteComment), even on the community's own wall.
        self.api.call("wall.deleteComment", "user", owner_id=int(match[1]), comment_id=int(match[3]))

    def metrics(self, refs: list[ExternalRef]) -> list[MetricPoint]:
        token = self._read_token()
        wanted = [events.parse_post_ref(ref.external_id, self.group_id) for ref in refs]
        posts = [f"{owner}_{post}" for owner, post in (w for w in wanted if w)]
        now = datetime.now(UTC)
        points: list[MetricPoint] = []
        for start in range(0, len(posts), POSTS_PER_CALL):
            answer = self.api.call("wall.getById", token, posts=posts[start : start + POSTS_PER_CALL])
            # Deleted posts are simply absent from the answer: skipped, as the contract asks.
            for post in answer.get("items", []) if isinstance(answer, dict) else answer:
                ref = events.post_thread(int(post["owner_id"]), int(post["id"]))
                for name in METRICS:
                    counter = post.get(name)
                    if isinstance(counter, dict) and counter.get("count") is not None:
                        points.append(MetricPoint(ref, name, float(counter["count"]), now))
        return points

    def entries(self, ref: ExternalRef) -> list[Entry]:
        where = events.parse_post_ref(ref.external_id, self.group_id)
        if where is None:
            raise AdapterError(f"vk: {ref.external_id!r} is not a wall post", permanent=True)
        collector = EntryCollector(self.api, self._read_token(), *where)
        collector.comments()
        collector.reposts()
        collector.likes()
        collector.membership(self.group_id)
        return collector.result(exclude=-self.group_id)

    def followers(self) -> int | None:
        # The community key may read its own community; members_count comes only when asked for, and VK
        # leaves it out where the community hides its members.
        answer = self.api.call("groups.getById", group_id=self.group_id, fields="members_count")
        ours = [g for g in _groups(answer) if str(g.get("id")) == str(self.group_id)]
        count = ours[0].get("members_count") if ours else None
        return count if type(count) is int and count >= 0 else None

    # --- listening -------------------------------------------------------------------------------------

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        """Public posts with `query` since `since`, newest first, a few pages at most."""
        if not self.api.has("user"):
            raise AdapterError(
                "vk newsfeed.search: VK searches posts only with a user access token, not with a "
                "community token; add the admin user token in the channel settings",
                permanent=True,
            )
        found: list[InboundEvent] = []
        start_from = None
        for _page in range(search.MAX_PAGES):
            answer = self.api.call(search.METHOD, "user", **search.params(query, since, start_from))
            if not isinstance(answer, dict):
                raise AdapterError("vk newsfeed.search: unexpected answer")
            try:
                page = search.page_events(answer, self.group_id)
            except (KeyError, TypeError, ValueError) as exc:
                raise AdapterError(f"vk newsfeed.search: malformed post: {exc!r}", permanent=True)
            found += [e for e in page if since is None or e.created_at >= since]
            start_from = answer.get("next_from")
            if not start_from or not answer.get("items"):
                break
        if any(not e.author_name for e in found):
            # Authors the answer did not describe; a name that stays unknown shows as the handle.
            found = self._named(found)
        for event in found:
            event.author_name = event.author_name or event.author_handle
        return found


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def _groups(answer) -> list[dict]:
    # groups.getById answers {"groups": [...], "profiles": [...]} since 5.139, a bare list before.
    return answer.get("groups") or [] if isinstance(answer, dict) else list(answer or [])


def _guid(group_id: int, key: str) -> str:
    return hashlib.sha256(f"smmdesk:{group_id}:{key}".encode()).hexdigest()[:32]


def random_id(group_id: int, key: str) -> int:
    """messages.send's random_id for an idempotency key: stable, positive, within int32 (VK's type), never
    0 (which would switch the check off)."""
    digest = hashlib.sha256(f"smmdesk:{group_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % INT32_MAX + 1
