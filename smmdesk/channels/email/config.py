"""The e-mail channel's settings: the IMAP mailbox it reads, the SMTP server it answers through."""

from __future__ import annotations

import re
from typing import Literal

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_noop
from pydantic import BaseModel, Field, SecretStr, field_validator

HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")
ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9.-]+$")

Security = Literal["ssl", "starttls", "none"]
SECURITY_LABELS = {
    "ssl": gettext_noop("SSL/TLS from the start"),
    "starttls": gettext_noop("STARTTLS"),
    "none": gettext_noop("None (only for a server on this machine or network)"),
}


class EmailConfig(BaseModel):
    from_address: str = Field(
        max_length=254,
        title=gettext_noop("E-mail address"),
        description=gettext_noop(
            "The mailbox's address, e.g. hello@salon.example. Replies are sent from it."
        ),
    )
    from_name: str = Field(
        "",
        max_length=100,
        title=gettext_noop("Sender name"),
        description=gettext_noop("Shown to customers beside the address, e.g. “Salon Leninsky”."),
    )
    imap_host: str = Field(
        max_length=253,
        title=gettext_noop("IMAP server"),
        description=gettext_noop("Incoming mail server, e.g. imap.gmail.com or imap.yandex.ru."),
    )
    imap_port: int = Field(993, ge=1, le=65535, title=gettext_noop("IMAP port"))
    imap_security: Security = Field(
        "ssl",
        title=gettext_noop("IMAP encryption"),
        description=gettext_noop("SSL/TLS for port 993, STARTTLS for port 143."),
        json_schema_extra={"choice_labels": SECURITY_LABELS},
    )
    username: str = Field(
        max_length=254,
        title=gettext_noop("User name"),
        description=gettext_noop("Usually the full e-mail address."),
    )
    password: SecretStr = Field(
        title=gettext_noop("Password"),
        description=gettext_noop("An app password where the provider offers them (Gmail, Yandex, Mail.ru)."),
    )
    folder: str = Field(
        "INBOX",
        min_length=1,
        max_length=200,
        title=gettext_noop("Folder"),
        description=gettext_noop("The folder whose mail comes into the inbox."),
    )
    smtp_host: str = Field(
        max_length=253,
        title=gettext_noop("SMTP server"),
        description=gettext_noop("Outgoing mail server, e.g. smtp.gmail.com or smtp.yandex.ru."),
    )
    smtp_port: int = Field(587, ge=1, le=65535, title=gettext_noop("SMTP port"))
    smtp_security: Security = Field(
        "starttls",
        title=gettext_noop("SMTP encryption"),
        description=gettext_noop("STARTTLS for port 587, SSL/TLS for port 465."),
        json_schema_extra={"choice_labels": SECURITY_LABELS},
    )
    smtp_username: str = Field(
        "",
        max_length=254,
        title=gettext_noop("SMTP user name"),
        description=gettext_noop("Leave blank to use the IMAP user name."),
    )
    smtp_password: SecretStr | None = Field(
        None,
        title=gettext_noop("SMTP password"),
        description=gettext_noop("Leave blank to use the IMAP password."),
    )
    sent_folder: str = Field(
        "",
        max_length=200,
        title=gettext_noop("Sent folder"),
        description=gettext_noop(
            "Keep a copy of each reply in this folder, e.g. Sent. Leave blank for Gmail, which keeps one itself."
        ),
    )
    history_days: int = Field(
        7,
        ge=0,
        le=365,
        title=gettext_noop("Days of past mail"),
        description=gettext_noop(
            "On the first connection, mail of this many past days comes in; 0: new mail only."
        ),
    )
    skip_automatic: bool = Field(
        True,
        title=gettext_noop("Skip automatic mail"),
        description=gettext_noop("Leave out out-of-office answers, bounces and mailing-list mail."),
    )

    @field_validator("imap_host", "smtp_host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not HOST.match(value):
            raise ValueError(gettext_now("Enter a server name such as imap.example.com, without http://."))
        return value

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        if not ADDRESS.match(value):
            raise ValueError(gettext_now("Enter an e-mail address such as hello@example.com."))
        return value
