""".ci/audit.py: how pip-audit's JSON report becomes CI's verdict, silent skips included."""

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "ci_audit", Path(__file__).resolve().parent.parent / ".ci" / "audit.py"
)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
EDITABLE = {"name": "smmdesk", "skip_reason": "distribution marked as editable"}
UNREACHABLE = {
    "name": "httpx",
    "skip_reason": "Dependency not found on PyPI and could not be audited: httpx (0.28.1)",
}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [{"id": "PYSEC-2024-1", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"]}],
}


def test_a_known_vulnerability_fails_and_names_the_fix():
    code, lines = audit.judge({"dependencies": [CLEAN, VULNERABLE, EDITABLE]}, allow_unaudited=True)
    assert code == 1
    assert lines[0] == "jinja2 3.1.2: PYSEC-2024-1 (CVE-2024-22195); fixed in 3.1.3"
    assert lines[-1] == "2 of 2 installed packages audited, 1 with known vulnerabilities"


def test_everything_audited_and_clean_passes():
    assert audit.judge({"dependencies": [CLEAN, EDITABLE]}, allow_unaudited=False) == (
        0,
        ["1 of 1 installed packages audited, 0 with known vulnerabilities"],
    )


@pytest.mark.parametrize("allow, expected", [(False, 2), (True, 0)])
def test_packages_the_service_skipped_are_reported_not_passed_silently(allow, expected):
    code, lines = audit.judge({"dependencies": [UNREACHABLE, EDITABLE]}, allow_unaudited=allow)
    assert code == expected
    assert lines[0] == "0 of 1 installed packages audited, 0 with known vulnerabilities"
    assert lines[1] == "NOT AUDITED: 1 packages:"
    assert "answered for no package at all" in lines[-1]
