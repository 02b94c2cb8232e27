"""Bulk plan import: a CSV of posts (date, time, channels, text, media_url), checked row by row.

Two steps, both reading the same file:
1. Preview (read_plan): every row is checked and every error is listed with its row and column; nothing is
   written. The preview ends with the file's fingerprint (Plan.digest).
2. Import (import_plan): only with that fingerprint (`confirm`), so what is created is exactly what the
   person saw. The rule is all-or-nothing by default: a file with any error creates nothing. The person may
   instead confirm "skip the rows with errors" (skip_bad), and then every good row is created and the bad
   ones are left out. Either way the rows are created in one transaction: if one fails on the way (a
   channel deleted since the preview), none is kept, and the error names that row.

Rows become drafts with their planned time, or scheduled posts when the workspace does not require
approval and the importer may schedule. A row with a media URL always becomes a draft: the file is not
downloaded (a spreadsheet's URL may point anywhere, and fetching on import would let a CSV probe the
private network); the URL is kept in the post's history for the person to attach the file from the
media library before scheduling.

Row numbers are the spreadsheet's: the header is row 1, the first post row 2.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.lib.spreadsheet import safe_cell
from smmdesk.publishing import actions, workflow
from smmdesk.publishing.besttime import publishing_channels
from smmdesk.publishing.importer_rows import (
    PlanRow,
    RowError,
    check_channels,
    check_media,
    check_text,
    check_when,
)
from smmdesk.publishing.models import PostEvent, PublishingSettings
from smmdesk.publishing.scheduling import workspace_zone

MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000
COLUMNS = ("date", "time", "channels", "text", "media_url")
REQUIRED = ("date", "time", "channels", "text")
# Header names people write in the languages of the product; the template uses the English ones.
ALIASES = {
    "дата": "date",
    "время": "time",
    "каналы": "channels",
    "канал": "channels",
    "текст": "text",
    "медиа": "media_url",
    "dátum": "date",
    "čas": "time",
    "kanály": "channels",
    "médiá": "media_url",
    "channel": "channels",
    "media": "media_url",
}


@dataclass
class Plan:
    digest: str
    zone: ZoneInfo
    rows: list[PlanRow] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)

    @property
    def good(self) -> list[PlanRow]:
        return [row for row in self.rows if row.ok]

    @property
    def bad(self) -> list[PlanRow]:
        return [row for row in self.rows if not row.ok]

    @property
    def errors(self) -> list[RowError]:
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]


# --- reading the file -----------------------------------------------------------------------------------


def decode(content: bytes | str) -> str:
    """UTF-8 (with or without Excel's BOM), else Windows-1251, which Russian Excel still writes."""
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1251", errors="replace")


def fingerprint(text: str) -> str:
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:32]


def _header_name(cell: str) -> str:
    name = cell.strip().lower().replace(" ", "_")
    return ALIASES.get(name, name)


def _delimiter(first_line: str) -> str:
    """The separator that splits the header into the most known column names: Excel writes ";" where the
    decimal comma is the custom (Russia, Slovakia), "," elsewhere."""

    def known(delimiter):
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(1 for cell in cells if _header_name(cell) in COLUMNS)

    return max((",", ";", "\t"), key=known)


def _records(text: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(the header's row number, its column names, the numbered rows below it). A row is a record, as
    a spreadsheet shows it, even when a quoted text spans several lines of the file."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first)))
    numbered = [(index + 1, cells) for index, cells in enumerate(records)]
    # Leading blank lines are not the header.
    while numbered and not any(cell.strip() for cell in numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        return 1, [], []
    header_row, header = numbered[0]
    return header_row, [_header_name(cell) for cell in header], numbered[1:]


# --- the whole file -------------------------------------------------------------------------------------


def read_plan(workspace: Workspace, content: bytes | str, now: datetime | None = None) -> Plan:
    """Check the whole file; write nothing. Every row's errors, or its post as it would be created."""
    now = now or timezone.now()
    zone = workspace_zone(workspace)
    if isinstance(content, bytes) and len(content) > MAX_BYTES:
        return Plan("", zone, file_errors=[RowError(0, "file", _("The file is larger than 1 MB."))])
    text = decode(content)
    plan = Plan(fingerprint(text), zone)
    try:
        header_row, header, records = _records(text)
    except csv.Error as exc:
        plan.file_errors.append(
            RowError(0, "file", _("The file is not a CSV table: %(error)s") % {"error": exc})
        )
        return plan
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name and name not in COLUMNS]
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if not header or missing:
        plan.file_errors.append(
            RowError(
                header_row,
                "file",
                _("The header must name the columns %(columns)s; missing: %(missing)s.")
                % {"columns": ", ".join(COLUMNS), "missing": ", ".join(missing or REQUIRED)},
            )
        )
    for name in twice:
        plan.file_errors.append(
            RowError(header_row, name, _("The column “%(name)s” appears twice.") % {"name": name})
        )
    for name in unknown:
        plan.file_errors.append(
            RowError(
                header_row,
                name,
                _("Unknown column “%(name)s”; the columns are %(columns)s.")
                % {"name": name, "columns": ", ".join(COLUMNS)},
            )
        )
    if plan.file_errors:
        return plan
    records = [(number, cells) for number, cells in records if any(cell.strip() for cell in cells)]
    if not records:
        plan.file_errors.append(RowError(0, "file", _("The file has no posts under its header.")))
        return plan
    if len(records) > MAX_ROWS:
        plan.file_errors.append(
            RowError(0, "file", _("The file has more than %(max)s posts; split it.") % {"max": MAX_ROWS})
        )
        return plan
    usable = publishing_channels(workspace)
    channels = {channel.name.strip().casefold(): channel for channel in usable}
    known = sorted(channel.name for channel in usable)
    for number, cells in records:
        row = PlanRow(number)
        if len(cells) > len(header):
            row.errors.append(
                RowError(number, "file", _("The row has more cells than the header has columns."))
            )
        values = dict(zip(header, cells, strict=False))
        check_when(row, values, zone, now)
        check_channels(row, values.get("channels", ""), channels, known)
        check_media(row, values.get("media_url", ""))
        check_text(row, values.get("text", ""))
        plan.rows.append(row)
    return plan


# --- importing ------------------------------------------------------------------------------------------


class PlanRefused(Exception):
    """Nothing was imported; `errors` says why, by row and column."""

    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].message if errors else "refused")
        self.errors = errors


