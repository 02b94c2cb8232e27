"""Publishing over the HTTP API: posts with their variants, the approval workflow, scheduling, the
calendar and the media library (best times, performance and the plan import are in api_insights.py).

Role checks are the pages' ("publishing.view" to read, "publishing.draft" to write and schedule,
"publishing.approve" to approve or reject, "publishing.manage" to retry). What the post's state or
ownership refuses after that (approving a post already approved, deleting someone else's draft) is a
409 naming the post; refused input is a 422 naming the field, in the same words as on the pages.
"""

import datetime as dt

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from smmdesk.api import MAX_OFFSET, InvalidOut, requires
from smmdesk.publishing import actions, reports, scheduling, workflow
from smmdesk.publishing.api_schemas import (
    CalendarEntry,
    CalendarIn,
    MediaOut,
    PostDetailOut,
    PostIn,
    PostPage,
    PostsIn,
    RejectIn,
    RetryIn,
    ScheduleIn,
    VariantOut,
)
from smmdesk.publishing.ical import planned_repeats
from smmdesk.publishing.models import MediaAsset, Post, Variant

router = Router(tags=["publishing"])

MAX_CALENDAR_DAYS = 100


# --- helpers -------------------------------------------------------------------------------------------


def invalid_input(*errors: tuple[str, str], status: int = 422, detail: str = "invalid input"):
    return Status(status, {"detail": detail, "errors": [{"field": f, "message": str(m)} for f, m in errors]})


def refusal(error: workflow.PublishingError):
    if isinstance(error, workflow.NotAllowed):
        # The role may act (requires() said so); this post, in its state, may not be acted on by it.
        return invalid_input(("post", error.message), status=409, detail="not possible for this post now")
    return invalid_input(*error.field_errors())


def _posts(workspace):
    return (
        Post.objects.filter(workspace=workspace)
        .select_related("campaign")
        .prefetch_related(
            Prefetch(
                "variants", queryset=Variant.objects.select_related("channel").order_by("channel__name", "pk")
            ),
            "variants__media",
        )
    )


def _post(request, post_id: int) -> Post:
    return get_object_or_404(_posts(request.workspace), pk=post_id)


def _variant_out(variant: Variant, figures: dict | None = None) -> dict:
    return {
        "id": variant.pk,
        "channel_id": variant.channel_id,
        "channel": variant.channel.name,
        "text": variant.text,
        "media": [asset.pk for asset in variant.media.all()],
        "link": variant.link,
        "link_with_utm": variant.link_with_utm(),
        "utm": variant.utm if isinstance(variant.utm, dict) else {},
        "first_comment": variant.first_comment,
        "hashtags": [str(tag) for tag in variant.hashtags] if isinstance(variant.hashtags, list) else [],
        "state": variant.state,
        "occurrence": variant.occurrence,
        "external_id": variant.external_id,
        "url": variant.url,
        "error": variant.error,
        "attempts": variant.attempts,
        "published_at": variant.published_at,
        "figures": figures or {},
    }


POST_FIELDS = (
    *("title", "state", "campaign_id", "scheduled_at", "recurrence", "recurrence_until", "series_id"),
    *("created_by_id", "approved_by_id", "approved_at", "review_comment", "created_at", "updated_at"),
)


def _post_out(post: Post, membership, approval_required: bool, figures: dict | None = None) -> dict:
    variants = list(post.variants.all())
    return {
        "id": post.pk,
        **{name: getattr(post, name) for name in POST_FIELDS},
        "headline": reports.headline(post.title, next((v.text for v in variants if v.text.strip()), "")),
        "campaign": post.campaign.name if post.campaign else None,
        "variants": [_variant_out(v, (figures or {}).get(v.pk)) for v in variants],
        "allowed_actions": sorted(workflow.allowed_actions(membership, post, approval_required)),
    }


def _detail(request, post_id: int) -> dict:
    post = _post(request, post_id)
    approval = actions.settings_for(request.workspace).approval_required
    out = _post_out(post, request.membership, approval, reports.post_figures(post))
    out["events"] = [
        {
            "id": e.pk,
            "action": e.action,
            "actor_id": e.actor_id,
            "detail": e.detail,
            "created_at": e.created_at,
        }
        for e in post.events.order_by("created_at", "pk")
    ]
    return out


def _body(payload: Schema) -> dict:
    """The fields the client sent; variants, when sent, are complete (they replace the post's)."""
    data = payload.model_dump(exclude_unset=True)
    if payload.variants is not None:
        data["variants"] = [variant.model_dump() for variant in payload.variants]
    return data


def day_period(workspace, start: dt.date | None, end: dt.date | None, default_days: int, max_days: int):
    """(start, end) aware, or a list of errors: `start` to `end` inclusive, in the business's days."""
    today = timezone.localdate(timezone=scheduling.workspace_zone(workspace))
    last = end or today
    first = start or last - dt.timedelta(days=default_days - 1)
    if last < first:
        return None, [("end", "must not be before start")]
    if (last - first).days >= max_days:
        return None, [("end", f"at most {max_days} days after start")]
    if first.year < 2000 or last.year > 2199:
        return None, [("start" if first.year < 2000 else "end", "out of range (2000-2199)")]
    return reports.day_range(workspace, first, last), []


