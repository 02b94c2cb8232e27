"""What a failed network call means for its channel, decided in one place for every adapter and task.

- Credentials revoked or expired (AdapterError.reconnect): the channel goes to *needs reconnect* at once
  and its owners are told at once (a notice in the app and by e-mail), once per breakage, not at every
  failed call. Polling, replies and publishing stop for it until someone reconnects it.
- Rate limited (retry_after): the caller retries after the time the network stated.
- Transient (neither permanent nor reconnect): the caller retries with backoff.
- Permanent: the call is given up; the error is kept on the row it concerns.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.channels.base import AdapterError
from smmdesk.channels.models import Channel

logger = logging.getLogger(__name__)

ERROR_MAX = 2000


def verdict(exc: AdapterError) -> str:
    """reconnect, rate_limited, transient or permanent."""
    if exc.reconnect:
        return "reconnect"
    if exc.retry_after is not None:
        return "rate_limited"
    return "permanent" if exc.permanent else "transient"


def _reason(channel: Channel, exc: AdapterError) -> str:
    from smmdesk.channels.actions import scrub

    try:
        secrets = channel.secret_values()
    except ValueError:
        secrets = {}
    return scrub(exc.message or "", secrets)[:ERROR_MAX]


def record_failure(channel: Channel, exc: AdapterError) -> str:
    """Note a failed call on the channel; returns its verdict. Safe to call from any task, any number of
    times: the status changes, and the owners hear of it, only on the transition."""
    kind = verdict(exc)
    if kind != "reconnect":
        logger.warning("channel %s: %s failure: %s", channel.pk, kind, _reason(channel, exc))
        return kind
    reason = _reason(channel, exc)
    changed = (
        Channel.objects.filter(pk=channel.pk)
        .exclude(status__in=[Channel.Status.DISABLED, Channel.Status.NEEDS_RECONNECT])
        .update(status=Channel.Status.NEEDS_RECONNECT, last_error=reason, last_checked_at=timezone.now())
    )
    if changed:
        channel.status = Channel.Status.NEEDS_RECONNECT
        channel.last_error = reason
        transaction.on_commit(lambda: notify_owners(channel.pk), robust=True)
    return kind


def notify_owners(channel_id: int) -> None:
    """Tell the workspace's owners that a channel needs reconnecting (in the app and by e-mail)."""
    from smmdesk.accounts.models import Membership
    from smmdesk.accounts.roles import Role
    from smmdesk.inbox.notify import notify

    channel = Channel.objects.select_related("workspace").filter(pk=channel_id).first()
    if channel is None or channel.status != Channel.Status.NEEDS_RECONNECT:
        return
    owners = Membership.objects.filter(workspace=channel.workspace, role=Role.OWNER).select_related("user")
    name = channel.name
    # The key names the breakage (the time it was noticed), so a later breakage is told again.
    stamp = channel.last_checked_at.isoformat() if channel.last_checked_at else ""
    notify(
        owners,
        None,
        "channel",
        lambda: (
            _("Channel “%(name)s” needs reconnecting: the network no longer accepts its credentials.")
            % {"name": name}
        ),
        key=f"channel-reconnect:{channel.pk}:{stamp}",
    )
