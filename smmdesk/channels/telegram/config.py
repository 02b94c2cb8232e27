"""The Telegram channel's settings (the generated connection form) and the help shown beside them."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from pydantic import BaseModel, Field, SecretStr, field_validator

# What setWebhook accepts as secret_token.
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# A public channel's @username (5-32 characters) or a chat's numeric id (-100... for channels).
CHAT_PATTERN = r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?[0-9]{1,20})$"


class TelegramConfig(BaseModel):
    bot_token: SecretStr = Field(
        title=gettext_noop("Bot token"),
        description=gettext_noop("From @BotFather, like 123456789:AAE-…"),
    )
    channel_chat_id: str | None = Field(
        None,
        pattern=CHAT_PATTERN,
        title=gettext_noop("Channel for posts"),
        description=gettext_noop(
            "@username of the channel the bot publishes to, or its numeric id (-100…) for a private "
            "channel. Leave empty if this bot only answers messages."
        ),
    )
    webhook_secret: SecretStr | None = Field(
        None,
        title=gettext_noop("Webhook secret token"),
        description=gettext_noop(
            "1-256 characters: letters, digits, _ and -. Telegram sends it back with every delivery. "
            "Leave empty to fetch messages by polling instead."
        ),
    )
    api_url: str = Field(
        "https://api.telegram.org",
        title=gettext_noop("Bot API address"),
        description=gettext_noop("Change only for a self-hosted Bot API server."),
    )

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError(_("Use 1 to 256 characters: Latin letters, digits, _ and -."))
        return value


HELP_TEXT = gettext_lazy(
    "1. In Telegram, open @BotFather, send /newbot, choose a name and a username ending in “bot”, and "
    "copy the token it gives you into “Bot token”.\n"
    "2. To read every message in your groups, send /setprivacy to @BotFather, pick the bot and choose "
    "Disable (or make the bot an administrator of each group); then add the bot to the groups. Private "
    "chats work as soon as a customer presses Start.\n"
    "3. To publish, add the bot to your channel as an administrator allowed to post, edit and delete "
    "messages, and enter the channel's @username (or its -100… id) under “Channel for posts”.\n"
    "4. For comments under posts, add the bot to the channel's discussion group as well.\n"
    "5. Messages are fetched every minute. For instant delivery enter a webhook secret token, save, "
    "and register this channel's webhook address (shown on the channel page) with Telegram's "
    "setWebhook, passing the same secret token."
)
