"""The published entrant list: one line per eligible entrant, in the form the owner chose. Pure Python.

The list that is hashed and committed at closing IS the published list, so anyone can check the hash and
the winners without any personal data beyond what the owner chose to show:

- "full":     `<network>:<author id> <name>`      e.g. `vk:1234567 Ольга Петрова`
- "initials": `<id hash> <initials>`               e.g. `3f9a0c7be21d4a55 О.П.`
- "hashed":   `<id hash>`                          e.g. `3f9a0c7be21d4a55`

id hash = the first 16 hex digits of SHA-256("<commitment>:<network>:<author id>"). The commitment (a
random value published at opening) salts it, so the same person gets unrelated hashes in two contests,
and an entrant who knows their own id can find their line. (Ids are short numbers on most networks: the
hash keeps the list from being read at a glance, not from a determined search over every id.)

Names lose control characters and runs of spaces; lines are sorted by code point (the order of their
UTF-8 bytes) and each ends with "\\n". The text is then what listing.canonical_text returns.
"""

from __future__ import annotations

import hashlib
import unicodedata

FULL, INITIALS, HASHED = "full", "initials", "hashed"
MODES = (FULL, INITIALS, HASHED)
ID_HASH_DIGITS = 16
MAX_NAME = 100


def clean(text: str) -> str:
    """One line of printable text: control and separator characters become spaces, runs collapse."""
    out = []
    for char in text or "":
        category = unicodedata.category(char)
        out.append(" " if category[0] in ("C", "Z") else char)
    return " ".join("".join(out).split())


def id_hash(salt: str, network: str, author_id: str) -> str:
    return hashlib.sha256(f"{salt}:{network}:{author_id}".encode()).hexdigest()[:ID_HASH_DIGITS]


def initials(name: str) -> str:
    letters = [word[0].upper() + "." for word in clean(name).split()[:2] if word[0].isalpha()]
    return "".join(letters)


def line(mode: str, salt: str, network: str, author_id: str, name: str) -> str:
    author_id = clean(author_id).replace(" ", "_")
    if mode == FULL:
        shown = clean(name)[:MAX_NAME].strip()
        return f"{network}:{author_id} {shown}".rstrip()
    hashed = id_hash(salt, network, author_id)
    if mode == INITIALS:
        return f"{hashed} {initials(name)}".rstrip()
    if mode == HASHED:
        return hashed
    raise ValueError(f"pseudonymisation: one of {', '.join(MODES)}")


def canonical_text(lines) -> str:
    return "".join(f"{item}\n" for item in sorted(lines))


def split_lines(text: str) -> list[str]:
    """The list's lines; a text that is not a sequence of "\\n"-ended lines raises ValueError."""
    if text == "":
        return []
    if not text.endswith("\n"):
        raise ValueError("the entrant list must end with a newline")
    return text[:-1].split("\n")
