"""Text that every database can store.

JSON lets a sender write "\\u0000" and a lone "\\ud800" into any string. PostgreSQL refuses NUL in text
and jsonb, and no database can encode a lone surrogate as UTF-8, so a value like that fails deep inside a
save. Input we must keep whatever it holds (a customer's message from a network) goes through storable()
once, where it enters; input a person can correct is refused instead (channels.webhook.payload).
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value):
    """`value` with NUL dropped and lone surrogates replaced by U+FFFD, in strings, lists and dicts
    (keys too); anything else is returned as it is."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, tuple):
        return tuple(storable(item) for item in value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value
