"""Keeps SQLite's table of live changes short (inbox/live.py). PostgreSQL announces changes with NOTIFY
and keeps no such table."""

from __future__ import annotations

from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

# Far more than a web process reads in one go (live.READ_AT_MOST), so one that fell behind for a moment
# still finds its rows.
KEEP = 10_000


def prune_live_changes(keep: int = KEEP) -> int:
    """Delete all but the newest `keep` rows; how many went. Running it twice changes nothing more."""
    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM inbox_livechange WHERE id <= (SELECT coalesce(max(id), 0) FROM inbox_livechange) - %s",
            [keep],
        )
        return cursor.rowcount


@db_periodic_task(crontab(minute="*"))
def prune_live_changes_task():
    prune_live_changes()
