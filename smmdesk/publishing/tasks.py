"""Huey tasks of publishing. Thin: the work, its claims and its idempotency live in publisher, scheduling
and metrics. Every task may run twice or late; each re-reads its rows and claims before acting."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.publishing import metrics, publisher, scheduling


@db_task()
def publish_variant_task(variant_id: int) -> None:
    publisher.publish_variant(variant_id)


# Every minute: what is due and has no task (a worker died with it), claims of dead workers, and held
# variants whose channel works again.
@db_periodic_task(crontab(minute="*"))
def sweep_publishing() -> None:
    scheduling.sweep()


@db_task()
def sync_channel_metrics_task(channel_id: int) -> None:
    metrics.sync_channel(channel_id)


# Hourly; each channel is its own task, so a slow network never holds up the others.
@db_periodic_task(crontab(minute="23"))
def sync_metrics() -> None:
    for channel_id in metrics.channels_to_sync():
        sync_channel_metrics_task(channel_id)
