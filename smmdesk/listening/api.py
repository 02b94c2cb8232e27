"""Listening over the HTTP API: tracked terms, sources (with their health and "poll now"), the mention
stream with the page's filters (mark handled, send to the inbox), trends (dismiss, draft a post) and
alerts.

Role checks are the pages' ("listening.view" to read, "listening.handle" for a mention's buttons,
"listening.manage" for terms, sources and dismissing, "publishing.draft" to draft a post). Refused input
is a 422 naming the field, in the same words as on the pages; a use case that refuses the object in its
state is a 409; another workspace's id is a 404.
"""

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.errors import HttpError

from smmdesk.api import InvalidOut, requires
from smmdesk.listening import actions
from smmdesk.listening.api_schemas import (
    AlertOut,
    MentionOut,
    MentionPage,
    MentionsIn,
    OverviewOut,
    SourceChoiceOut,
    SourceIn,
    SourceOut,
    SourceUpdateIn,
    TermIn,
    TermOut,
    TrendOut,
    TrendsIn,
)
from smmdesk.listening.models import Mention, Sentiment, Source, TrackedTerm, Trend

router = Router(tags=["listening"])


# --- helpers -------------------------------------------------------------------------------------------


def invalid(*errors: tuple[str, str], status: int = 422, detail: str = "invalid input"):
    return Status(status, {"detail": detail, "errors": [{"field": f, "message": str(m)} for f, m in errors]})


def refusal(error: actions.ListeningError, subject: str):
    """A refused use case as an answer: 403 for the role, 422 for the input, 409 for the object's state."""
    if isinstance(error, actions.NotAllowed):
        raise HttpError(403, str(error.message))
    if isinstance(error, actions.InvalidInput):
        return invalid(*(error.errors or [(error.field or "body", error.message)]))
    return invalid((error.field or subject, error.message), status=409, detail="not possible now")


def one_of(field: str, value: str, choices) -> tuple[str, str] | None:
    if value and value not in choices:
        return field, f"one of: {', '.join(choices)}"
    return None


def _strings(value) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _term_out(term: TrackedTerm) -> dict:
    return {
        **{name: getattr(term, name) for name in ("id", "kind", "phrase", "active", "created_at")},
        "exclusions": _strings(term.exclusions),
        "languages": _strings(term.languages),
    }


SOURCE_FIELDS = (
    *("id", "channel_id", "kind", "interval_minutes", "active", "health", "next_poll_at"),
    *("last_polled_at", "last_ok_at", "failures", "last_error", "found_total", "created_at"),
)


def _source_out(source: Source) -> dict:
    return {**{name: getattr(source, name) for name in SOURCE_FIELDS}, "channel": source.channel.name}


MENTION_FIELDS = (
    *("id", "channel_id", "source_id", "external_id", "url", "author_name", "author_handle", "author_url"),
    *("text", "language", "sentiment", "sentiment_score", "reach", "published_at", "fetched_at"),
    *("status", "handled_at", "conversation_id"),
)


def _mention_out(mention: Mention) -> dict:
    return {
        **{name: getattr(mention, name) for name in MENTION_FIELDS},
        "channel": mention.channel.name if mention.channel else "",
        "flags": _strings(mention.flags),
        "hashtags": _strings(mention.hashtags),
        "terms": [term.phrase for term in mention.terms.all()],
        "similar": max((mention.cluster.size if mention.cluster else 1) - 1, 0),
    }


TREND_FIELDS = (
    *("id", "kind", "key", "term_id", "emerging", "score", "started_at", "detected_at", "last_seen_at"),
    *("bucket_minutes", "status", "post_id"),
)


def _trend_out(trend: Trend) -> dict:
    return {
        **{name: getattr(trend, name) for name in TREND_FIELDS},
        "counts": [{"at": moment, "count": count} for moment, count in actions.trend_chart(trend)],
        "example_ids": sorted(mention.pk for mention in trend.examples.all()),
    }


def _term(request, term_id: int) -> TrackedTerm:
    return get_object_or_404(TrackedTerm, pk=term_id, workspace=request.workspace)


def _source(request, source_id: int) -> Source:
    return get_object_or_404(
        Source.objects.select_related("channel"), pk=source_id, workspace=request.workspace
    )


def _mention(request, mention_id: int) -> Mention:
    return get_object_or_404(
        Mention.objects.select_related("channel", "cluster").prefetch_related("terms"),
        pk=mention_id,
        workspace=request.workspace,
    )


def _trend(request, trend_id: int) -> Trend:
    return get_object_or_404(
        Trend.objects.prefetch_related("examples"), pk=trend_id, workspace=request.workspace
    )


# --- tracked terms -------------------------------------------------------------------------------------


