"""A draw's proof: one self-contained JSON document, and its offline verification. Pure Python.

`smmdesk contests proof` writes it, the public proof page offers it for download, and `smmdesk contests
verify` (or anyone's own script: docs/contests.md) recomputes every value in it from its inputs:

    {"format": "smmdesk-contest-proof", "version": 1, "algorithm": "smmdesk-draw-v1",
     "contest": {title, network, post_url, opens_at, closes_at, opened_at, closed_at, drawn_at,
                 public_value_source},
     "pseudonymisation": "full" | "initials" | "hashed",
     "commitment": hex, "server_seed": hex, "entrant_list": "line\\n...", "entrants": count,
     "list_hash": hex, "public_value": text, "draw_seed": hex, "winners_count": n,
     "winners": [{"rank": 1, "line": 1-based line of the list, "entrant": that line}, ...]}
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from smmdesk.contests import draw, listing

FORMAT = "smmdesk-contest-proof"
VERSION = 1
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ProofError(ValueError):
    """The document cannot be read as a proof (not JSON, a field missing or of the wrong type)."""


def build(
    *,
    contest: dict,
    pseudonymisation: str,
    commitment: str,
    server_seed: str,
    entrant_list: str,
    list_hash: str,
    public_value: str,
    draw_seed: str,
    winners_count: int,
    winner_lines: list[int],
) -> dict:
    lines = listing.split_lines(entrant_list)
    return {
        "format": FORMAT,
        "version": VERSION,
        "algorithm": draw.ALGORITHM,
        "contest": contest,
        "pseudonymisation": pseudonymisation,
        "commitment": commitment,
        "server_seed": server_seed,
        "entrant_list": entrant_list,
        "entrants": len(lines),
        "list_hash": list_hash,
        "public_value": public_value,
        "draw_seed": draw_seed,
        "winners_count": winners_count,
        "winners": [
            {"rank": rank, "line": position + 1, "entrant": lines[position]}
            for rank, position in enumerate(winner_lines, start=1)
        ],
    }


def dumps(proof: dict) -> str:
    return json.dumps(proof, ensure_ascii=False, indent=2) + "\n"


def _require(proof: dict, name: str, kind: type | tuple[type, ...]):
    if name not in proof:
        raise ProofError(f"{name}: missing")
    value = proof[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ProofError(f"{name}: has the wrong type")
    return value


def load(text: str) -> dict:
    try:
        proof = json.loads(text)
    except ValueError as exc:
        raise ProofError(f"not JSON: {exc}")
    if not isinstance(proof, dict):
        raise ProofError("not a proof: expected a JSON object")
    if proof.get("format") != FORMAT:
        raise ProofError(f"format: expected {FORMAT!r}, got {proof.get('format')!r}")
    if proof.get("version") != VERSION:
        raise ProofError(f"version: this verifier reads version {VERSION}, got {proof.get('version')!r}")
    for name in ("algorithm", "commitment", "server_seed", "entrant_list", "list_hash", "public_value"):
        _require(proof, name, str)
    _require(proof, "draw_seed", str)
    _require(proof, "entrants", int)
    _require(proof, "winners_count", int)
    winners = _require(proof, "winners", list)
    for number, winner in enumerate(winners, start=1):
        if not isinstance(winner, dict):
            raise ProofError(f"winner {number}: expected an object")
        for name, kind in (("rank", int), ("line", int), ("entrant", str)):
            try:
                _require(winner, name, kind)
            except ProofError as exc:
                raise ProofError(f"winner {number}: {exc}")
    if not HEX64.match(proof["server_seed"]):
        raise ProofError("server_seed: expected 64 lowercase hexadecimal digits")
    if not HEX64.match(proof["list_hash"]):
        raise ProofError("list_hash: expected 64 lowercase hexadecimal digits")
    try:
        listing.split_lines(proof["entrant_list"])
    except ValueError as exc:
        raise ProofError(f"entrant_list: {exc}")
    return proof


def _shown(lines: list[str], position: int) -> str:
    return (
        f"line {position + 1} ({lines[position]})" if 0 <= position < len(lines) else f"line {position + 1}"
    )


# The order the steps must have happened in; the public value only counts if it was recorded after the
# entrant list was frozen, or the owner could have chosen it knowing the list.
TIMELINE = ("opened_at", "closed_at", "public_value_at", "drawn_at")


def _timeline(contest) -> list[str]:
    if not isinstance(contest, dict):
        return []
    problems, previous = [], None
    for name in TIMELINE:
        text = contest.get(name)
        if text is None:
            continue
        try:
            moment = datetime.fromisoformat(text)
        except (TypeError, ValueError):
            problems.append(f"contest.{name}: not a date and time: {text!r}")
            continue
        if moment.tzinfo is None:
            problems.append(f"contest.{name}: has no time zone: {text!r}")
            continue
        if previous and moment < previous[1]:
            problems.append(f"contest.{name}: {text} is before contest.{previous[0]} {previous[2]}")
        previous = (name, moment, text)
    return problems


def verify(proof: dict) -> list[str]:
    """Every difference between what the proof says and what its inputs give; empty means it holds.

    `proof` has passed load(). Each message names the field or winner that differs."""
    problems = _timeline(proof.get("contest"))
    if proof["algorithm"] != draw.ALGORITHM:
        # Nothing else can be checked with an algorithm we do not know.
        return [*problems, f"algorithm: expected {draw.ALGORITHM}, got {proof['algorithm']}"]
    seed = bytes.fromhex(proof["server_seed"])
    expected = draw.commitment(seed)
    if expected != proof["commitment"]:
        problems.append(
            f"commitment: expected {expected} (the SHA-256 of server_seed), got {proof['commitment']}"
        )
    lines = listing.split_lines(proof["entrant_list"])
    if lines != sorted(lines):
        first = next(i for i in range(1, len(lines)) if lines[i] < lines[i - 1])
        problems.append(f"entrant_list: line {first + 1} is out of order (lines must be sorted)")
    if proof["entrants"] != len(lines):
        problems.append(f"entrants: expected {len(lines)} (lines in entrant_list), got {proof['entrants']}")
    expected = draw.list_hash(proof["entrant_list"])
    if expected != proof["list_hash"]:
        problems.append(
            f"list_hash: expected {expected} (the SHA-256 of entrant_list), got {proof['list_hash']}"
        )
    seed_out = draw.draw_seed(seed, proof["list_hash"], proof["public_value"]).hex()
    if seed_out != proof["draw_seed"]:
        problems.append(
            f"draw_seed: expected {seed_out} (from server_seed, list_hash and public_value), "
            f"got {proof['draw_seed']}"
        )
    winners = proof["winners"]
    count = proof["winners_count"]
    if count != len(winners):
        problems.append(f"winners: expected {count} (winners_count), got {len(winners)}")
    if not 1 <= count <= len(lines):
        problems.append(f"winners_count: {count} cannot be drawn from {len(lines)} entrants")
        return problems
    positions = draw.pick(bytes.fromhex(seed_out), len(lines), count)
    for rank, position in enumerate(positions, start=1):
        if rank > len(winners):
            problems.append(f"winner {rank}: expected {_shown(lines, position)}, got nothing")
            continue
        given = winners[rank - 1]
        if given["rank"] != rank or given["line"] != position + 1 or given["entrant"] != lines[position]:
            got = f"line {given['line']} ({given['entrant']})"
            if given["rank"] != rank:
                got += f" as rank {given['rank']}"
            problems.append(f"winner {rank}: expected {_shown(lines, position)}, got {got}")
    for extra in winners[len(positions) :]:
        problems.append(f"winner {extra['rank']}: not drawn, got line {extra['line']} ({extra['entrant']})")
    return problems
