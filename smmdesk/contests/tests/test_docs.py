"""docs/contests.md's by-hand check (hashlib and hmac only) agrees with the product: it accepts an honest
proof and rejects a tampered one."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from smmdesk.contests import proof
from smmdesk.contests.tests.test_proof import honest_proof

DOC = Path(__file__).resolve().parents[3] / "docs" / "contests.md"


def snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1, "docs/contests.md should carry exactly one Python snippet"
    return blocks[0]


def run_snippet(tmp_path, document: dict) -> subprocess.CompletedProcess:
    script, path = tmp_path / "check.py", tmp_path / "proof.json"
    script.write_text(snippet(), encoding="utf-8")
    path.write_text(proof.dumps(document), encoding="utf-8")
    # -I: isolated, so the snippet runs on the standard library alone, as a reader's machine would.
    return subprocess.run(
        [sys.executable, "-I", str(script), str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("mode,winners", [("full", 1), ("initials", 3), ("hashed", 5)])
def test_the_snippet_accepts_an_honest_proof(tmp_path, mode, winners):
    document = honest_proof(mode, winners=winners)
    result = run_snippet(tmp_path, document)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    assert printed[-1] == "OK"
    assert [line.split(" ", 2)[1] for line in printed[:-1]] == [str(w["line"]) for w in document["winners"]]


@pytest.mark.parametrize(
    "field,change,words",
    [
        ("server_seed", lambda p: p.update(server_seed="0" * 64), "commitment"),
        (
            "entrant_list",
            lambda p: p.update(entrant_list=p["entrant_list"].replace("О.П.", "О.Р.")),
            "list hash",
        ),
        ("public_value", lambda p: p.update(public_value="1"), "draw seed"),
        ("winners", lambda p: p["winners"].reverse(), "winner 1 differs"),
    ],
)
def test_the_snippet_rejects_a_tampered_proof(tmp_path, field, change, words):
    document = honest_proof("initials", winners=2)
    change(document)
    result = run_snippet(tmp_path, document)
    assert result.returncode != 0 and words in result.stderr, (field, result.stderr)
