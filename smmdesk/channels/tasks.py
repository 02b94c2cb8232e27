"""Background checks of channel credentials. Thin: the work and its idempotency live in actions."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.channels import actions


@db_task()
def check_channel_task(channel_id: int) -> None:
    actions.check_channel(channel_id)


# Every six hours, so an expired or revoked token is noticed within hours instead of failing silently at
# the next post. Each channel is its own task: a slow network never holds up the others.
@db_periodic_task(crontab(minute="17", hour="*/6"))
def recheck_channels() -> None:
    for channel_id in actions.channels_to_recheck():
        check_channel_task(channel_id)
