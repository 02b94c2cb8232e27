"""pip-audit over the installed environment, read strictly.

pip-audit reports a package its vulnerability service does not answer for as "could not be audited" and
still exits 0. Where PyPI's per-release JSON API (/pypi/<name>/<version>/json, the default `pypi`
service) is out of reach, every package is skipped that way and the audit passes having checked nothing.
So this reads pip-audit's JSON and says how many packages were really audited:

    exit 1  a known vulnerability in an installed package (each is listed with the versions that fix it)
    exit 2  some packages (or all: no report) could not be audited; --allow-unaudited lists them, exits 0
    exit 0  every package audited, nothing found

Usage: python .ci/audit.py [--allow-unaudited]   (run from the repository root)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).parent / "pip-audit"
SHOWN = 5
# pip-audit asks once per package; a network that hangs must not hold CI for long.
TIMEOUT = 300


def main(argv: list[str]) -> int:
    # --local: the venv's own packages; --skip-editable: smmdesk itself is not on PyPI.
    command = [str(PIP_AUDIT), "--format", "json", "--progress-spinner", "off", "--local", "--skip-editable"]
    allow_unaudited = "--allow-unaudited" in argv
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
        report = json.loads(result.stdout)
    except (ValueError, subprocess.TimeoutExpired) as exc:
        # The service unreachable altogether, or hanging: nothing was audited.
        detail = (
            f"no answer within {TIMEOUT} s"
            if isinstance(exc, subprocess.TimeoutExpired)
            else (f"exit {result.returncode}: {result.stderr.strip()[-1000:]}")
        )
        print(f"audit: NOT AUDITED: pip-audit gave no report ({detail})")
        return 0 if allow_unaudited else 2
    code, lines = judge(report, allow_unaudited=allow_unaudited)
    for line in lines:
        print(f"audit: {line}")
    return code


def judge(report: dict, *, allow_unaudited: bool) -> tuple[int, list[str]]:
    """pip-audit's JSON report -> (exit code, lines to print)."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason") and "editable" not in d["skip_reason"]]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            lines.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']}"
                f"{f' ({aliases})' if aliases else ''}; fixed in {fixes}"
            )
    lines.append(
        f"{len(audited)} of {len(audited) + len(skipped)} installed packages audited, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if vulnerable:
        return 1, lines
    if skipped:
        more = f", {len(skipped) - SHOWN} more not shown" if len(skipped) > SHOWN else ""
        lines.append(f"NOT AUDITED: {len(skipped)} packages{more}:")
        lines += [f"  {d['name']}: {d['skip_reason']}" for d in skipped[:SHOWN]]
        if not audited:
            lines.append(
                "the vulnerability service answered for no package at all: PyPI's per-release JSON API "
                "(/pypi/<name>/<version>/json) is not reachable from here"
            )
        return (0 if allow_unaudited else 2), lines
    return 0, lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
