"""Encryption at rest for secrets, and a log filter that keeps decrypted secrets out of logs."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_known_secrets: set[str] = set()
_lock = threading.Lock()
# Short values would redact ordinary words from log lines.
MIN_REDACT_LENGTH = 6


def _fernet() -> MultiFernet:
    # The first key encrypts; the others still decrypt, so keys can be rotated.
    return MultiFernet([Fernet(k.encode()) for k in settings.SMMDESK_ENCRYPTION_KEYS])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        plain = _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "cannot decrypt: the encryption key does not match the one the secret was stored with"
        )
    remember_secret(plain)
    return plain


def remember_secret(value: str) -> None:
    if value and len(value) >= MIN_REDACT_LENGTH:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    for value in list(_known_secrets):
        if value in text:
            text = text.replace(value, "***")
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _known_secrets:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored only as this hash. They carry 256 random bits, so no salt or stretching is needed,
    and the hash survives a restore into a data dir with another SECRET_KEY."""
    return hashlib.sha256(token.encode()).hexdigest()
