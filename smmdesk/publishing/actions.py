"""Publishing's use cases: the pages, the API, the importer and the calendar feed all come through here.

Each one checks the member's right (workflow.can_*), validates, works inside a transaction, writes the
post's audit trail (PostEvent) and tells whoever must act next; tasks are queued after commit. Refusals
raise NotAllowed (the role may not), InvalidInput ((field, message) pairs) or PublishingError.

Post data (create_post / update_post; a key left out is left unchanged on update):
    title, campaign (id, name or None), new_campaign (a name to create), scheduled_at (aware; naive is
    the workspace's wall clock), recurrence, recurrence_until, variants: a list of
    {channel (id), text, media (asset ids), link, utm {source, medium, campaign, content, term},
    first_comment, hashtags (list)}: one per channel; channels left out of the list are removed.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from smmdesk.accounts import actions as account_actions
from smmdesk.accounts.models import AuditEvent, Membership, Workspace
from smmdesk.channels.models import PublishRecord
from smmdesk.publishing import publisher, scheduling, validation, workflow
from smmdesk.publishing.models import Campaign, Post, PublishingSettings, Variant
from smmdesk.publishing.validation import limits_for, text_length  # noqa: F401 - part of this API
from smmdesk.publishing.workflow import InvalidInput, NotAllowed, PublishingError, require

__all__ = ["InvalidInput", "NotAllowed", "PublishingError", "limits_for", "text_length"]


State = Post.State
VState = Variant.State
# A time this far in the past is still "now" (the form was open for a while); older is a mistake.
PAST_GRACE = timedelta(minutes=5)


# --- settings -------------------------------------------------------------------------------------------


def settings_for(workspace: Workspace) -> PublishingSettings:
    found = PublishingSettings.objects.filter(workspace=workspace).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return PublishingSettings.objects.create(
                workspace=workspace, ical_token=secrets.token_urlsafe(32)
            )
    except IntegrityError:  # created by a concurrent request
        return PublishingSettings.objects.get(workspace=workspace)


def update_settings(membership: Membership, *, approval_required: bool) -> PublishingSettings:
    require(workflow.may(membership, "publishing.manage"))
    settings = settings_for(membership.workspace)
    PublishingSettings.objects.filter(pk=settings.pk).update(approval_required=bool(approval_required))
    settings.approval_required = bool(approval_required)
    return settings


def rotate_ical_token(membership: Membership) -> PublishingSettings:
    """A new secret for the calendar feed: the old address stops working at once."""
    require(workflow.may(membership, "publishing.manage"))
    settings = settings_for(membership.workspace)
    settings.ical_token = secrets.token_urlsafe(32)
    PublishingSettings.objects.filter(pk=settings.pk).update(ical_token=settings.ical_token)
    return settings


def _approval_required(workspace_id: int) -> bool:
    settings = PublishingSettings.objects.filter(workspace_id=workspace_id).first()
    return True if settings is None else settings.approval_required


# --- reading the input ----------------------------------------------------------------------------------


def _when(value, workspace: Workspace, field: str, errors: list) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            errors.append((field, _("Enter a date and time such as 2026-03-14T09:30.")))
            return None
        value = parsed
    if not isinstance(value, datetime):
        errors.append((field, _("Enter a date and time.")))
        return None
    return scheduling.to_utc(value, scheduling.workspace_zone(workspace))


def _day(value, field: str, errors: list) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value).strip()) if isinstance(value, str) else None
    if parsed is None:
        errors.append((field, _("Enter a date such as 2026-03-14.")))
    return parsed


def _campaign(workspace: Workspace, value, new_name, errors: list) -> tuple[bool, Campaign | None]:
    """(given, campaign): the campaign named by id, name or `new_name` (created)."""
    name = (new_name or "").strip() if isinstance(new_name, str) else ""
    if name or isinstance(value, str) and value.strip() and not value.strip().isdigit():
        name = name or value.strip()
        if len(name) > 120:
            errors.append(("new_campaign", _("Enter at most %(count)s characters.") % {"count": 120}))
            return True, None
        campaign, _created = Campaign.objects.get_or_create(workspace=workspace, name=name)
        return True, campaign
    if value in (None, ""):
        return True, None
    if isinstance(value, Campaign):
        value = value.pk
    campaign = (
        Campaign.objects.filter(workspace=workspace, pk=value).first() if str(value).isdigit() else None
    )
    if campaign is None:
        errors.append(("campaign", _("Choose one of this workspace's campaigns.")))
    return True, campaign


def _clean_post(workspace: Workspace, data: dict, post: Post | None) -> tuple[dict, list | None]:
    """(post fields to set, cleaned variants or None when not given); raises InvalidInput."""
    if not isinstance(data, dict):
        raise InvalidInput([("__all__", _("Expected an object with the post's fields."))])
    errors: list[tuple[str, str]] = []
    fields: dict = {}
    if "title" in data:
        title = data.get("title") or ""
        if not isinstance(title, str) or len(title.strip()) > 200:
            errors.append(("title", _("Enter text of at most %(count)s characters.") % {"count": 200}))
        else:
            fields["title"] = title.strip()
    if "campaign" in data or "new_campaign" in data:
        _given, fields["campaign"] = _campaign(
            workspace, data.get("campaign"), data.get("new_campaign"), errors
        )
    if "scheduled_at" in data:
        fields["scheduled_at"] = _when(data.get("scheduled_at"), workspace, "scheduled_at", errors)
    if "recurrence" in data:
        recurrence = data.get("recurrence") or ""
        if recurrence not in Post.Recurrence.values:
            errors.append(("recurrence", _("Choose daily, weekly, monthly or no repeat.")))
        fields["recurrence"] = recurrence
    if "recurrence_until" in data:
        fields["recurrence_until"] = _day(data.get("recurrence_until"), "recurrence_until", errors)
    recurrence = fields.get("recurrence", post.recurrence if post else "")
    when = fields.get("scheduled_at", post.scheduled_at if post else None)
    until = fields.get("recurrence_until", post.recurrence_until if post else None)
    if recurrence and when is None and not any(f == "scheduled_at" for f, _m in errors):
        errors.append(("scheduled_at", _("A repeating post needs the date and time of its first run.")))
    if (
        recurrence
        and when
        and until
        and until < scheduling.to_local(when, scheduling.workspace_zone(workspace)).date()
    ):
        errors.append(("recurrence_until", _("The last repeat cannot be before the first run.")))
    variants = None
    if "variants" in data:
        variants, variant_errors = validation.clean_variants(workspace, data.get("variants"))
        errors += variant_errors
    if errors:
        raise InvalidInput(errors)
    return fields, variants


def _save_variants(post: Post, variants: list[dict]) -> list[int]:
    """Make the post's variants the cleaned ones; returns the ids of variants created."""
    existing = {v.channel_id: v for v in post.variants.all()}
    wanted = {v["channel"].pk for v in variants}
    Variant.objects.filter(post=post).exclude(channel_id__in=wanted).delete()
    created = []
    for values in variants:
        channel, media = values["channel"], values["media"]
        content = {k: values[k] for k in ("text", "link", "utm", "first_comment", "hashtags")}
        variant = existing.get(channel.pk)
        if variant is None:
            variant = Variant.objects.create(post=post, channel=channel, **content)
            created.append(variant.pk)
        else:
            Variant.objects.filter(pk=variant.pk).update(**content)
        variant.media.set(media)
    return created


