"""Background work for ads: the daily check of each campaign's cost per order against its target, and
the hourly removal of uploaded statistics reports nobody imported."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="9", minute="17"))
def cpa_alerts_task() -> None:
    """Notify owners of campaigns over their target CPA. Idempotent: a notice's key is per campaign and
    ISO week (inbox.notify stores a key once per member), so a rerun the same day or week adds nothing."""
    from smmdesk.accounts.models import Workspace
    from smmdesk.ads.effectiveness import notify_cpa_alerts
    from smmdesk.ads.models import Campaign

    ids = Campaign.objects.filter(target_cpa__isnull=False).values_list("workspace", flat=True).distinct()
    for workspace in Workspace.objects.filter(pk__in=ids).order_by("pk"):
        notify_cpa_alerts(workspace)


@db_periodic_task(crontab(minute="47"))
def discard_abandoned_stats_uploads() -> None:
    """Delete reports uploaded more than a day ago and never imported. Idempotent: each row is taken with
    a conditional delete, so a second run finds nothing to do."""
    from smmdesk.ads.stats_upload import discard_abandoned

    discard_abandoned()
