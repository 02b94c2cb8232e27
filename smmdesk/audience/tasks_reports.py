"""Audience tasks besides the import: the daily follower count and the weekly report to owners.

Thin: the work and its idempotency live in followers.py and weekly.py. Every channel and every
workspace is its own task, so a slow network or one failing report never holds up the others.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.audience import followers, weekly


@db_task()
def record_followers_task(channel_id: int) -> None:
    followers.record_channel(channel_id)


# Once a day. The reading belongs to each workspace's own day, so any hour does; early morning UTC is
# daytime in Russia and Slovakia alike, when the networks answer quickly.
@db_periodic_task(crontab(minute="41", hour="4"))
def record_followers_daily() -> None:
    for channel_id in followers.channels_to_record():
        record_followers_task(channel_id)


@db_task()
def send_weekly_report_task(workspace_id: int, week_start: str) -> None:
    weekly.send_for(workspace_id, week_start)


# Hourly: a workspace gets last week's report once its own clock says Monday 08:00 or later.
@db_periodic_task(crontab(minute="7"))
def send_weekly_reports() -> None:
    for workspace_id, week_start in weekly.due():
        send_weekly_report_task(workspace_id, week_start.isoformat())