# --- writing ------------------------------------------------------------------------------------------


def create_post(membership: Membership, data: dict) -> Post:
    """A new draft."""
    require(workflow.may(membership, "publishing.draft"), _("Your role may not write posts."))
    workspace = membership.workspace
    with transaction.atomic():
        fields, variants = _clean_post(workspace, data, None)
        post = Post.objects.create(workspace=workspace, created_by=membership, **fields)
        if variants:
            _save_variants(post, variants)
        workflow.record(post, "created", membership)
    return post


def update_post(membership: Membership, post: Post, data: dict) -> Post:
    """Change the post. An approved post edited by someone who may not approve goes back to review."""
    with transaction.atomic():
        post = _locked(post, membership)
        require(workflow.can_edit(membership, post), _("This post can no longer be changed by you."))
        fields, variants = _clean_post(post.workspace, data, post)
        before = post.scheduled_at
        for name, value in fields.items():
            setattr(post, name, value)
        post.updated_at = timezone.now()
        post.save()
        created = _save_variants(post, variants) if variants is not None else []
        workflow.record(
            post, "edited", membership, fields=sorted(fields) + (["variants"] if variants else [])
        )
        outcome = workflow.edit_outcome(membership, post, _approval_required(post.workspace_id))
        if outcome == State.IN_REVIEW:
            _back_to_review(post, membership)
        elif post.state == State.SCHEDULED:
            if post.scheduled_at is None:
                raise InvalidInput([("scheduled_at", _("A scheduled post needs a date and time."))])
            if post.scheduled_at != before:
                _check_future(post.scheduled_at)
                _arm(post, post.scheduled_at)
                workflow.record(post, "rescheduled", membership, at=post.scheduled_at.isoformat())
            elif created:
                Variant.objects.filter(pk__in=created).update(next_attempt_at=post.scheduled_at)
                scheduling.enqueue(created, post.scheduled_at)
    return post


