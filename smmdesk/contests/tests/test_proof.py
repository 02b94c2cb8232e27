"""The proof document and its offline check: an honest proof verifies; changing any input or any winner
makes verification fail and name what differs; a file that is not a proof is unreadable (exit 2)."""

import copy
import json

import pytest
from click.testing import CliRunner

from smmdesk.contests import draw, listing, proof
from smmdesk.contests.cli import contests

SEED = bytes.fromhex("5f" * 32)
COMMITMENT = draw.commitment(SEED)
PEOPLE = [
    ("1001", "Ольга Петрова"),
    ("1002", "Игорь Смирнов"),
    ("1003", "Анна"),
    ("77", ""),
    ("1005", "Ян Ли"),
]


def honest_proof(mode="initials", winners=2, public_value="04 11 17 26 38 42") -> dict:
    text = listing.canonical_text(listing.line(mode, COMMITMENT, "vk", i, n) for i, n in PEOPLE)
    digest = draw.list_hash(text)
    seed_out = draw.draw_seed(SEED, digest, public_value)
    return proof.build(
        contest={"title": "Giveaway", "network": "vk"},
        pseudonymisation=mode,
        commitment=COMMITMENT,
        server_seed=SEED.hex(),
        entrant_list=text,
        list_hash=digest,
        public_value=public_value,
        draw_seed=seed_out.hex(),
        winners_count=winners,
        winner_lines=draw.pick(seed_out, len(PEOPLE), winners),
    )


@pytest.mark.parametrize("mode", listing.MODES)
def test_an_honest_proof_verifies_in_every_list_form(mode):
    document = proof.load(proof.dumps(honest_proof(mode)))
    assert proof.verify(document) == []
    assert document["entrants"] == len(PEOPLE)
    assert [w["rank"] for w in document["winners"]] == [1, 2]


def test_the_list_is_sorted_one_line_per_entrant_ending_in_newlines():
    text = honest_proof("full")["entrant_list"]
    lines = text.split("\n")
    assert lines[-1] == "" and lines[:-1] == sorted(lines[:-1])
    assert "vk:1001 Ольга Петрова" in lines and "vk:77" in lines


def _flip_hex(value: str) -> str:
    return ("0" if value[0] != "0" else "1") + value[1:]


TAMPERING = {
    "server_seed": lambda p: p.update(server_seed=_flip_hex(p["server_seed"])),
    "commitment": lambda p: p.update(commitment=_flip_hex(p["commitment"])),
    "list_hash": lambda p: p.update(list_hash=_flip_hex(p["list_hash"])),
    "public_value": lambda p: p.update(public_value=p["public_value"] + "3"),
    "draw_seed": lambda p: p.update(draw_seed=_flip_hex(p["draw_seed"])),
    "algorithm": lambda p: p.update(algorithm="smmdesk-draw-v0"),
    "winners_count": lambda p: p.update(winners_count=3),
    "entrants": lambda p: p.update(entrants=4),
}


@pytest.mark.parametrize("field", list(TAMPERING))
def test_changing_an_input_fails_and_names_it(field):
    document = honest_proof()
    TAMPERING[field](document)
    problems = proof.verify(proof.load(proof.dumps(document)))
    assert problems, field
    assert any(field in problem for problem in problems), problems


STEPS = {
    "opened_at": "2026-11-01T09:00:00+00:00",
    "closed_at": "2026-11-08T09:00:00+00:00",
    "public_value_at": "2026-11-08T20:00:00+00:00",
    "drawn_at": "2026-11-08T20:05:00+00:00",
}


def test_steps_in_their_order_verify():
    document = honest_proof()
    document["contest"].update(STEPS)
    assert proof.verify(proof.load(proof.dumps(document))) == []


def test_a_public_value_recorded_before_the_close_is_named():
    document = honest_proof()
    document["contest"].update(STEPS, public_value_at="2026-11-07T12:00:00+00:00")
    assert proof.verify(document) == [
        "contest.public_value_at: 2026-11-07T12:00:00+00:00 is before "
        "contest.closed_at 2026-11-08T09:00:00+00:00"
    ]


@pytest.mark.parametrize("value", ["yesterday", "2026-11-08T20:00:00", 5])
def test_an_unreadable_step_time_is_named(value):
    document = honest_proof()
    document["contest"].update(STEPS, drawn_at=value)
    problems = proof.verify(document)
    assert len(problems) == 1 and problems[0].startswith("contest.drawn_at: ")


def test_changing_a_list_entry_fails_on_the_list_hash():
    document = honest_proof("full")
    document["entrant_list"] = document["entrant_list"].replace("Анна", "Алла")
    problems = proof.verify(document)
    assert problems[0].startswith("list_hash: expected ")
    assert f"got {honest_proof('full')['list_hash']}" in problems[0]


