"""Huey tasks of contests. Thin: the work and its idempotency live in actions (each step re-reads the
contest and acts only if it is still open, so a task that runs twice or late does nothing more)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.contests import actions


@db_task()
def tend_contest_task(contest_id: int) -> None:
    actions.tend(contest_id)


# Every ten minutes: each open contest collects its entries, or closes once its time is up. One task per
# contest, so a slow network never holds up the others.
@db_periodic_task(crontab(minute="*/10"))
def tend_contests() -> None:
    for contest_id in actions.open_contest_ids():
        tend_contest_task(contest_id)