@dataclass
class Imported:
    posts: list = field(default_factory=list)
    scheduled: int = 0
    drafts: int = 0
    skipped: list[int] = field(default_factory=list)  # the rows left out (skip_bad)


# What the use cases call their inputs, in the file's columns.
def _column(field_name: str) -> str:
    last = field_name.split(".")[-1]
    return {
        "scheduled_at": "time",
        "text": "text",
        "channel": "channels",
        "variants": "channels",
        "media": "media_url",
    }.get(last, "file")


def already_imported(workspace: Workspace, digest: str) -> bool:
    return PostEvent.objects.filter(
        post__workspace=workspace, action="created", detail__import_file=digest
    ).exists()


def import_plan(
    membership: Membership,
    content: bytes | str,
    *,
    confirm: str,
    skip_bad: bool = False,
    as_drafts: bool = False,
    now: datetime | None = None,
) -> Imported:
    """Create the previewed file's posts, all in one transaction; raises PlanRefused with nothing created.

    `confirm` must be the preview's digest: the file is checked again here and must be the one that was
    previewed. With errors in it, nothing is created unless `skip_bad` (the person chose to leave the
    bad rows out). Each row becomes a scheduled post when its importer may schedule it (approval off, or
    an approver, whose scheduling approves: workflow.can_schedule) and it has no media URL, else a draft
    with its planned time; `as_drafts` makes every row a draft."""
    workflow.require(workflow.may(membership, "publishing.draft"), _("Your role may not write posts."))
    workspace = membership.workspace
    plan = read_plan(workspace, content, now)
    if not confirm or confirm != plan.digest:
        raise PlanRefused(
            [
                RowError(
                    0, "file", _("This is not the file that was previewed: preview it again, then import.")
                )
            ]
        )
    if plan.file_errors:
        raise PlanRefused(plan.file_errors)
    if plan.bad and not skip_bad:
        raise PlanRefused(plan.errors)
    if not plan.good:
        raise PlanRefused([RowError(0, "file", _("No row of the file can be imported."))])
    done = Imported(skipped=[row.row for row in plan.bad])
    with transaction.atomic():
        settings = actions.settings_for(workspace)
        # One import per workspace at a time: a double click must not create the plan twice.
        PublishingSettings.objects.select_for_update().filter(pk=settings.pk).first()
        if already_imported(workspace, plan.digest):
            raise PlanRefused(
                [
                    RowError(
                        0, "file", _("This file was imported already. Change it to import its posts again.")
                    )
                ]
            )
        for row in plan.good:
            _import_row(membership, row, plan.digest, settings.approval_required, as_drafts, done)
    return done


def _import_row(
    membership, row: PlanRow, digest: str, approval_required: bool, as_drafts: bool, done: Imported
):
    data = {
        "scheduled_at": row.when,
        "variants": [{"channel": channel.pk, "text": row.text} for channel in row.channels],
    }
    try:
        post = actions.create_post(membership, data)
        detail = {"source": "import", "import_file": digest, "row": row.row}
        if row.media_url:
            detail["media_url"] = row.media_url
        PostEvent.objects.filter(post=post, action="created").update(detail=detail)
        if not as_drafts and not row.media_url and workflow.can_schedule(membership, post, approval_required):
            actions.schedule(membership, post, row.when)
            done.scheduled += 1
        else:
            done.drafts += 1
    except workflow.InvalidInput as refused:
        raise PlanRefused(
            [RowError(row.row, _column(name), str(message)) for name, message in refused.field_errors()]
        )
    except workflow.PublishingError as refused:
        raise PlanRefused([RowError(row.row, "file", refused.message)])
    done.posts.append(post)


# --- the template ---------------------------------------------------------------------------------------


def template_csv(workspace: Workspace, now: datetime | None = None) -> str:
    """A CSV to fill in: the header and two example rows naming the workspace's own channels.

    Starts with a BOM so Excel opens it as UTF-8 (Cyrillic intact)."""
    now = now or timezone.now()
    zone = workspace_zone(workspace)
    names = sorted(channel.name for channel in publishing_channels(workspace))[:2] or ["VK", "Telegram"]
    tomorrow = timezone.localtime(now, zone).date() + timedelta(days=1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    # Channel names are the workspace's own text: a name like "=HYPERLINK(...)" must not run.
    writer.writerow(
        [tomorrow.isoformat(), "10:00", safe_cell("; ".join(names)), _("Text of the first post"), ""]
    )
    writer.writerow(
        [
            (tomorrow + timedelta(days=2)).isoformat(),
            "18:30",
            safe_cell(names[0]),
            _("Text of the second post, with a picture"),
            "https://example.com/picture.jpg",
        ]
    )
    return "\ufeff" + out.getvalue()
