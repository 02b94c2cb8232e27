"""The draw itself: commitment, list hash, draw seed and winners. Pure Python (hashlib, hmac, secrets), so
the CLI's verifier and anyone's own script compute exactly what the product computed.

smmdesk-draw-v1, step by step (docs/contests.md shows it by hand):

1. At opening: server_seed = 32 random bytes; commitment = SHA-256(server_seed), published at once.
2. At closing: the entrant list (listing.canonical_text) is frozen; list_hash = SHA-256(its UTF-8 bytes).
3. After closing a person records a public value nobody knew at closing (a lottery result, a future block
   hash): its text exactly as typed, without surrounding spaces.
4. draw_seed = SHA-256(server_seed ‖ list_hash ‖ public_value): the 32 seed bytes, the 32 bytes of the list
   hash, then the public value's UTF-8 bytes. The first two have fixed lengths, so the joint is unambiguous.
5. Candidates: for counter = 0, 1, 2, ... candidate = HMAC-SHA256(key=draw_seed, msg=counter as 8 bytes
   big-endian), read as a 256-bit big-endian number.
6. Winners without replacement: `remaining` = positions 0..n-1 of the list in order. For each winner, take
   candidates until one is below limit = 2^256 - (2^256 mod len(remaining)) (rejection sampling: every
   index then has exactly the same chance); index = candidate mod len(remaining); the winner is the
   entrant at remaining[index], which is removed from `remaining`. The counter never restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator

ALGORITHM = "smmdesk-draw-v1"
SEED_BYTES = 32
CANDIDATE_BITS = 256


def new_server_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(server_seed: bytes) -> str:
    return hashlib.sha256(server_seed).hexdigest()


def list_hash(list_text: str) -> str:
    return hashlib.sha256(list_text.encode("utf-8")).hexdigest()


def draw_seed(server_seed: bytes, list_hash_hex: str, public_value: str) -> bytes:
    if len(server_seed) != SEED_BYTES:
        raise ValueError(f"server_seed: must be {SEED_BYTES} bytes, got {len(server_seed)}")
    digest = bytes.fromhex(list_hash_hex)
    if len(digest) != 32:
        raise ValueError("list_hash: must be 64 hex digits")
    return hashlib.sha256(server_seed + digest + public_value.encode("utf-8")).digest()


def candidates(seed: bytes) -> Iterator[int]:
    """HMAC-SHA256 in counter mode: an endless stream of 256-bit numbers."""
    counter = 0
    while True:
        block = hmac.new(seed, counter.to_bytes(8, "big"), hashlib.sha256).digest()
        yield int.from_bytes(block, "big")
        counter += 1


def unbiased_index(next_candidate: Callable[[], int], size: int, bits: int = CANDIDATE_BITS) -> int:
    """An index in [0, size) with every value equally likely, from uniform `bits`-bit candidates.

    Plain `candidate % size` favours small indexes whenever 2^bits is not a multiple of size; candidates
    at or above the largest multiple of size are thrown away instead."""
    if size < 1:
        raise ValueError("size: must be at least 1")
    span = 1 << bits
    limit = span - span % size
    while True:
        candidate = next_candidate()
        if candidate < limit:
            return candidate % size


def pick(seed: bytes, entrants: int, winners: int) -> list[int]:
    """Positions (0-based, in the frozen list) of the winners, first winner first."""
    if winners < 1:
        raise ValueError("winners: must be at least 1")
    if winners > entrants:
        raise ValueError(f"winners: {winners} asked for, but the list has {entrants} entrants")
    stream = candidates(seed)
    remaining = list(range(entrants))
    chosen = []
    for _ in range(winners):
        chosen.append(remaining.pop(unbiased_index(stream.__next__, len(remaining))))
    return chosen
