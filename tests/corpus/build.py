"""Write the hostile corpus out as files: `python -m tests.corpus.build <folder>`.

One sub-folder per importer (its CSV and XLSX cases), plus json/ (broken bodies), feeds/ (hostile XML)
and strings.json (the text values). About 400 files, 30 MB on disk (the XLSX files of 5,000 parts weigh most); each zip bomb unpacks to 64 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.corpus import bodies, strings
from tests.corpus.templates import TEMPLATES


def write(folder: Path) -> int:
    count = 0
    groups = {name: t.csv_cases() + t.xlsx_cases() for name, t in TEMPLATES.items()}
    groups["json"] = bodies.broken_json()
    groups["feeds"] = bodies.feed_cases()
    for group, cases in groups.items():
        target = folder / group
        target.mkdir(parents=True, exist_ok=True)
        for case in cases:
            (target / case.filename).write_bytes(case.data)
            count += 1
    values = {"texts": strings.TEXTS, "formulas": strings.FORMULAS, "numbers": strings.NUMBERS}
    (folder / "strings.json").write_bytes(bodies.json_bytes(values))
    return count + 1


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.corpus.build <folder>", file=sys.stderr)
        return 2
    count = write(Path(argv[0]))
    print(f"wrote {count} files to {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