def _back_to_review(post: Post, membership: Membership) -> None:
    Variant.objects.filter(post=post, state__in=(VState.PENDING, VState.HELD)).update(
        state=VState.PENDING, next_attempt_at=None
    )
    _set(post, State.IN_REVIEW, approved_by=None, approved_at=None)
    event = workflow.record(post, "submitted", membership, reason="edited after approval")
    workflow.notify_submitted(post, membership, event)


def submit(membership: Membership, post: Post) -> Post:
    """Ask for approval; with approval switched off the post is approved (and scheduled, if it has a
    time) at once."""
    with transaction.atomic():
        post = _locked(post, membership)
        require(workflow.can_submit(membership, post))
        _require_variants(post)
        if not _approval_required(post.workspace_id):
            workflow.record(post, "submitted", membership)
            return _approve(post, membership, automatic=True)
        _set(post, State.IN_REVIEW, review_comment="")
        event = workflow.record(post, "submitted", membership)
        workflow.notify_submitted(post, membership, event)
    return post


def approve(membership: Membership, post: Post) -> Post:
    """Approve; a post with a time still ahead is scheduled for it."""
    with transaction.atomic():
        post = _locked(post, membership)
        require(workflow.can_approve(membership, post), _("Your role may not approve posts."))
        _require_variants(post)
        return _approve(post, membership)


def _approve(post: Post, membership: Membership, automatic: bool = False) -> Post:
    now = timezone.now()
    _set(
        post,
        State.APPROVED,
        approved_by=None if automatic else membership,
        approved_at=now,
        review_comment="",
    )
    event = workflow.record(post, "approved", membership, automatic=automatic)
    if not automatic:
        workflow.notify_decided(post, True, membership, event)
    if post.scheduled_at and post.scheduled_at >= now - PAST_GRACE:
        _to_scheduled(post, post.scheduled_at, membership)
    return post


def reject(membership: Membership, post: Post, comment: str) -> Post:
    """Send the post back to its author as a draft, with the reason."""
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if not comment:
        raise InvalidInput([("comment", _("Say what should change, so the author knows."))])
    if len(comment) > 2000:
        raise InvalidInput([("comment", _("Enter at most %(count)s characters.") % {"count": 2000})])
    with transaction.atomic():
        post = _locked(post, membership)
        require(workflow.can_reject(membership, post), _("Your role may not reject posts."))
        Variant.objects.filter(post=post, state__in=(VState.PENDING, VState.HELD)).update(
            state=VState.PENDING, next_attempt_at=None
        )
        _set(post, State.DRAFT, review_comment=comment, approved_by=None, approved_at=None)
        event = workflow.record(post, "rejected", membership, comment=comment)
        workflow.notify_decided(post, False, membership, event)
    return post


