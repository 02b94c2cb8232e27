"""Upkeep of the box itself. Thin: the work and its idempotency live in lib/scheduled_backup."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from smmdesk.lib import scheduled_backup


# Hourly, not once at the backup hour: a worker that was down then still makes the day's archive later.
@db_periodic_task(crontab(minute="29"))
def scheduled_backup_task() -> None:
    scheduled_backup.run()