def test_a_list_out_of_order_is_named():
    document = honest_proof("full")
    lines = document["entrant_list"].split("\n")[:-1]
    lines[0], lines[1] = lines[1], lines[0]
    document["entrant_list"] = "\n".join(lines) + "\n"
    document["list_hash"] = draw.list_hash(document["entrant_list"])
    assert "entrant_list: line 2 is out of order (lines must be sorted)" in proof.verify(document)


@pytest.mark.parametrize("rank", [1, 2])
def test_changing_a_winner_fails_and_names_the_winner(rank):
    document = honest_proof()
    lines = document["entrant_list"].split("\n")[:-1]
    given = document["winners"][rank - 1]
    other = next(n for n in range(1, len(lines) + 1) if n not in [w["line"] for w in document["winners"]])
    given.update(line=other, entrant=lines[other - 1])
    problems = proof.verify(document)
    assert len(problems) == 1
    expected_line = honest_proof()["winners"][rank - 1]["line"]
    assert problems[0] == (
        f"winner {rank}: expected line {expected_line} ({lines[expected_line - 1]}), "
        f"got line {other} ({lines[other - 1]})"
    )


def test_swapped_winners_and_a_missing_or_extra_winner_are_named():
    document = honest_proof()
    document["winners"].reverse()
    problems = proof.verify(document)
    assert [p.split(":")[0] for p in problems] == ["winner 1", "winner 2"]
    document = honest_proof()
    document["winners"].pop()
    assert "winner 2: expected" in "\n".join(proof.verify(document))
    document = honest_proof()
    document["winners"].append({"rank": 3, "line": 1, "entrant": "x"})
    assert any(p.startswith("winner 3: not drawn") for p in proof.verify(document))


def test_more_winners_than_entrants_cannot_be_drawn():
    document = honest_proof()
    document["winners_count"] = len(PEOPLE) + 1
    assert f"winners_count: {len(PEOPLE) + 1} cannot be drawn from {len(PEOPLE)} entrants" in proof.verify(
        document
    )


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda p: "not json", "not JSON"),
        (lambda p: [1, 2], "expected a JSON object"),
        (lambda p: {**p, "format": "other"}, "format: expected"),
        (lambda p: {**p, "version": 2}, "version: this verifier reads version 1"),
        (lambda p: {k: v for k, v in p.items() if k != "list_hash"}, "list_hash: missing"),
        (lambda p: {**p, "winners_count": "2"}, "winners_count: has the wrong type"),
        (lambda p: {**p, "server_seed": "zz"}, "server_seed: expected 64 lowercase hexadecimal digits"),
        (lambda p: {**p, "entrant_list": "a\nb"}, "entrant_list: the entrant list must end with a newline"),
        (lambda p: {**p, "winners": [{"rank": 1, "line": 1}]}, "winner 1: entrant: missing"),
    ],
)
def test_what_is_not_a_proof_is_refused_as_unreadable(change, message):
    document = change(honest_proof())
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(proof.ProofError, match=message):
        proof.load(text)


# The command


def run_verify(tmp_path, content: bytes | str):
    path = tmp_path / "proof.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return CliRunner().invoke(contests, ["verify", str(path)])


def test_verify_prints_ok(tmp_path):
    result = run_verify(tmp_path, proof.dumps(honest_proof()))
    assert (result.exit_code, result.output) == (0, "OK\n")


def test_verify_names_each_difference_and_exits_1(tmp_path):
    document = honest_proof()
    document["public_value"] = "04 11 17 26 38 43"
    document["winners"][0]["entrant"] = "forged"
    result = run_verify(tmp_path, proof.dumps(document))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("draw_seed: expected ") and "public_value" in lines[0]
    assert any(line.startswith("winner 1: expected ") for line in lines)
    assert "OK" not in lines


def test_verify_reads_stdin(tmp_path):
    result = CliRunner().invoke(contests, ["verify", "-"], input=proof.dumps(honest_proof()))
    assert (result.exit_code, result.output) == (0, "OK\n")


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", json.dumps({"format": "x"}).encode()])
def test_verify_exits_2_on_unreadable_input(tmp_path, content):
    result = run_verify(tmp_path, content)
    assert result.exit_code == 2
    assert "smmdesk contests verify:" in result.output


def test_verify_exits_2_on_a_missing_file(tmp_path):
    result = CliRunner().invoke(contests, ["verify", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "nope.json" in result.output


def test_a_proof_copy_is_not_changed_by_verification():
    document = honest_proof()
    before = copy.deepcopy(document)
    proof.verify(document)
    assert document == before
