"""Publishing one variant, exactly once, whatever happens to the worker doing it.

1. Claim: a conditional UPDATE moves the variant PENDING → PUBLISHING (or takes over a claim gone
   stale); a second task for the same variant, a task for a time that has since moved, or one for a
   post no longer scheduled updates nothing and stops.
2. A channel that needs reconnecting, or is disabled, holds the variant (HELD): nothing is dropped, the
   sweeper releases it when the channel works again.
3. The network is called only through ledger.publish_once with the variant's idempotency key, fixed at
   the first attempt: a repeat after a crash asks the network (or the ledger) instead of posting again,
   and an outcome nobody can know ends FAILED ("uncertain") until a person confirms and retries.
4. Transient errors retry with backoff up to MAX_ATTEMPTS; rate limits after the network's retry_after;
   a revoked token holds; anything permanent fails with its reason and the owners are told.
5. The post's state follows its variants; a recurring post's next occurrence is created when this one
   is done.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from smmdesk.channels import health, ledger
from smmdesk.channels.actions import scrub
from smmdesk.channels.base import AdapterError, ExternalRef, PostVariant
from smmdesk.channels.models import Channel
from smmdesk.lib.workers import worker_name
from smmdesk.publishing import public_media, scheduling, workflow
from smmdesk.publishing.models import Post, Variant

logger = logging.getLogger(__name__)

VState = Variant.State
MAX_ATTEMPTS = 6
# Seconds before the first retry; each next one waits twice as long (30 s, 1, 2, 4, 8 min), at most an hour.
RETRY_DELAY = 30
MAX_RETRY_DELAY = 3600
# Huey runs an ETA task at its time, but clocks of machines differ by a little.
EARLY = timedelta(seconds=2)
ERROR_MAX = 2000
HOLD_STATUSES = (Channel.Status.NEEDS_RECONNECT, Channel.Status.DISABLED)


def backoff(attempts: int) -> float:
    return float(min(RETRY_DELAY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY))


def claim(variant_id: int, now: datetime, me: str) -> bool:
    """Every way off the schedule (back to review, rejected, unscheduled) clears next_attempt_at, so a
    pending variant with a due time belongs to a scheduled post; publish_variant checks it again."""
    due = Q(state=VState.PENDING, next_attempt_at__lte=now + EARLY)
    stale = Q(state=VState.PUBLISHING, claimed_at__lt=now - scheduling.CLAIM_STALE)
    return bool(
        Variant.objects.filter(due | stale, pk=variant_id).update(
            state=VState.PUBLISHING, claimed_at=now, claimed_by=me, attempts=F("attempts") + 1
        )
    )


def media_urls(variant: Variant) -> list[str]:
    assets = [asset for asset in variant.media.all() if asset.file]
    if assets and not public_media.public_base() and not variant.channel.adapter_class.fetches_media:
        # The fake network never fetches: the signed path alone is enough for it.
        return [
            reverse("publishing_public_media", kwargs={"token": public_media.token_for(a)}) for a in assets
        ]
    return [public_media.public_url(asset) for asset in assets]


def post_variant(variant: Variant) -> PostVariant:
    return PostVariant(
        text=variant.full_text(),
        media=media_urls(variant),
        link=variant.link_with_utm(),
        first_comment=variant.first_comment,
    )


def publish_variant(variant_id: int) -> str:
    """One attempt; returns what happened: skipped, held, published, retry, failed."""
    now, me = timezone.now(), worker_name()
    if not claim(variant_id, now, me):
        return "skipped"
    variant = Variant.objects.select_related("post__workspace", "channel").get(pk=variant_id)
    mine = Variant.objects.filter(pk=variant_id, state=VState.PUBLISHING, claimed_by=me, claimed_at=now)
    if variant.post.state not in scheduling.LIVE:
        # Taken off the schedule as it was claimed: the claim is given back, nothing was tried.
        mine.update(state=VState.PENDING, next_attempt_at=None, claimed_by="", attempts=F("attempts") - 1)
        return "skipped"
    channel = variant.channel
    if channel.status in HOLD_STATUSES or not channel.known_kind:
        _hold(variant, mine, channel.last_error)
        return "held"
    if variant.occurrence is None:
        # Scheduling fixes it (actions._arm); should a row lack it, it is fixed before the first call,
        # so a reschedule after this attempt cannot make a second post.
        Variant.objects.filter(pk=variant_id, occurrence__isnull=True).update(
            occurrence=variant.post.scheduled_at
        )
        variant.occurrence = Variant.objects.values_list("occurrence", flat=True).get(pk=variant_id)
    try:
        outgoing = post_variant(variant)
    except public_media.MediaUnreachable as exc:
        # Our configuration, not the channel's fault: fails the post with the fix, the channel stays well.
        _fail(variant, mine, exc.message)
        return "failed"
    try:
        ref = ledger.publish_once(
            channel,
            outgoing,
            variant.idempotency_key(),
            confirmed_absent=variant.confirmed_absent,
        )
    except AdapterError as exc:
        return _refused(variant, mine, channel, exc)
    except Exception as exc:  # noqa: BLE001 - an adapter bug must end in a retry or a visible failure
        logger.exception("variant %s: publishing crashed", variant_id)
        return _refused(variant, mine, channel, AdapterError(f"unexpected error: {type(exc).__name__}"))
    _published(variant, ref)
    return "published"


def _reason(channel: Channel, exc: AdapterError) -> str:
    try:
        secrets = channel.secret_values()
    except ValueError:
        secrets = {}
    return scrub(exc.message or "", secrets)[:ERROR_MAX]


def _refused(variant: Variant, mine, channel: Channel, exc: AdapterError) -> str:
    verdict = health.record_failure(channel, exc)
    reason = _reason(channel, exc)
    if verdict == "reconnect":
        _hold(variant, mine, reason)
        return "held"
    if verdict == "rate_limited":
        # The network refused before posting and said when to come back: not counted as an attempt.
        _retry(
            variant,
            mine,
            timezone.now() + timedelta(seconds=max(exc.retry_after, 1.0)),
            reason,
            counted=False,
        )
        return "retry"
    if verdict == "transient" and variant.attempts < MAX_ATTEMPTS:
        _retry(variant, mine, timezone.now() + timedelta(seconds=backoff(variant.attempts)), reason)
        return "retry"
    _fail(variant, mine, reason)
    return "failed"


def _retry(variant: Variant, mine, when: datetime, reason: str, counted: bool = True) -> None:
    changes = {"state": VState.PENDING, "next_attempt_at": when, "error": reason, "claimed_by": ""}
    if not counted:
        changes["attempts"] = F("attempts") - 1
    if mine.update(**changes):
        logger.info("variant %s: will retry at %s: %s", variant.pk, when.isoformat(), reason)
        scheduling.enqueue([variant.pk], when)


def _hold(variant: Variant, mine, reason: str) -> None:
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=variant.post_id)
        # Holding is not an attempt: the post has not been tried on the network.
        if mine.update(
            state=VState.HELD, error=reason[:ERROR_MAX], claimed_by="", attempts=F("attempts") - 1
        ):
            workflow.record(post, "held", None, variant=variant.pk, channel=variant.channel.name)
            follow(post)


def _fail(variant: Variant, mine, reason: str) -> None:
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=variant.post_id)
        if not mine.update(state=VState.FAILED, error=reason, claimed_by="", confirmed_absent=False):
            return
        workflow.record(post, "failed", None, variant=variant.pk, channel=variant.channel.name, reason=reason)
        variant.post = post
        workflow.notify_failed(variant, reason)
        follow(post)


def _published(variant: Variant, ref: ExternalRef) -> None:
    now = timezone.now()
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=variant.post_id)
        # Not conditional on the claim: the network says it is out, which is true whoever claimed it.
        changed = (
            Variant.objects.filter(pk=variant.pk)
            .exclude(state=VState.PUBLISHED)
            .update(
                state=VState.PUBLISHED,
                external_id=ref.external_id[:300],
                url=ref.url[:500],
                published_at=now,
                error="",
                claimed_by="",
                confirmed_absent=False,
            )
        )
        if changed:
            workflow.record(
                post, "published", None, variant=variant.pk, channel=variant.channel.name, url=ref.url
            )
            follow(post)


def follow(post: Post) -> None:
    """Inside the caller's transaction, with the post's row locked: its state from its variants'."""
    if post.state not in (*scheduling.LIVE, Post.State.PUBLISHED, Post.State.FAILED):
        return
    states = list(Variant.objects.filter(post=post).values_list("state", flat=True))
    new = workflow.derive_state(states)
    if new == post.state:
        return
    Post.objects.filter(pk=post.pk).update(state=new, updated_at=timezone.now())
    post.state = new
    if new in (Post.State.PUBLISHED, Post.State.FAILED) and post.recurrence:
        # A failed week must not end a weekly series: the next one is planned either way (once).
        plan_next(post)


