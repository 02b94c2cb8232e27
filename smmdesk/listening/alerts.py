"""Alerts: a negative mention reaches the inbox and the managers at once, and a spike of negative mentions
over their baseline raises an alert of its own.

Both run in the task that stored the mentions, right after storing, so a complaint is in the inbox
within a minute of being fetched. Each alert is a ListeningAlert unique per key ("negative:<mention id>",
"spike:<bucket start>") and its notices are keyed the same way, so a task that runs twice alerts once.

The spike test is a Poisson surprise, chosen over the trend detector because negative mentions of a
small business are rare (most hours see none) and an hour with three of them after a quiet fortnight
is exactly what must ring. The expected count of an hour is the mean of the 14 days before it, at
least MIN_RATE; the hour spikes when it has at least MIN_SPIKE negative mentions and the Poisson
probability of that many or more is below SPIKE_P. One burst is one alert: an hour right after an hour
that already spiked does not alert again.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.channels.base import InboundEvent
from smmdesk.inbox.ingest import fit, ingest
from smmdesk.inbox.models import Message
from smmdesk.inbox.notify import notify
from smmdesk.listening.models import ListeningAlert, Mention, Sentiment

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
BASELINE = timedelta(days=14)
MIN_SPIKE = 3
SPIKE_P = 0.001
MIN_RATE = 1 / 24
# A spike shows in the hour being written and in the one before (mentions arrive late).
SPIKE_BUCKETS = 2
ALERT_TEXT = ListeningAlert._meta.get_field("text").max_length
EXCERPT = 120
ALERT_MAX_AGE = timedelta(days=3)


def recipients(workspace_id: int) -> list[Membership]:
    return list(Membership.objects.filter(workspace_id=workspace_id, role__in=(Role.OWNER, Role.SMM_MANAGER)))


def _excerpt(text: str, size: int = EXCERPT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[: size - 1] + "…"


# --- into the inbox ----------------------------------------------------------------------------------


def inbox_event(mention: Mention) -> InboundEvent:
    """The mention as the inbox takes it: a conversation of its own, the author as the customer."""
    text = mention.text
    if mention.url and mention.url not in text:
        text = f"{text}\n\n{mention.url}".strip()
    return InboundEvent(
        external_id=mention.external_id,
        kind="mention",
        author_id=mention.author_external_id or mention.author_handle or mention.author_name or "?",
        author_name=mention.author_name,
        author_handle=mention.author_handle,
        author_url=mention.author_url,
        text=text,
        created_at=mention.published_at,
        thread_id=mention.external_id,
        # Marks it as ours, so the listening side does not take it in a second time.
        raw={"listening_mention": mention.pk, "url": mention.url},
    )


def to_inbox(mention: Mention) -> int | None:
    """The id of the mention's conversation in the inbox, made if needed; None when the inbox cannot
    take it (no channel any more, or the channel's own post). Idempotent: the inbox keeps one message
    per channel and id, so a second call finds the first one's conversation."""
    if mention.conversation_id:
        return mention.conversation_id
    if mention.channel_id is None:
        return None
    external_id = fit(mention.external_id)
    conversation_id = _conversation_of(mention.channel_id, external_id)
    if conversation_id is None:
        ingest(mention.channel, [inbox_event(mention)])
        conversation_id = _conversation_of(mention.channel_id, external_id)
    if conversation_id is not None:
        Mention.objects.filter(pk=mention.pk).update(
            conversation_id=conversation_id, status=Mention.Status.IN_INBOX
        )
        mention.conversation_id, mention.status = conversation_id, Mention.Status.IN_INBOX
    return conversation_id


def _conversation_of(channel_id: int, external_id: str) -> int | None:
    return (
        Message.objects.by_external_id(channel_id, [external_id])
        .values_list("conversation_id", flat=True)
        .first()
    )


# --- a negative mention ------------------------------------------------------------------------------


def alert_negative(mention: Mention) -> ListeningAlert | None:
    """Raise the mention's alert once: into the inbox, a notice to the owners and SMM managers, and the
    alert row. None when it was raised before, or is not due: not negative, a duplicate, or old news (a
    feed's first read brings its whole archive; a complaint from last year is no emergency)."""
    if mention.sentiment != Sentiment.NEGATIVE or mention.duplicate:
        return None
    if mention.published_at < mention.fetched_at - ALERT_MAX_AGE:
        return None
    key = f"negative:{mention.pk}"
    try:
        with transaction.atomic():
            alert = ListeningAlert.objects.create(
                workspace_id=mention.workspace_id,
                kind=ListeningAlert.Kind.NEGATIVE,
                key=key,
                mention=mention,
                text=_excerpt(mention.text, ALERT_TEXT),
                observed=1,
            )
            conversation_id = to_inbox(mention)
            where = mention.channel.name if mention.channel_id else ""
            excerpt = _excerpt(mention.text)
            notify(
                recipients(mention.workspace_id),
                None if conversation_id is None else mention.conversation,
                "listening_negative",
                lambda: _("Negative mention on %(channel)s: %(text)s") % {"channel": where, "text": excerpt},
                f"listening:{key}",
            )
    except IntegrityError:
        return None
    return alert


# --- a spike -----------------------------------------------------------------------------------------


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    term = math.exp(-expected)
    below = 0.0
    for count in range(observed):
        below += term
        term *= expected / (count + 1)
    return max(0.0, 1.0 - below)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def check_spike(workspace_id: int, now: datetime | None = None) -> ListeningAlert | None:
    """Raise a spike alert for the current or the previous hour if either has one; once per burst."""
    now = now or timezone.now()
    current = _hour(now)
    start = current - BASELINE - (SPIKE_BUCKETS - 1) * HOUR
    stamps = Mention.objects.filter(
        workspace_id=workspace_id,
        sentiment=Sentiment.NEGATIVE,
        duplicate=False,
        published_at__gte=start,
        published_at__lt=current + HOUR,
    ).values_list("published_at", flat=True)
    counts = Counter(_hour(stamp) for stamp in stamps)
    for back in range(SPIKE_BUCKETS - 1, -1, -1):
        bucket = current - back * HOUR
        observed = counts.get(bucket, 0)
        history = sum(n for hour, n in counts.items() if bucket - BASELINE <= hour < bucket)
        expected = max(history / (BASELINE / HOUR), MIN_RATE)
        if observed < MIN_SPIKE or poisson_tail(observed, expected) >= SPIKE_P:
            continue
        alert = _raise_spike(workspace_id, bucket, observed, expected)
        if alert is not None:
            return alert
    return None


def _workspace_language(workspace_id: int) -> str:
    from smmdesk.business.models import BusinessProfile

    languages = BusinessProfile.objects.filter(workspace_id=workspace_id).values_list("languages", flat=True)
    known = {code for code, _name in settings.LANGUAGES}
    return next((code for code in (languages.first() or []) if code in known), settings.LANGUAGE_CODE)


def _spike_key(bucket: datetime) -> str:
    return f"spike:{bucket.isoformat()}"


def _raise_spike(
    workspace_id: int, bucket: datetime, observed: int, expected: float
) -> ListeningAlert | None:
    previous = ListeningAlert.objects.filter(
        workspace_id=workspace_id, key__in=[_spike_key(bucket), _spike_key(bucket - HOUR)]
    )
    if previous.exists():
        return None
    key = _spike_key(bucket)
    # The row's text is read by everyone: it is written in the business's first language.
    with translation.override(_workspace_language(workspace_id)):
        text = _("%(count)s negative mentions in an hour, %(expected).1f expected") % {
            "count": observed,
            "expected": expected,
        }
    try:
        with transaction.atomic():
            alert = ListeningAlert.objects.create(
                workspace_id=workspace_id,
                kind=ListeningAlert.Kind.SPIKE,
                key=key,
                text=text,
                observed=observed,
                expected=expected,
            )
            notify(
                recipients(workspace_id),
                None,
                "listening_spike",
                lambda: (
                    _("Spike of negative mentions: %(count)s in an hour, %(expected).1f expected")
                    % {"count": observed, "expected": expected}
                ),
                f"listening:{key}",
            )
    except IntegrityError:
        return None
    return alert


def after_intake(mentions: list[Mention], now: datetime | None = None) -> list[ListeningAlert]:
    """Every alert the newly stored mentions call for."""
    raised = []
    for mention in mentions:
        try:
            alert = alert_negative(mention)
        except Exception:  # noqa: BLE001 - one mention's alert failing must not cost the others theirs
            logger.exception("listening: alert for mention %s failed", mention.pk)
            continue
        if alert is not None:
            raised.append(alert)
    negative = [m for m in mentions if m.sentiment == Sentiment.NEGATIVE and not m.duplicate]
    if negative:
        spike = check_spike(negative[0].workspace_id, now)
        if spike is not None:
            raised.append(spike)
    return raised
