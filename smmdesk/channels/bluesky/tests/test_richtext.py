"""Facets by UTF-8 byte ranges, grapheme counting and derived record keys."""

from __future__ import annotations

import pytest

from smmdesk.channels.bluesky.richtext import LINK, MENTION, TAG, TID_PATTERN, facets, graphemes, rkey_for

DIDS = {"anna.bsky.social": "did:plc:anna7customer"}


def spans(text: str) -> list[tuple[str, dict]]:
    """Each facet's bytes cut out of the encoded text, with its feature: what Bluesky's clients show."""
    raw = text.encode("utf-8")
    return [
        (raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"), f["features"][0])
        for f in facets(text, DIDS.get)
    ]


def test_cyrillic_and_emoji_offsets_are_bytes_not_characters():
    text = "Привет 🌸 @anna.bsky.social! Скидки тут: https://salon.example/цены?a=1. #стрижка #2024 #весна🌷"
    found = spans(text)
    assert found == [
        ("@anna.bsky.social", {"$type": MENTION, "did": "did:plc:anna7customer"}),
        ("https://salon.example/цены?a=1", {"$type": LINK, "uri": "https://salon.example/цены?a=1"}),
        ("#стрижка", {"$type": TAG, "tag": "стрижка"}),
        ("#весна🌷", {"$type": TAG, "tag": "весна🌷"}),
    ]
    first = facets(text, DIDS.get)[0]["index"]
    # "Привет " is 13 bytes, the flower 4, the space 1: the mention starts at byte 18, not character 9.
    assert first == {"byteStart": 18, "byteEnd": 35}


def test_unknown_handles_stay_plain_text_and_urls_keep_their_parentheses():
    text = (
        "Спросите @nobody.example (см. https://ru.wikipedia.org/wiki/Салон_(значения)), #1 и e-mail a@b.com"
    )
    assert spans(text) == [
        (
            "https://ru.wikipedia.org/wiki/Салон_(значения)",
            {"$type": LINK, "uri": "https://ru.wikipedia.org/wiki/Салон_(значения)"},
        )
    ]


def test_hash_inside_a_link_belongs_to_the_link():
    [(text, feature)] = spans("см. https://salon.example/page#prices")
    assert feature["$type"] == LINK and text.endswith("#prices")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("привет", 6),
        ("👍🏽", 1),  # skin tone joins the hand
        ("👨‍👩‍👧", 1),  # a family joined by ZWJ
        ("🇷🇺🇸🇰", 2),  # two flags
        ("é", 1),  # e + combining accent
        ("❤️", 1),  # heart + variation selector
    ],
)
def test_graphemes(text, count):
    assert graphemes(text) == count


def test_record_keys_are_valid_tids_and_stable_per_key():
    first = rkey_for("calendar-7")
    assert TID_PATTERN.match(first)
    assert rkey_for("calendar-7") == first
    assert rkey_for("calendar-8") != first
    assert rkey_for("calendar-7", "reply") != first
    keys = {rkey_for(f"k{i}") for i in range(2000)}
    assert len(keys) == 2000 and all(TID_PATTERN.match(k) for k in keys)