@router.get("/w/{slug}/listening/terms", response=list[TermOut])
@requires("listening.view")
def list_terms(request, slug: str):
    """The tracked terms: brands, competitors, products and hashtags."""
    return [
        _term_out(t)
        for t in TrackedTerm.objects.filter(workspace=request.workspace).order_by("kind", "phrase")
    ]


@router.post("/w/{slug}/listening/terms", response={201: TermOut, 409: InvalidOut, 422: InvalidOut})
@requires("listening.manage")
def create_term(request, slug: str, payload: TermIn):
    """Track a term. `exclusions` and `languages` take a list or one item per line."""
    data = payload.model_dump(exclude_unset=True, exclude={"active"})
    try:
        term = actions.create_term(request.membership, data)
    except actions.ListeningError as error:
        return refusal(error, "term")
    return Status(201, _term_out(term))


@router.get("/w/{slug}/listening/terms/{term_id}", response=TermOut)
@requires("listening.view")
def get_term(request, slug: str, term_id: int):
    return _term_out(_term(request, term_id))


@router.patch(
    "/w/{slug}/listening/terms/{term_id}", response={200: TermOut, 409: InvalidOut, 422: InvalidOut}
)
@requires("listening.manage")
def update_term(request, slug: str, term_id: int, payload: TermIn):
    """Change the fields sent; the others keep their values."""
    term = _term(request, term_id)
    data = {**_term_out(term), **payload.model_dump(exclude_unset=True)}
    for name in ("id", "created_at"):
        data.pop(name)
    try:
        term = actions.update_term(request.membership, term, data)
    except actions.ListeningError as error:
        return refusal(error, "term")
    return _term_out(term)


@router.delete("/w/{slug}/listening/terms/{term_id}", response={204: None, 409: InvalidOut})
@requires("listening.manage")
def delete_term(request, slug: str, term_id: int):
    """Stop tracking the term; mentions already found stay."""
    try:
        actions.delete_term(request.membership, _term(request, term_id))
    except actions.ListeningError as error:
        return refusal(error, "term")
    return Status(204, None)


# --- sources -------------------------------------------------------------------------------------------


@router.get("/w/{slug}/listening/sources", response=list[SourceOut])
@requires("listening.view")
def list_sources(request, slug: str):
    """Every source with its schedule and health."""
    rows = Source.objects.filter(workspace=request.workspace).select_related("channel")
    return [_source_out(s) for s in rows.order_by("channel__name", "pk")]


@router.get("/w/{slug}/listening/source-choices", response=list[SourceChoiceOut])
@requires("listening.manage")
def source_choices(request, slug: str):
    """The channels that can still become a source, and the kind each would be."""
    return [
        {"channel_id": channel.pk, "channel": channel.name, "kind": kind}
        for channel, kind in actions.source_choices(request.workspace)
    ]


@router.post("/w/{slug}/listening/sources", response={201: SourceOut, 409: InvalidOut, 422: InvalidOut})
@requires("listening.manage")
def create_source(request, slug: str, payload: SourceIn):
    """Make a channel a source; it is polled every `interval_minutes` (default 15)."""
    try:
        source = actions.create_source(request.membership, payload.model_dump(exclude_unset=True))
    except actions.ListeningError as error:
        return refusal(error, "source")
    return Status(201, _source_out(_source(request, source.pk)))


@router.get("/w/{slug}/listening/sources/{source_id}", response=SourceOut)
@requires("listening.view")
def get_source(request, slug: str, source_id: int):
    return _source_out(_source(request, source_id))


@router.patch(
    "/w/{slug}/listening/sources/{source_id}", response={200: SourceOut, 409: InvalidOut, 422: InvalidOut}
)
@requires("listening.manage")
def update_source(request, slug: str, source_id: int, payload: SourceUpdateIn):
    """Change the interval or switch the source off (`active: false`) and on."""
    source = _source(request, source_id)
    data = {"interval_minutes": source.interval_minutes, "active": source.active}
    data.update(payload.model_dump(exclude_unset=True))
    try:
        actions.update_source(request.membership, source, data)
    except actions.ListeningError as error:
        return refusal(error, "source")
    return _source_out(_source(request, source_id))


@router.delete("/w/{slug}/listening/sources/{source_id}", response={204: None, 409: InvalidOut})
@requires("listening.manage")
def delete_source(request, slug: str, source_id: int):
    """Stop looking on this channel; mentions already found stay."""
    try:
        actions.delete_source(request.membership, _source(request, source_id))
    except actions.ListeningError as error:
        return refusal(error, "source")
    return Status(204, None)


@router.post("/w/{slug}/listening/sources/{source_id}/poll", response={200: SourceOut, 409: InvalidOut})
@requires("listening.manage")
def poll_source(request, slug: str, source_id: int):
    """Poll the source now instead of at its next time (a failing one too, without waiting for its backoff)."""
    try:
        actions.poll_now(request.membership, _source(request, source_id))
    except actions.ListeningError as error:
        return refusal(error, "source")
    return _source_out(_source(request, source_id))