def schedule(membership: Membership, post: Post, when) -> Post:
    """Put the post on the calendar to be published at `when`. A drafter schedules an approved post, or
    a draft when approval is off; an approver's scheduling of a draft approves it too."""
    with transaction.atomic():
        post = _locked(post, membership)
        when = _clean_when(post.workspace, when)
        if post.state == State.SCHEDULED:
            return _reschedule(post, membership, when)
        required = _approval_required(post.workspace_id)
        if not workflow.can_schedule(membership, post, required):
            if post.state in workflow.UNAPPROVED and workflow.may(membership, "publishing.draft"):
                raise NotAllowed(_("This post needs approval before it can be scheduled."))
            require(False)
        _require_variants(post)
        _check_future(when)
        _check_series_end(post, when)
        if post.state in workflow.UNAPPROVED:
            automatic = not required
            _set(
                post,
                State.APPROVED,
                approved_by=None if automatic else membership,
                approved_at=timezone.now(),
            )
            workflow.record(post, "approved", membership, automatic=automatic)
        _to_scheduled(post, when, membership)
    return post


def reschedule(membership: Membership, post: Post, when) -> Post:
    """Move the post's time (the calendar's drag and drop). A scheduled post is re-armed for the new
    time; an earlier draft or approved post only changes its planned time."""
    with transaction.atomic():
        post = _locked(post, membership)
        require(workflow.can_reschedule(membership, post), _("This post can no longer be moved by you."))
        when = _clean_when(post.workspace, when)
        return _reschedule(post, membership, when)


def _reschedule(post: Post, membership: Membership, when: datetime) -> Post:
    require(workflow.can_reschedule(membership, post), _("This post can no longer be moved by you."))
    _check_series_end(post, when)
    before = post.scheduled_at
    if post.state == State.SCHEDULED:
        _check_future(when)
        _set(post, post.state, scheduled_at=when)
        _arm(post, when)
    else:
        _set(post, post.state, scheduled_at=when)
    workflow.record(
        post, "rescheduled", membership, at=when.isoformat(), previous=before.isoformat() if before else None
    )
    return post


def unschedule(membership: Membership, post: Post) -> Post:
    """Take a scheduled post off the queue; it stays approved with its planned time."""
    with transaction.atomic():
        post = _locked(post, membership)
        require(post.state == State.SCHEDULED and workflow.can_reschedule(membership, post))
        Variant.objects.filter(post=post, state__in=(VState.PENDING, VState.HELD)).update(
            next_attempt_at=None
        )
        _set(post, State.APPROVED)
        workflow.record(post, "rescheduled", membership, at=None)
    return post


def retry_variant(membership: Membership, variant: Variant, confirmed_absent: bool = False) -> Variant:
    """Publish a failed (or held) variant again now. After an uncertain attempt the member must confirm
    the post is not on the network, or it might appear twice."""
    with transaction.atomic():
        post = _locked(variant.post, membership)
        variant = Variant.objects.select_related("channel").get(pk=variant.pk, post=post)
        variant.post = post
        require(workflow.can_retry(membership, variant), _("Your role may not retry publishing."))
        if needs_confirmation(variant) and not confirmed_absent:
            raise PublishingError(
                _(
                    "An earlier attempt may already have posted this, and the network cannot tell. Check "
                    "the channel; if the post is not there, confirm and retry."
                ),
                field="confirmed_absent",
            )
        now = timezone.now()
        Variant.objects.filter(pk=variant.pk, state__in=(VState.FAILED, VState.HELD)).update(
            state=VState.PENDING,
            attempts=0,
            error="",
            next_attempt_at=now,
            confirmed_absent=bool(confirmed_absent),
        )
        workflow.record(
            post, "retried", membership, variant=variant.pk, confirmed_absent=bool(confirmed_absent)
        )
        publisher.follow(post)
        scheduling.enqueue([variant.pk], now)
    variant.refresh_from_db()
    return variant


