"""Post metrics: reach, likes, comments and shares of each published variant, read from its network.

Every hour each channel with variants published in the last WINDOW is asked for their numbers. A reading
is stored per (variant, name, hour): a second sync in the same hour overwrites that hour's value instead
of adding a row, so the task can run twice. Networks name their counters differently; they are stored
under one vocabulary (NAMES), so reports compare channels.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from smmdesk.channels import health
from smmdesk.channels.base import AdapterError, Capability, ExternalRef
from smmdesk.channels.models import Channel
from smmdesk.publishing.models import Variant, VariantMetric

logger = logging.getLogger(__name__)

WINDOW = timedelta(days=30)
CHUNK = 100
# The networks' counter names in ours: views and impressions are reach, reposts are shares.
NAMES = {"views": "reach", "impressions": "reach", "reach": "reach", "reposts": "shares", "shares": "shares"}
SKIP_STATUSES = (Channel.Status.NEEDS_RECONNECT, Channel.Status.DISABLED)


def bucket(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _published_since(now: datetime):
    return Variant.objects.filter(state=Variant.State.PUBLISHED, published_at__gte=now - WINDOW).exclude(
        external_id=""
    )


def channels_to_sync(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    ids = _published_since(now).values_list("channel_id", flat=True).distinct()
    return list(
        Channel.objects.filter(pk__in=ids).exclude(status__in=SKIP_STATUSES).values_list("pk", flat=True)
    )


def sync_channel(channel_id: int, now: datetime | None = None) -> int:
    """Read the channel's recent posts' numbers; returns how many readings were stored."""
    now = now or timezone.now()
    channel = Channel.objects.filter(pk=channel_id).exclude(status__in=SKIP_STATUSES).first()
    if (
        channel is None
        or not channel.known_kind
        or Capability.METRICS not in channel.adapter_class.capabilities
    ):
        return 0
    variants = dict(
        _published_since(now)
        .filter(channel=channel)
        .values_list("external_id", "pk")
        .order_by("published_at")
    )
    urls = dict(
        _published_since(now).filter(channel=channel).filter(~Q(url="")).values_list("external_id", "url")
    )
    refs = [ExternalRef(external_id, urls.get(external_id, "")) for external_id in variants]
    adapter = channel.adapter()
    stored = 0
    for start in range(0, len(refs), CHUNK):
        try:
            points = adapter.metrics(refs[start : start + CHUNK])
        except AdapterError as exc:
            # A revoked token marks the channel for reconnecting (and tells the owners); the rest waits
            # for the next hour.
            health.record_failure(channel, exc)
            break
        readings = {}
        for point in points:
            variant_id = variants.get(point.external_id)
            if variant_id is None:
                continue
            name = NAMES.get(point.name, point.name)[:40]
            readings[(variant_id, name)] = (float(point.value), bucket(point.measured_at or now))
        rows = [
            VariantMetric(variant_id=variant_id, name=name, value=value, measured_at=measured_at)
            for (variant_id, name), (value, measured_at) in readings.items()
        ]
        VariantMetric.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["variant", "name", "measured_at"],
            update_fields=["value"],
        )
        stored += len(rows)
    return stored


def latest(variant: Variant) -> dict[str, float]:
    """The variant's newest reading of each metric."""
    values: dict[str, float] = {}
    for name, value in variant.metrics.order_by("name", "-measured_at").values_list("name", "value"):
        values.setdefault(name, value)
    return values
