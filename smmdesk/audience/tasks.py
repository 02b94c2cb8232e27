"""Huey tasks of the audience app's order import. Thin: imports.execute claims the job itself, so a task
delivered twice imports once (the second run finds the job no longer QUEUED and returns it).

The worker imports each app's `tasks` module only: the follower and weekly report tasks, kept in
tasks_reports.py, are registered by importing it here."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.audience import imports, tasks_reports  # noqa: F401


@db_task()
def import_orders_task(job_id: int) -> None:
    imports.execute(job_id)


# Every minute: an import whose worker died (its transaction with it) is queued again.
@db_periodic_task(crontab(minute="*"))
def resume_interrupted_imports() -> None:
    imports.resume_interrupted()


# Hourly: uploads left at the mapping step keep clients' data on disk; after a day they go.
@db_periodic_task(crontab(minute="41"))
def discard_abandoned_imports() -> None:
    imports.discard_abandoned()
