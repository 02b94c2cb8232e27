"""Bluesky post text: facets (links, mentions, hashtags) with UTF-8 byte ranges, grapheme counting, and
record keys derived from our idempotency keys.

Facets index the text by UTF-8 bytes, not characters: "Привет 🌸 #тег" has its tag at byte 20, not at
character 10. Every range here is computed on the encoded text, so Cyrillic and emoji land right.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"
MAX_TAG = 64  # graphemes, per the facet lexicon

_URL = re.compile(r"(?<![\w@/])https?://[^\s<>\"'`]+", re.IGNORECASE)
# A handle is a domain name: dot-separated labels of letters, digits and hyphens, the last not numeric.
_HANDLE = re.compile(
    r"(?<![\w@.])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_HASHTAG = re.compile(r"(?<![\w#＃&])[#＃]([^\s#＃]+)")
_TRAILING = ".,;:!?…'\"»”’"


@dataclass(frozen=True)
class Span:
    start: int  # character offsets in the str
    end: int
    feature: dict


def _strip_url(url: str) -> str:
    # Sentence punctuation after a link is not part of it; a ")" is, when the link opened one.
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _strip_tag(tag: str) -> str:
    while tag and unicodedata.category(tag[-1]).startswith("P"):
        tag = tag[:-1]
    return tag


def find_spans(text: str, resolve: Callable[[str], str | None]) -> list[Span]:
    """Links, mentions and hashtags in `text`, without overlaps (a # or @ inside a link stays the link's).
    `resolve(handle)` gives the mentioned account's DID, or None to leave the @name as plain text."""
    spans: list[Span] = []
    for match in _URL.finditer(text):
        url = _strip_url(match.group(0))
        if "." in url.split("//", 1)[-1]:
            spans.append(Span(match.start(), match.start() + len(url), {"$type": LINK, "uri": url}))

    def free(start: int, end: int) -> bool:
        return all(end <= s.start or start >= s.end for s in spans)

    for match in _HANDLE.finditer(text):
        if not free(match.start(), match.end()):
            continue
        did = resolve(match.group(1).lower())
        if did:
            spans.append(Span(match.start(), match.end(), {"$type": MENTION, "did": did}))
    for match in _HASHTAG.finditer(text):
        tag = _strip_tag(match.group(1))
        if not tag or tag.isdigit() or graphemes(tag) > MAX_TAG:
            continue
        end = match.start() + 1 + len(tag)
        if free(match.start(), end):
            spans.append(Span(match.start(), end, {"$type": TAG, "tag": tag}))
    return sorted(spans, key=lambda s: s.start)


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict]:
    """app.bsky.richtext.facet objects for `text`, their index in UTF-8 bytes."""
    found = []
    for span in find_spans(text, resolve):
        start = len(text[: span.start].encode("utf-8"))
        end = start + len(text[span.start : span.end].encode("utf-8"))
        found.append({"index": {"byteStart": start, "byteEnd": end}, "features": [span.feature]})
    return found


_JOINERS = {"\u200d"}


def graphemes(text: str) -> int:
    """How many characters a reader sees (Bluesky limits posts to 300 of them). An approximation of
    Unicode's grapheme clusters: combining marks, variation selectors, skin tones and ZWJ sequences
    join the character before them, and a pair of regional indicators is one flag."""
    count = 0
    join_next = False
    regional_open = False
    for char in text:
        code = ord(char)
        if join_next:
            join_next = False
            continue
        if char in _JOINERS:
            join_next = True
            continue
        if (
            unicodedata.category(char) in ("Mn", "Me")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
        ):
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:
            if regional_open:
                regional_open = False
                continue
            regional_open = True
        else:
            regional_open = False
        count += 1
    return count


# --- record keys -------------------------------------------------------------------------------------

_S32 = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
# Derived keys carry a timestamp inside this past range: a TID's time is never trusted (atproto spec),
# but no reader of the repository should meet one from the future.
_RANGE_START = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_RANGE_SPAN = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1_000_000) - _RANGE_START


def rkey_for(idempotency_key: str, purpose: str = "post") -> str:
    """The record key for an idempotency key: the same key always names the same record, so a retried
    createRecord cannot make a second post. Shaped as a TID (13 base32-sortable characters; a 53-bit
    microsecond time and a 10-bit clock id), the key type app.bsky.feed.post records use."""
    digest = hashlib.sha256(f"smmdesk:{purpose}:{idempotency_key}".encode()).digest()
    micros = _RANGE_START + int.from_bytes(digest[:8], "big") % _RANGE_SPAN
    clock_id = int.from_bytes(digest[8:10], "big") & 0x3FF
    value = (micros << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_S32[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))
