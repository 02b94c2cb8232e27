"""The settings of a VK channel: the generated connection form, the API schema and encrypted storage all
come from this model (secrets are the SecretStr fields)."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext_noop
from pydantic import BaseModel, Field, SecretStr


class VKConfig(BaseModel):
    group_id: int = Field(
        ge=1,
        le=2**53,
        title=gettext_noop("Community id"),
        description=gettext_noop(
            "The number of your community: in its address vk.com/club123456 it is 123456; for a short "
            "address, see Manage → Settings → API usage."
        ),
    )
    access_token: SecretStr = Field(
        title=gettext_noop("Community access token"),
        description=gettext_noop(
            "Manage → Settings → API usage → Access tokens → Create token, allowing community management "
            "and community messages. Used for messages, replies to comments and incoming events."
        ),
    )
    inbound: Literal["longpoll", "callback"] = Field(
        "longpoll",
        title=gettext_noop("How messages arrive"),
        description=gettext_noop(
            "Long Poll needs no public address (turn it on in API usage → Long Poll API). Callback API is "
            "instant but VK must reach this server at /hooks/<channel id>/."
        ),
        json_schema_extra={
            "choice_labels": {
                "longpoll": gettext_noop("Bots Long Poll (smmdesk asks VK every minute)"),
                "callback": gettext_noop("Callback API (VK calls smmdesk)"),
            }
        },
    )
    confirmation_code: str = Field(
        "",
        max_length=64,
        pattern=r"^[A-Za-z0-9]*$",
        title=gettext_noop("Callback API confirmation string"),
        description=gettext_noop(
            "The “string to be returned” shown in API usage → Callback API. Leave blank and smmdesk asks "
            "VK for it (the token then needs the community management right)."
        ),
    )
    secret_key: SecretStr | None = Field(
        None,
        title=gettext_noop("Callback API secret key"),
        description=gettext_noop(
            "Make up a long random text and enter it both here and in Callback API → Secret key. Required "
            "for Callback API: deliveries without it are refused."
        ),
    )
    service_token: SecretStr | None = Field(
        None,
        title=gettext_noop("Service key (metrics, contest entries)"),
        description=gettext_noop(
            "From your VK app's settings at id.vk.com (Service key). Reads post metrics, comments, "
            "reposts and likes. Optional: without it, the admin user token is used, if set."
        ),
    )
    user_token: SecretStr | None = Field(
        None,
        title=gettext_noop("Admin user token (publishing, deleting comments)"),
        description=gettext_noop(
            "A user token of a community admin with the wall and photos rights: VK lets only such a "
            "token post on the community wall and delete comments. Optional."
        ),
    )
    api_url: str = Field(
        "https://api.vk.com",
        title=gettext_noop("API address"),
        description=gettext_noop("Change only for a proxy or a test server."),
    )
