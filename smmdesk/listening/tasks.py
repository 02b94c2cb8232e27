"""Huey tasks of listening. Thin: claims, idempotency and the work live in sources, intake, alerts and
trends. Every task may run twice or late; each re-reads its rows and claims before calling a network."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.listening import sources, trends


# Every minute: each due source is claimed here and polled in its own task, so a slow network never
# holds up another source.
@db_periodic_task(crontab(minute="*"))
def poll_sources() -> None:
    for source_id in sources.claim_due():
        poll_source_task(source_id)


@db_task()
def poll_source_task(source_id: int) -> None:
    sources.poll_source(source_id)


@db_task(retries=2, retry_delay=30)
def take_in_own_task(source_id: int, events: list) -> None:
    sources.take_in_own(source_id, events)


@db_periodic_task(crontab(minute="*/10"))
def detect_trends() -> None:
    for workspace_id in trends.workspaces_to_scan():
        detect_trends_task(workspace_id)


@db_task()
def detect_trends_task(workspace_id: int) -> None:
    trends.detect(workspace_id)