# --- posts ---------------------------------------------------------------------------------------------


@router.get("/w/{slug}/posts", response={200: PostPage, 422: InvalidOut})
@requires("publishing.view")
def list_posts(request, slug: str, filters: Query[PostsIn]):
    """Posts, soonest planned first (unplanned last), with the calendar's filters."""
    if filters.state and filters.state not in Post.State.values:
        return invalid_input(("state", f"one of: {', '.join(Post.State.values)}"))
    rows = _posts(request.workspace)
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.channel:
        rows = rows.filter(variants__channel_id=filters.channel)
    if filters.campaign:
        rows = rows.filter(campaign_id=filters.campaign)
    if filters.start or filters.end:
        period, errors = day_period(request.workspace, filters.start, filters.end, 1, 3660)
        if errors:
            return invalid_input(*errors)
        rows = rows.filter(scheduled_at__gte=period[0], scheduled_at__lt=period[1])
    if filters.q.strip():
        words = filters.q.strip()
        # SQLite folds case for ASCII only: "детская" would miss "Детская". The usual spellings of the
        # words are asked for too (PostgreSQL folds any script and needs none of them).
        match = Q()
        for form in {words, words.lower(), words.capitalize(), words.upper()}:
            match |= Q(title__icontains=form) | Q(variants__text__icontains=form)
        rows = rows.filter(match)
    rows = rows.distinct().order_by("scheduled_at", "pk")
    approval = actions.settings_for(request.workspace).approval_required
    page = rows[filters.offset : filters.offset + filters.limit]
    return {
        "count": rows.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_post_out(p, request.membership, approval) for p in page],
    }


@router.post("/w/{slug}/posts", response={201: PostDetailOut, 409: InvalidOut, 422: InvalidOut})
@requires("publishing.draft")
def create_post(request, slug: str, payload: PostIn):
    """A new draft. `scheduled_at` without a zone is the business's wall-clock time."""
    try:
        post = actions.create_post(request.membership, _body(payload))
    except workflow.PublishingError as error:
        return refusal(error)
    return Status(201, _detail(request, post.pk))


@router.get("/w/{slug}/posts/{post_id}", response=PostDetailOut)
@requires("publishing.view")
def get_post(request, slug: str, post_id: int):
    """The post with its variants (their figures once published), audit trail and what you may do."""
    return _detail(request, post_id)


@router.put("/w/{slug}/posts/{post_id}", response={200: PostDetailOut, 409: InvalidOut, 422: InvalidOut})
@requires("publishing.draft")
def update_post(request, slug: str, post_id: int, payload: PostIn):
    """Change the fields sent. An approved post changed by someone who may not approve goes back to
    review (when the workspace requires approval)."""
    post = _post(request, post_id)
    try:
        actions.update_post(request.membership, post, _body(payload))
    except workflow.PublishingError as error:
        return refusal(error)
    return _detail(request, post_id)


@router.delete("/w/{slug}/posts/{post_id}", response={204: None, 409: InvalidOut})
@requires("publishing.draft")
def delete_post(request, slug: str, post_id: int):
    """Remove the post from smmdesk; what is on a network stays there. Your own post before it goes out,
    or (owner, SMM manager) anyone's."""
    post = _post(request, post_id)
    try:
        actions.delete_post(request.membership, post)
    except workflow.PublishingError as error:
        return refusal(error)
    return Status(204, None)


def _act(request, post_id: int, use_case, *args):
    post = _post(request, post_id)
    try:
        use_case(request.membership, post, *args)
    except workflow.PublishingError as error:
        return refusal(error)
    return _detail(request, post_id)


WORKFLOW = {200: PostDetailOut, 409: InvalidOut, 422: InvalidOut}


@router.post("/w/{slug}/posts/{post_id}/submit", response=WORKFLOW)
@requires("publishing.draft")
def submit_post(request, slug: str, post_id: int):
    """Ask for approval; with approval switched off, approved (and scheduled, if it has a time) at once."""
    return _act(request, post_id, actions.submit)


@router.post("/w/{slug}/posts/{post_id}/approve", response=WORKFLOW)
@requires("publishing.approve")
def approve_post(request, slug: str, post_id: int):
    """Approve; a post with a time still ahead is scheduled for it."""
    return _act(request, post_id, actions.approve)


@router.post("/w/{slug}/posts/{post_id}/reject", response=WORKFLOW)
@requires("publishing.approve")
def reject_post(request, slug: str, post_id: int, payload: RejectIn):
    """Send the post back to its author as a draft; `comment` says what should change."""
    return _act(request, post_id, actions.reject, payload.comment)