# --- mentions ------------------------------------------------------------------------------------------


@router.get("/w/{slug}/listening/mentions", response={200: MentionPage, 422: InvalidOut})
@requires("listening.view")
def list_mentions(request, slug: str, filters: Query[MentionsIn]):
    """The mention stream, newest first, near-duplicates folded into their first mention (`similar`)."""
    errors = [
        error
        for error in (
            one_of("sentiment", filters.sentiment, Sentiment.values),
            one_of("status", filters.status, Mention.Status.values),
        )
        if error
    ]
    if errors:
        return invalid(*errors)
    found = list(
        actions.stream(
            request.workspace,
            sentiment=filters.sentiment,
            term_id=filters.term,
            status=filters.status,
            source_id=filters.source,
            query=filters.q.strip(),
            before_id=filters.before,
            limit=filters.limit + 1,
        )
    )
    items = found[: filters.limit]
    more = len(found) > filters.limit
    return {"items": [_mention_out(m) for m in items], "next_before": items[-1].pk if more else None}


@router.get("/w/{slug}/listening/mentions/{mention_id}", response=MentionOut)
@requires("listening.view")
def get_mention(request, slug: str, mention_id: int):
    return _mention_out(_mention(request, mention_id))


@router.post("/w/{slug}/listening/mentions/{mention_id}/handle", response={200: MentionOut, 409: InvalidOut})
@requires("listening.handle")
def handle_mention(request, slug: str, mention_id: int):
    """Mark the mention handled (again: no change)."""
    try:
        actions.mark_handled(request.membership, _mention(request, mention_id))
    except actions.ListeningError as error:
        return refusal(error, "mention")
    return _mention_out(_mention(request, mention_id))


@router.post("/w/{slug}/listening/mentions/{mention_id}/inbox", response={200: MentionOut, 409: InvalidOut})
@requires("listening.handle")
def send_mention_to_inbox(request, slug: str, mention_id: int):
    """Open a conversation in the inbox from the mention (`conversation_id`); twice: the same one."""
    try:
        actions.send_to_inbox(request.membership, _mention(request, mention_id))
    except actions.ListeningError as error:
        return refusal(error, "mention")
    return _mention_out(_mention(request, mention_id))


# --- trends, alerts, overview --------------------------------------------------------------------------


@router.get("/w/{slug}/listening/trends", response={200: list[TrendOut], 422: InvalidOut})
@requires("listening.view")
def list_trends(request, slug: str, filters: Query[TrendsIn]):
    """Trends with their counts (the chart) and example mentions, newest first."""
    error = one_of("status", filters.status, Trend.Status.values)
    if error or not filters.status:
        return invalid(error or ("status", f"one of: {', '.join(Trend.Status.values)}"))
    return [_trend_out(t) for t in actions.trends(request.workspace, filters.status)]


@router.get("/w/{slug}/listening/trends/{trend_id}", response=TrendOut)
@requires("listening.view")
def get_trend(request, slug: str, trend_id: int):
    return _trend_out(_trend(request, trend_id))


@router.post("/w/{slug}/listening/trends/{trend_id}/dismiss", response={200: TrendOut, 409: InvalidOut})
@requires("listening.manage")
def dismiss_trend(request, slug: str, trend_id: int):
    try:
        actions.dismiss_trend(request.membership, _trend(request, trend_id))
    except actions.ListeningError as error:
        return refusal(error, "trend")
    return _trend_out(_trend(request, trend_id))


@router.post(
    "/w/{slug}/listening/trends/{trend_id}/draft", response={200: TrendOut, 409: InvalidOut, 422: InvalidOut}
)
@requires("publishing.draft")
def draft_post(request, slug: str, trend_id: int):
    """Draft a post from the trend (its hashtag, the service that fits best), submitted for review;
    `post_id` names it. A trend drafted before answers with its post."""
    try:
        actions.draft_post_from_trend(request.membership, _trend(request, trend_id))
    except actions.ListeningError as error:
        return refusal(error, "trend")
    return _trend_out(_trend(request, trend_id))


@router.get("/w/{slug}/listening/alerts", response=list[AlertOut])
@requires("listening.view")
def list_alerts(request, slug: str, limit: int = Query(20, ge=1, le=100)):
    """Raised alerts, newest first: negative mentions and spikes of negative mentions."""
    return list(actions.alerts(request.workspace, limit=limit))


@router.get("/w/{slug}/listening/overview", response=OverviewOut)
@requires("listening.view")
def overview(request, slug: str):
    """Mentions and negative mentions in the last 24 hours, failing sources and new trends."""
    return actions.overview(request.workspace)
