"""The daily backup a worker makes by itself when SMMDESK_BACKUP_DIR is set, and the retention that keeps
the folder from growing without end.

One archive a UTC day, named smmdesk-YYYY-MM-DD.tar.gz. The periodic task runs every hour: once the day's
backup hour has come it makes that day's archive if the folder does not hold it yet, so running twice in a
day makes one archive, and a worker that was down at the hour catches up at its next run. Two runs at the
same moment still leave one complete file: create_backup writes under a temporary name and renames.

Retention keeps the newest KEEP_DAILY archives, and the newest archive of each of the KEEP_WEEKLY most
recent ISO weeks that have one; every other archive of this naming is deleted. Other files in the folder
are never touched.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from smmdesk.lib.backup import BackupError, create_backup

logger = logging.getLogger(__name__)

ARCHIVE = re.compile(r"^smmdesk-(\d{4}-\d{2}-\d{2})\.tar\.gz$")


def archive_name(day: dt.date) -> str:
    return f"smmdesk-{day.isoformat()}.tar.gz"


def run(now: dt.datetime | None = None) -> Path | None:
    """Make today's archive if it is due and missing, then apply retention; the new archive, or None."""
    config = settings.SMMDESK_BACKUP
    folder = config["DIR"]
    if folder is None:
        return None
    now = (now or timezone.now()).astimezone(dt.UTC)
    if now.hour < config["HOUR"]:
        return None
    # 0700: every archive holds the encryption keys.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / archive_name(now.date())
    made = None
    if not path.exists():
        try:
            create_backup(path)
        except (BackupError, OSError) as exc:
            # The archive stays missing, so the next hourly run tries again.
            logger.error("scheduled backup to %s failed: %s", path, exc)
            return None
        made = path
        logger.info("scheduled backup written to %s", path)
    for old in prune(folder, keep_daily=config["KEEP_DAILY"], keep_weekly=config["KEEP_WEEKLY"]):
        logger.info("scheduled backup %s removed (retention)", old)
    return made


def archives(folder: Path) -> list[tuple[dt.date, Path]]:
    """The folder's archives of this naming, newest first."""
    found = []
    for path in folder.iterdir():
        match = ARCHIVE.match(path.name)
        if match and path.is_file():
            try:
                found.append((dt.date.fromisoformat(match.group(1)), path))
            except ValueError:
                continue  # smmdesk-2026-02-30.tar.gz: not one of ours
    return sorted(found, reverse=True)


def prune(folder: Path, *, keep_daily: int, keep_weekly: int) -> list[Path]:
    """Delete the archives retention does not keep; return them."""
    found = archives(folder)
    keep = {path for _day, path in found[:keep_daily]}
    weeks: list[tuple[int, int]] = []
    for day, path in found:
        week = day.isocalendar()[:2]
        if week not in weeks:
            weeks.append(week)
            if len(weeks) <= keep_weekly:
                keep.add(path)
    removed = []
    for _day, path in found:
        if path not in keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