def plan_next(post: Post) -> Post | None:
    """Create and schedule the recurring post's next occurrence; None when the series has ended or the
    next occurrence exists already."""
    root = post.series or post
    tz = scheduling.workspace_zone(post.workspace)
    variants = list(post.variants.all().prefetch_related("media"))
    this = next((v.occurrence for v in variants if v.occurrence), None) or post.scheduled_at
    anchor = root.scheduled_at or this
    if this is None or anchor is None:
        return None
    when = scheduling.next_occurrence(anchor, this, post.recurrence, tz, post.recurrence_until)
    if when is None:
        return None
    if Post.objects.filter(Q(series=root) | Q(pk=root.pk), scheduled_at=when).exists():
        return None
    fields = ("workspace_id", "campaign_id", "title", "recurrence", "recurrence_until", "created_by_id")
    following = Post.objects.create(
        **{name: getattr(post, name) for name in fields},
        state=Post.State.SCHEDULED,
        scheduled_at=when,
        series=root,
        approved_by_id=post.approved_by_id,
        approved_at=post.approved_at,
    )
    copies = []
    for variant in variants:
        copy = Variant.objects.create(
            post=following,
            channel_id=variant.channel_id,
            text=variant.text,
            link=variant.link,
            utm=variant.utm,
            first_comment=variant.first_comment,
            hashtags=variant.hashtags,
            occurrence=when,
            next_attempt_at=when,
        )
        copy.media.set(variant.media.all())
        copies.append(copy.pk)
    workflow.record(following, "created", None, series=root.pk, previous=post.pk)
    workflow.record(following, "scheduled", None, at=when.isoformat())
    scheduling.enqueue(copies, when)
    return following