@router.post("/w/{slug}/posts/{post_id}/schedule", response=WORKFLOW)
@requires("publishing.draft")
def schedule_post(request, slug: str, post_id: int, payload: ScheduleIn):
    """Publish at `scheduled_at`: an approved post, or a draft when approval is off (an approver's
    scheduling of a draft approves it)."""
    return _act(request, post_id, actions.schedule, payload.scheduled_at)


@router.post("/w/{slug}/posts/{post_id}/reschedule", response=WORKFLOW)
@requires("publishing.draft")
def reschedule_post(request, slug: str, post_id: int, payload: ScheduleIn):
    """Move the post to `scheduled_at` (the calendar's drag and drop)."""
    return _act(request, post_id, actions.reschedule, payload.scheduled_at)


@router.post("/w/{slug}/posts/{post_id}/unschedule", response=WORKFLOW)
@requires("publishing.draft")
def unschedule_post(request, slug: str, post_id: int):
    """Take a scheduled post off the queue; it stays approved with its planned time."""
    return _act(request, post_id, actions.unschedule)


@router.post(
    "/w/{slug}/variants/{variant_id}/retry", response={200: VariantOut, 409: InvalidOut, 422: InvalidOut}
)
@requires("publishing.manage")
def retry_variant(request, slug: str, variant_id: int, payload: RetryIn):
    """Publish a failed or held variant again now. After an attempt whose outcome is unknown, check the
    network and send `confirmed_absent: true`, or the post might appear twice."""
    variant = get_object_or_404(
        Variant.objects.select_related("channel", "post"), post__workspace=request.workspace, pk=variant_id
    )
    try:
        variant = actions.retry_variant(
            request.membership, variant, confirmed_absent=payload.confirmed_absent
        )
    except workflow.PublishingError as error:
        return refusal(error)
    return _variant_out(variant)


# --- the calendar ----------------------------------------------------------------------------------------


@router.get("/w/{slug}/calendar", response={200: list[CalendarEntry], 422: InvalidOut})
@requires("publishing.view")
def calendar(request, slug: str, period: Query[CalendarIn]):
    """Posts planned from `start` to `end` (days in the business's time zone, inclusive; default the next
    4 weeks), and the planned repeats of recurring posts (`repeat: true`), in time order."""
    today = timezone.localdate(timezone=scheduling.workspace_zone(request.workspace))
    first = period.start or today
    found, errors = day_period(
        request.workspace, first, period.end or first + dt.timedelta(days=27), 28, MAX_CALENDAR_DAYS
    )
    if errors:
        return invalid_input(*errors)
    start, end = found
    if period.state and period.state not in Post.State.values:
        return invalid_input(("state", f"one of: {', '.join(Post.State.values)}"))
    rows = _posts(request.workspace).filter(
        Q(scheduled_at__gte=start, scheduled_at__lt=end)
        | Q(state__in=(Post.State.SCHEDULED, Post.State.PUBLISHING), recurrence__gt="", scheduled_at__lt=end)
    )
    if period.state:
        rows = rows.filter(state=period.state)
    if period.channel:
        rows = rows.filter(variants__channel_id=period.channel)
    if period.campaign:
        rows = rows.filter(campaign_id=period.campaign)
    zone = scheduling.workspace_zone(request.workspace)
    entries = []
    for post in rows.distinct().select_related("series"):
        variants = list(post.variants.all())
        base = {
            "post_id": post.pk,
            "headline": reports.headline(post.title, next((v.text for v in variants if v.text.strip()), "")),
            "state": post.state,
            "campaign_id": post.campaign_id,
            "channels": [{"id": v.channel_id, "name": v.channel.name, "state": v.state} for v in variants],
            "recurrence": post.recurrence,
        }
        moments = [(post.scheduled_at, False)] if start <= post.scheduled_at < end else []
        moments += [(run, True) for run in planned_repeats(post, start, end, zone)]
        for moment, repeat in moments:
            entries.append(
                {
                    **base,
                    "at": moment,
                    "local": moment.astimezone(zone).replace(tzinfo=None),
                    "repeat": repeat,
                }
            )
    entries.sort(key=lambda e: (e["at"], e["post_id"], e["repeat"]))
    return entries


# --- media -----------------------------------------------------------------------------------------------


def _media_url(name: str, slug: str, asset: MediaAsset) -> str:
    try:
        return reverse(f"publishing:{name}", kwargs={"slug": slug, "asset_id": asset.pk})
    except NoReverseMatch:
        return ""


@router.get("/w/{slug}/media", response=list[MediaOut])
@requires("publishing.view")
def media_library(
    request,
    slug: str,
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """The media library, newest first; `url` and `thumbnail_url` need the same sign-in."""
    assets = MediaAsset.objects.filter(workspace=request.workspace).order_by("-created_at", "-pk")
    return [
        {
            **{name: getattr(a, name) for name in ("id", "kind", "content_type", "size", "width", "height")},
            "original_name": a.original_name,
            "created_at": a.created_at,
            "url": _media_url("media_file", slug, a),
            "thumbnail_url": _media_url("media_thumb", slug, a) if a.thumbnail else "",
        }
        for a in assets[offset : offset + limit]
    ]
