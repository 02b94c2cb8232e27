"""Telegram through the Bot API (https://core.telegram.org/bots/api): a bot publishes in a channel, and
takes in private chats, group and supergroup conversations (forum topics too) and the comments of the
channel's discussion group. Inbound by webhook (secret_token) or getUpdates polling.

Parsing of updates and the id scheme live in updates.py; this module makes the calls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable
from typing import ClassVar, Literal

from django.utils.translation import gettext_lazy

from smmdesk.channels import ratelimit
from smmdesk.channels.base import (
    AccountInfo,
    Adapter,
    AdapterError,
    Capability,
    Entry,
    ExternalRef,
    InboundEvent,
    OutboundReply,
    PostLimits,
    PostVariant,
    SignatureError,
)
from smmdesk.channels.telegram import updates
from smmdesk.channels.telegram.config import HELP_TEXT, TelegramConfig
from smmdesk.lib import crypto, http

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CAPTION = 1024
# getUpdates' long-poll wait. Polling runs once a minute per channel; holding a worker for every quiet
# channel would cost more than the seconds it saves. Whoever needs speed sets up the webhook.
POLL_TIMEOUT = 0
POLL_LIMIT = 100
# Documented limits (core.telegram.org/bots/faq): about 30 messages a second overall, one a second in a
# private chat, 20 a minute in a group; @BotSupport says the group limit applies to channels too.
BOT_RATE = 30.0
PRIVATE_CHAT_RATE = 1.0
GROUP_RATE = 20 / 60
SENDING = frozenset(
    {"sendMessage", "sendPhoto", "sendVideo", "sendAnimation", "sendDocument", "sendMediaGroup"}
)
MEDIA_METHODS = {
    "photo": "sendPhoto",
    "video": "sendVideo",
    "animation": "sendAnimation",
    "document": "sendDocument",
}
EXTENSIONS = {
    "photo": (".jpg", ".jpeg", ".png", ".webp"),
    "video": (".mp4", ".mov", ".m4v"),
    "animation": (".gif",),
}

# Replaced by tests: the client-side rate limiter's short waits are recorded, not slept.
_pause = time.sleep


class TelegramError(AdapterError):
    """An AdapterError that keeps Telegram's own answer, for the few descriptions that mean success
    ("message is not modified") or a changed chat (migrate_to_chat_id)."""

    def __init__(self, message: str, *, code: int | None, description: str = "", parameters=None, **flags):
        super().__init__(message, **flags)
        self.code = code
        self.description = description
        self.parameters = parameters or {}


def _bot_id(token: str) -> str:
    # The digits before the colon are the bot's public id; anything else is hashed, never shown.
    head = token.split(":", 1)[0]
    return head if head.isdigit() else hashlib.sha256(token.encode()).hexdigest()[:12]


def media_kind(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    for kind, endings in EXTENSIONS.items():
        if path.endswith(endings):
            return kind
    return "document"


def post_url(chat: dict, message_id: int) -> str:
    """The t.me address of a channel message: public channels by username, private ones by id."""
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return ""


class TelegramAdapter(Adapter):
    kind = "telegram"
    label = gettext_lazy("Telegram")
    Config = TelegramConfig
    capabilities = frozenset(
        {Capability.INBOX, Capability.REPLY, Capability.PUBLISH, Capability.MODERATE, Capability.ENTRIES}
    )
    limits = PostLimits(
        max_text=4096,
        max_media=10,
        supports_link=True,
        supports_first_comment=False,
        max_caption=MAX_CAPTION,
    )
    # Telegram sends the secret itself, not a signature: it is stored encrypted with the delivery.
    secret_headers = frozenset({SECRET_HEADER.lower()})
    help_text = HELP_TEXT
    poll_timeout: ClassVar[int] = POLL_TIMEOUT

    # --- the one place calls are made and their errors classified ------------------------------------

    def _call(self, method: str, params: dict | None = None, *, chat=None, timeout: float | None = None):
        if method in SENDING:
            self._throttle(chat)
        token = self.config.bot_token.get_secret_value()
        # The token is in the URL and httpx logs URLs: the log filter must know it in every process.
        crypto.remember_secret(token)
        url = f"{self.config.api_url.rstrip('/')}/bot{token}/{method}"
        options = {"timeout": timeout} if timeout else {}
        try:
            response = http.post(url, json=params or {}, raise_for_status=False, **options)
        except http.OutboundError as exc:
            # No answer at all (refused, timed out, the SSRF guard): say which, never the URL's path.
            raise TelegramError(
                f"telegram {method}: {exc.message}", code=exc.status, permanent=exc.permanent
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        header_wait = http.parse_retry_after(response.headers.get("Retry-After"))
        raise self._error(method, response.status_code, body if isinstance(body, dict) else {}, header_wait)

    @staticmethod
    def _error(method: str, status: int, body: dict, header_wait: float | None) -> TelegramError:
        """Telegram's error answer ({"ok": false, "error_code", "description", "parameters"}) as flags."""
        code = body.get("error_code") if isinstance(body.get("error_code"), int) else status
        description = str(body.get("description") or f"HTTP {status}")[:300]
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        message = f"telegram {method}: {description}"
        flags: dict = {}
        if code in (401, 404):
            # 401: the token was revoked (or the bot deleted); 404: no bot has this token. Either way
            # only the owner can fix it, with a new token.
            flags["reconnect"] = True
            message = f"telegram {method}: the bot token is no longer valid ({description})"
        elif code == 429 or parameters.get("retry_after"):
            wait = parameters.get("retry_after")
            flags["retry_after"] = float(wait) if isinstance(wait, int | float) else (header_wait or 30.0)
        elif code is not None and 400 <= code < 500:
            # 400 bad request, 403 bot kicked or blocked by the user, 409 conflict: repeating the same
            # call cannot help; the message says what to change.
            flags["permanent"] = True
        return TelegramError(message, code=code, description=description, parameters=parameters, **flags)

    def _throttle(self, chat) -> None:
        bot = _bot_id(self.config.bot_token.get_secret_value())
        ratelimit.acquire(f"telegram:{bot}", BOT_RATE, sleep=lambda s: _pause(s))
        if chat is None:
            return
        # Private chats have the user's (positive) id; groups and channels negative ids or @usernames.
        rate = PRIVATE_CHAT_RATE if str(chat).isdigit() else GROUP_RATE
        ratelimit.acquire(f"telegram:{bot}:{chat}", rate, sleep=lambda s: _pause(s))

    # --- account ---------------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        me = self._call("getMe")
        username = me.get("username") or ""
        name = " ".join(
            part for part in (me.get("first_name", ""), f"@{username}" if username else "") if part
        )
        if self.config.channel_chat_id:
            self._check_channel(me["id"])
        return AccountInfo(
            external_id=str(me["id"]), name=name, url=f"https://t.me/{username}" if username else ""
        )

    def _check_channel(self, bot_id: int) -> None:
        channel = self.config.channel_chat_id
        try:
            member = self._call("getChatMember", {"chat_id": channel, "user_id": bot_id})
        except TelegramError as exc:
            if exc.reconnect or not exc.permanent:
                raise
            raise AdapterError(
                f"telegram: the bot cannot see the channel {channel} ({exc.description}); add it to the "
                "channel as an administrator",
                permanent=True,
            )
        if (
            member.get("status") not in ("administrator", "creator")
            or member.get("can_post_messages") is False
        ):
            raise AdapterError(
                f"telegram: the bot is not an administrator of {channel} allowed to post messages",
                permanent=True,
            )

    # --- inbound ---------------------------------------------------------------------------------------

    def verify(self, headers) -> None:
        secret = self.config.webhook_secret
        if secret is None:
            # Without a secret anybody could post "updates" here: refuse rather than trust them.
            raise SignatureError(
                f"{SECRET_HEADER}: this channel has no webhook secret token; it polls instead"
            )
        given = headers.get(SECRET_HEADER) or ""
        if not given:
            raise SignatureError(f"{SECRET_HEADER}: header missing")
        if not hmac.compare_digest(secret.get_secret_value().encode(), str(given).encode("utf-8", "replace")):
            raise SignatureError(f"{SECRET_HEADER}: does not match this channel's secret token")

    def parse_webhook(self, body: bytes, headers) -> list[InboundEvent]:
        self.verify(headers)
        try:
            update = json.loads(body)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                raise ValueError("not an Update object")
            event = updates.parse_update(update, self.config.channel_chat_id)
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise AdapterError(
                f"body: not a Telegram update ({exc.__class__.__name__}: {exc})", permanent=True
            )
        return [event] if event else []

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        offset = int(cursor) if cursor and cursor.isdigit() else None
        params = {
            "limit": POLL_LIMIT,
            "timeout": self.poll_timeout,
            "allowed_updates": updates.ALLOWED_UPDATES,
        }
        if offset is not None:
            # Asking from `offset` also confirms everything before it: Telegram forgets those updates.
            params["offset"] = offset
        try:
            batch = self._call("getUpdates", params, timeout=self.poll_timeout + 20.0)
        except TelegramError as exc:
            if exc.code == 409:
                # A webhook is set (deliveries come to /hooks/...), or another poller holds the bot.
                logger.info("telegram channel %s: getUpdates refused: %s", self.channel_id, exc.description)
                return [], cursor
            raise
        events = []
        for update in batch or []:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int):
                continue
            offset = max(offset or 0, update_id + 1)
            try:
                event = updates.parse_update(update, self.config.channel_chat_id)
            except (KeyError, TypeError, ValueError) as exc:
                # One odd update must not stall the channel: skip it, keep the rest.
                logger.warning("telegram channel %s: update %s skipped: %r", self.channel_id, update_id, exc)
                continue
            if event:
                events.append(event)
        return events, str(offset) if offset is not None else cursor

    def register_webhook(self, url: str) -> None:
        """Point Telegram at `url` (this channel's /hooks/<id>/ address) with the secret token."""
        if self.config.webhook_secret is None:
            raise AdapterError("telegram: set a webhook secret token first", permanent=True)
        self._call(
            "setWebhook",
            {
                "url": url,
                "secret_token": self.config.webhook_secret.get_secret_value(),
                "allowed_updates": updates.ALLOWED_UPDATES,
            },
        )

    # --- replies ---------------------------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> ExternalRef:
        """Telegram has no idempotency key: the inbox's reply task claims each reply once before sending."""
        if len(reply.text) > self.limits.max_text:
            raise AdapterError(
                f"telegram: a message holds at most {self.limits.max_text} characters", permanent=True
            )
        try:
            chat, topic = updates.split_thread(reply.thread_id)
            target = None
            if reply.reply_to_id:
                # The answered message says where to write: for a comment that is the discussion group.
                chat, ids = updates.split_ref(reply.reply_to_id)
                target = ids[0]
            elif ":" in reply.thread_id:
                raise AdapterError(
                    "telegram: a comment thread can only be answered by replying to one of its comments",
                    permanent=True,
                )
        except ValueError:
            raise AdapterError(f"telegram: cannot reply in thread {reply.thread_id!r}", permanent=True)
        params: dict = {"chat_id": chat, "text": reply.text}
        if topic:
            params["message_thread_id"] = topic
        if target and chat.startswith("-"):
            # In a group, quote what we answer; in a one-to-one chat a quote on every answer is noise.
            params["reply_parameters"] = {"message_id": target, "allow_sending_without_reply": True}
        try:
            message = self._call("sendMessage", params, chat=chat)
        except TelegramError as exc:
            moved = exc.parameters.get("migrate_to_chat_id")
            if not moved:
                raise
            # The group became a supergroup with a new id; the message goes there.
            params["chat_id"] = str(moved)
            message = self._call("sendMessage", params, chat=params["chat_id"])
        return ExternalRef(
            external_id=updates.message_ref(message["chat"]["id"], message["message_id"]),
            parent_id=reply.thread_id,
        )

    # --- publishing --------------------------------------------------------------------------------------

    def _channel(self) -> str:
        if not self.config.channel_chat_id:
            raise AdapterError("telegram: no channel for posts is set on this channel", permanent=True)
        return self.config.channel_chat_id

    def _text(self, variant: PostVariant) -> str:
        text = variant.text
        if variant.link and variant.link not in text:
            text = f"{text}\n\n{variant.link}" if text else variant.link
        return text

    def publish(self, variant: PostVariant, idempotency_key: str) -> ExternalRef:
        """Telegram has no idempotency key and no way to look a post up: smmdesk's publish ledger keeps a
        key from posting twice (find_published refuses to guess, see there)."""
        chat = self._channel()
        text = self._text(variant)
        media = list(variant.media)
        if len(media) > self.limits.max_media:
            raise AdapterError(
                f"telegram: at most {self.limits.max_media} photos or videos per post", permanent=True
            )
        limit = MAX_CAPTION if media else self.limits.max_text
        if len(text) > limit:
            what = "a caption" if media else "a message"
            raise AdapterError(f"telegram: {what} holds at most {limit} characters", permanent=True)
        if not media:
            sent = [self._call("sendMessage", {"chat_id": chat, "text": text}, chat=chat)]
        elif len(media) == 1:
            kind = media_kind(media[0])
            params = {"chat_id": chat, kind: media[0]}
            if text:
                params["caption"] = text
            sent = [self._call(MEDIA_METHODS[kind], params, chat=chat)]
        else:
            sent = self._call(
                "sendMediaGroup", {"chat_id": chat, "media": self._album(media, text)}, chat=chat
            )
        first = sent[0]
        ids = ",".join(str(m["message_id"]) for m in sent)
        return ExternalRef(
            external_id=f"{first['chat']['id']}:{ids}", url=post_url(first["chat"], first["message_id"])
        )

    @staticmethod
    def _album(media: list[str], caption: str) -> list[dict]:
        kinds = [media_kind(url) for url in media]
        # An album mixes photos and videos, or holds documents only (Bot API sendMediaGroup).
        if "document" in kinds and set(kinds) != {"document"}:
            raise AdapterError("telegram: an album cannot mix files with photos or videos", permanent=True)
        if "animation" in kinds:
            raise AdapterError("telegram: a GIF cannot be part of an album; post it alone", permanent=True)
        items = [{"type": kind, "media": url} for kind, url in zip(kinds, media, strict=True)]
        if caption:
            items[0]["caption"] = caption
        return items

    def find_published(self, idempotency_key: str) -> ExternalRef | None:
        # Bots cannot read a channel's history, so "not there" can never be said for sure, and guessing
        # "not there" would post twice. The ledger stops; a person looks at the channel.
        raise AdapterError(
            "telegram: an earlier attempt may have posted, and bots cannot look posts up; check the channel "
            "and publish again by hand if the post is missing",
            permanent=True,
        )

    def edit(self, ref: ExternalRef, variant: PostVariant) -> ExternalRef:
        """Change a published post's text (editMessageText) or caption (editMessageCaption)."""
        chat, ids = self._split(ref)
        text = self._text(variant)
        caption = bool(variant.media)
        limit = MAX_CAPTION if caption else self.limits.max_text
        if len(text) > limit:
            raise AdapterError(f"telegram: at most {limit} characters", permanent=True)
        for attempt in range(2):
            method, field = ("editMessageCaption", "caption") if caption else ("editMessageText", "text")
            try:
                self._call(method, {"chat_id": chat, "message_id": ids[0], field: text})
                break
            except TelegramError as exc:
                description = exc.description.lower()
                if "message is not modified" in description:
                    break  # already says this: a repeated edit is done
                other_kind = (
                    "no text in the message" in description or "no caption in the message" in description
                )
                if attempt == 0 and other_kind:
                    caption = not caption  # the post is of the other kind than the variant suggests
                    continue
                raise
        return ExternalRef(external_id=ref.external_id, url=ref.url)

    def delete(self, ref: ExternalRef) -> None:
        """Delete a post (every message of an album) or a message; one already gone counts as deleted."""
        chat, ids = self._split(ref)
        try:
            if len(ids) == 1:
                self._call("deleteMessage", {"chat_id": chat, "message_id": ids[0]})
            else:
                self._call("deleteMessages", {"chat_id": chat, "message_ids": ids})
        except TelegramError as exc:
            if "message to delete not found" not in exc.description.lower():
                raise

    @staticmethod
    def _split(ref: ExternalRef) -> tuple[str, list[int]]:
        try:
            return updates.split_ref(ref.external_id)
        except ValueError:
            raise AdapterError(f"telegram: {ref.external_id!r} is not a Telegram message id", permanent=True)

    # --- moderation and contests -------------------------------------------------------------------------

    def moderate(self, ref: ExternalRef, action: Literal["hide", "delete"]) -> None:
        if action != "delete":
            raise AdapterError("telegram: messages cannot be hidden, only deleted", permanent=True)
        # Bots delete others' messages in groups where they are administrators with "delete messages".
        self.delete(ref)

    def entries(self, ref: ExternalRef, comments: Iterable[InboundEvent] | None = None) -> list[Entry]:
        """Distinct commenters of a channel post. The Bot API cannot list comments, so the caller passes
        the comment events smmdesk has taken in (see updates.comment_entries)."""
        if comments is None:
            raise AdapterError(
                "telegram: the Bot API cannot list the comments of a post; entries come from the comments "
                "smmdesk has received (pass them as `comments`)",
                permanent=True,
            )
        bot = _bot_id(self.config.bot_token.get_secret_value())
        chat, _ids = self._split(ref)
        return updates.comment_entries(ref.external_id, comments, exclude={bot, chat})

    def followers(self) -> int | None:
        """The subscribers of the channel for posts; a bot that only answers messages has none to count."""
        if not self.config.channel_chat_id:
            return None
        count = self._call("getChatMemberCount", {"chat_id": self.config.channel_chat_id})
        return count if type(count) is int and count >= 0 else None
