"""`smmdesk trends ...`: the product's own burst detector on any count series.

No database and no Django: `smmdesk trends detect --csv FILE` reads a CSV of timestamps and counts and
prints one JSON line per alert. Whatever is wrong with the input (a missing column, a row that does not
parse, too few rows, rows out of order) ends the command with one line on stderr and exit status 2,
before anything is printed on stdout.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime

import click

EXIT_USAGE = 2
SCORE_DIGITS = 4


class InputError(Exception):
    """A one-line message about the input file."""


def parse_timestamp(text: str) -> datetime:
    """ISO 8601, or "YYYY-MM-DD HH:MM:SS[.ffffff]"; without an offset the time is UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def parse_count(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def _open(path: str):
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed by read_series
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None


@dataclass
class Series:
    """Per data row: the timestamp as written, parsed, the count, and the file's line number."""

    name: str
    texts: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def where(self, index: int) -> str:
        """Data rows are numbered from 1 after the header; the line number counts the header."""
        return f"{self.name}: row {index + 1} (line {self.lines[index]})"


def read_series(path: str, time_col: str, value_col: str) -> Series:
    series = Series("stdin" if path == "-" else path)
    handle = _open(path)
    try:
        reader = csv.reader(handle)
        header = [column.strip().lstrip("\ufeff") for column in next(reader, [])]
        if not header:
            raise InputError(
                f"{series.name}: empty file (a header row naming {time_col!r} and {value_col!r} expected)"
            )
        for column in (time_col, value_col):
            if column not in header:
                raise InputError(f"{series.name}: no column {column!r} (columns: {', '.join(header)})")
        time_at, value_at = header.index(time_col), header.index(value_col)
        for row in reader:
            if any(cell.strip() for cell in row):
                _add_row(series, row, reader.line_num, (time_col, time_at), (value_col, value_at))
    except UnicodeDecodeError:
        raise InputError(f"{series.name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{series.name}: not a CSV file ({exc})") from None
    finally:
        if path != "-":
            handle.close()
    if len(series.texts) < 2:
        raise InputError(f"{series.name}: {len(series.texts)} data row(s); at least 2 are needed")
    return series


def _add_row(series: Series, row: list[str], line: int, time_column: tuple, value_column: tuple) -> None:
    where = f"{series.name}: row {len(series.texts) + 1} (line {line})"
    cells = []
    for (name, index), parse, expected in (
        (time_column, parse_timestamp, "a timestamp (ISO 8601 or YYYY-MM-DD HH:MM:SS)"),
        (value_column, parse_count, "a count (a number, 0 or more)"),
    ):
        if index >= len(row):
            raise InputError(f"{where}: no {name!r} column")
        try:
            cells.append((row[index], parse(row[index])))
        except ValueError:
            raise InputError(f"{where}, column {name!r}: {row[index]!r} is not {expected}") from None
    (text, moment), (_, count) = cells
    series.texts.append(text)
    series.times.append(moment)
    series.values.append(count)
    series.lines.append(line)


@click.group()
def trends():
    """Trend detection."""


@trends.command("detect")
@click.option(
    "--csv", "csv_path", required=True, metavar="FILE", help="A CSV with a header row; - for stdin."
)
@click.option("--time-col", default="timestamp", show_default=True, help="The timestamp column.")
@click.option("--value-col", default="value", show_default=True, help="The count column.")
def detect_command(csv_path, time_col, value_col):
    """Print one JSON line per burst the detector finds (its default settings).

    Rows must be sorted by time, one per bucket (any bucket size; missing buckets are fine). Timestamps
    are ISO 8601 or YYYY-MM-DD HH:MM:SS, UTC unless they carry an offset.
    """
    from smmdesk.listening import detector

    try:
        series = read_series(csv_path, time_col, value_col)
        alerts = detector.detect(series.times, series.values)
    except InputError as exc:
        _fail(str(exc))
    except detector.OrderError as exc:
        _fail(
            f"{series.where(exc.index)}, column {time_col!r}: {series.texts[exc.index]!r} is not after "
            f"the row before ({series.texts[exc.index - 1]!r}); sort the rows by time, one row per bucket"
        )
    for alert in alerts:
        line = {"timestamp": series.texts[alert.index], "score": round(alert.score, SCORE_DIGITS)}
        click.echo(json.dumps(line))


def _fail(message: str):
    click.echo(f"smmdesk trends: error: {message}", err=True)
    sys.exit(EXIT_USAGE)
