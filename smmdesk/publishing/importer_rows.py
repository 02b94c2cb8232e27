"""The checks of one row of a plan import (see importer.py): when, channels, text and media URL.

Each check adds RowErrors naming the row and the column, in words the person can act on, and keeps what
it could read, so one row can report every problem it has at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.channels.models import Channel
from smmdesk.lib import http
from smmdesk.lib.spreadsheet import unquote_cell
from smmdesk.publishing.validation import limits_for, text_length

MAX_URL = 500
# A date this far ahead is a typo (2062 for 2026), not a plan.
MAX_YEARS_AHEAD = 3
CHANNEL_SEPARATORS = re.compile(r"[;|]")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
TIME_PATTERN = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class RowError:
    row: int  # 1 is the header; 0 is the file as a whole
    column: str  # a column name, or "file"
    message: str


@dataclass
class PlanRow:
    row: int
    when: datetime | None = None  # aware, UTC
    channels: list[Channel] = field(default_factory=list)
    text: str = ""
    media_url: str = ""
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_date(value: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def parse_time(value: str) -> time | None:
    match = TIME_PATTERN.match(value.strip())
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def local_moment(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The aware moment of a wall-clock time in `zone`, or None when the clocks skip it (spring forward).

    A time the clocks pass twice (fall back) is the first of the two, as a person reading a clock
    before the change means it."""
    moment = datetime.combine(day, wall, tzinfo=zone).replace(fold=0)
    back = moment.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return moment.astimezone(ZoneInfo("UTC"))


def _read(row: PlanRow, column: str, raw: str, parse, missing: str, wrong: str):
    """The cell's value, or None with an error: `missing` when empty, `wrong` when it does not parse."""
    value = parse(raw) if raw else None
    if not raw:
        row.errors.append(RowError(row.row, column, missing))
    elif value is None:
        row.errors.append(RowError(row.row, column, wrong % {"value": raw}))
    return value


def check_when(row: PlanRow, cells: dict, zone: ZoneInfo, now: datetime) -> None:
    raw_date, raw_time = cells.get("date", "").strip(), cells.get("time", "").strip()
    day = _read(
        row,
        "date",
        raw_date,
        parse_date,
        _("The date is missing."),
        _("“%(value)s” is not a date: write 2026-03-14 or 14.03.2026."),
    )
    wall = _read(
        row,
        "time",
        raw_time,
        parse_time,
        _("The time is missing."),
        _("“%(value)s” is not a time: write 24-hour time such as 09:30 or 18:00."),
    )
    if day is None or wall is None:
        return
    moment = local_moment(day, wall, zone)
    if moment is None:
        row.errors.append(
            RowError(
                row.row,
                "time",
                _(
                    "%(time)s does not exist on %(date)s in %(zone)s: the clocks go forward. Pick another time."
                )
                % {"time": raw_time, "date": raw_date, "zone": zone.key},
            )
        )
        return
    local_today = timezone.localtime(now, zone).date()
    if moment <= now:
        column = "time" if day == local_today else "date"
        row.errors.append(
            RowError(
                row.row, column, _("%(date)s %(time)s is in the past.") % {"date": raw_date, "time": raw_time}
            )
        )
        return
    if day.year > local_today.year + MAX_YEARS_AHEAD:
        row.errors.append(
            RowError(
                row.row,
                "date",
                _("%(date)s is more than %(years)s years ahead: is the year right?")
                % {"date": raw_date, "years": MAX_YEARS_AHEAD},
            )
        )
        return
    row.when = moment


def check_channels(row: PlanRow, raw: str, channels: dict[str, Channel], known: list[str]) -> None:
    # The template writes formula-like names behind an apostrophe (safe_cell): they come back without it.
    names = [unquote_cell(name.strip()) for name in CHANNEL_SEPARATORS.split(raw) if name.strip()]
    if not names:
        row.errors.append(
            RowError(row.row, "channels", _("No channel is named: list channel names separated by ; or |."))
        )
        return
    for name in names:
        channel = channels.get(name.casefold())
        if channel is None:
            row.errors.append(
                RowError(
                    row.row,
                    "channels",
                    _("No channel that can publish is named “%(name)s”. Channels: %(known)s.")
                    % {"name": name, "known": ", ".join(known) or "—"},
                )
            )
        elif channel not in row.channels:
            row.channels.append(channel)


def check_text(row: PlanRow, text: str) -> None:
    if "\x00" in text:
        row.errors.append(
            RowError(row.row, "text", _("The text contains a character that is not allowed (NUL)."))
        )
        return
    row.text = text.strip()
    # Required even beside a media URL: the file is not attached on import, and a post needs one or
    # the other.
    if not row.text:
        row.errors.append(RowError(row.row, "text", _("The text is missing.")))
    for channel in row.channels:
        limit = limits_for(channel).max_text
        length = text_length(channel.kind, row.text)
        if length > limit:
            row.errors.append(
                RowError(
                    row.row,
                    "text",
                    _("The text has %(length)s characters; %(channel)s allows at most %(limit)s.")
                    % {"length": length, "channel": channel.name, "limit": limit},
                )
            )


def _sendable(url: str) -> bool:
    # The HTTP client's own parser: an address it refuses (0177.0.0.1 and other odd notations) could
    # never be fetched, whatever urlsplit makes of it.
    try:
        httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return True


def check_media(row: PlanRow, raw: str) -> None:
    # An import never attaches a file (see importer.py), so a network that refuses a post without a
    # picture could take none of these rows, not even as a draft: say so at the check, not half-way.
    for channel in row.channels:
        if limits_for(channel).media_required:
            row.errors.append(
                RowError(
                    row.row,
                    "media_url",
                    _(
                        "%(channel)s needs a picture, which an import cannot attach: leave it out of this "
                        "row and write its post in the editor."
                    )
                    % {"channel": channel.name},
                )
            )
    url = raw.strip()
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("https", "http"):
        row.errors.append(
            RowError(row.row, "media_url", _("The media URL must start with https:// or http://.")),
        )
        return
    if not parts.hostname or len(url) > MAX_URL or any(ch.isspace() for ch in url) or not _sendable(url):
        row.errors.append(
            RowError(
                row.row,
                "media_url",
                _("The media URL is not a valid web address (at most %(max)s characters).")
                % {"max": MAX_URL},
            ),
        )
        return
    if http.refused_without_lookup(url):
        # Never fetched during the import, but a link to the server's own network could never become a
        # picture in a post either: say so now rather than keep it.
        row.errors.append(
            RowError(
                row.row,
                "media_url",
                _("The media URL points to a local or private network address; use a public web address."),
            ),
        )
        return
    row.media_url = url
    for channel in row.channels:
        if limits_for(channel).max_media < 1:
            row.errors.append(
                RowError(
                    row.row,
                    "media_url",
                    _("%(channel)s does not take images or video.") % {"channel": channel.name},
                )
            )