def needs_confirmation(variant: Variant) -> bool:
    """The variant failed because an attempt's outcome is unknown (see channels.ledger)."""
    return (
        variant.state == VState.FAILED
        and PublishRecord.objects.filter(
            channel_id=variant.channel_id,
            idempotency_key=variant.idempotency_key(),
            state=PublishRecord.State.UNCERTAIN,
        ).exists()
    )


def delete_post(membership: Membership, post: Post) -> None:
    """Remove the post from smmdesk (what is on a network stays there)."""
    with transaction.atomic():
        post = _locked(post, membership)
        require(workflow.can_delete(membership, post), _("You may not delete this post."))
        # The post's own history goes with it, so the deletion is kept in the workspace's audit log.
        account_actions.audit(
            AuditEvent.Action.POST_DELETED,
            actor=membership.user,
            workspace=post.workspace,
            post=post.pk,
            title=post.title[:200],
            state=post.state,
            published=[v.url or v.external_id for v in post.variants.all() if v.external_id],
        )
        post.delete()


# --- helpers ------------------------------------------------------------------------------------------


def _locked(post: Post, membership: Membership | None) -> Post:
    """The current row, locked until commit; a post of another workspace is treated as missing."""
    row = (
        # of=self: PostgreSQL cannot lock the nullable side of the outer joins select_related makes.
        Post.objects.select_for_update(of=("self",))
        .select_related("workspace", "workspace__profile", "created_by__user")
        .filter(pk=post.pk)
        .first()
    )
    if row is None or membership is None or row.workspace_id != membership.workspace_id:
        raise NotAllowed(_("There is no such post in this workspace."))
    return row


def _set(post: Post, state: str, **changes) -> None:
    changes.update(state=state, updated_at=timezone.now())
    Post.objects.filter(pk=post.pk).update(**changes)
    for name, value in changes.items():
        setattr(post, name, value)


def _require_variants(post: Post) -> None:
    if not post.variants.exists():
        raise InvalidInput([("variants", _("Choose at least one channel to publish to."))])


def _clean_when(workspace: Workspace, value) -> datetime:
    errors: list = []
    when = _when(value, workspace, "scheduled_at", errors)
    if errors:
        raise InvalidInput(errors)
    if when is None:
        raise InvalidInput([("scheduled_at", _("Enter the date and time to publish at."))])
    return when


def _check_future(when: datetime) -> None:
    if when < timezone.now() - PAST_GRACE:
        raise InvalidInput([("scheduled_at", _("This time has passed; choose a time in the future."))])


def _check_series_end(post: Post, when: datetime) -> None:
    if post.recurrence and post.recurrence_until:
        day = scheduling.to_local(when, scheduling.workspace_zone(post.workspace)).date()
        if day > post.recurrence_until:
            raise InvalidInput([("scheduled_at", _("This time is after the last repeat of the series."))])


def _to_scheduled(post: Post, when: datetime, membership: Membership | None) -> None:
    _set(post, State.SCHEDULED, scheduled_at=when)
    _arm(post, when)
    workflow.record(post, "scheduled", membership, at=when.isoformat())


def _arm(post: Post, when: datetime) -> None:
    """Every variant still to go is due at `when`; a task per variant after commit. Tasks queued for an
    earlier time find the variant not yet due and do nothing. The idempotency key's time (occurrence) is
    fixed the first time and never moves: whatever an attempt did is found again under the same key."""
    waiting = Variant.objects.filter(post=post, state__in=(VState.PENDING, VState.HELD))
    waiting.filter(occurrence__isnull=True).update(occurrence=when)
    waiting.update(next_attempt_at=when)
    pending = list(Variant.objects.filter(post=post, state=VState.PENDING).values_list("pk", flat=True))
    scheduling.enqueue(pending, when)
