"""Listening's use cases, for the pages, the API and the CLI: tracked terms, sources, the mention stream,
trends and their draft posts, alerts and the overview.

Every function taking a membership checks the member's permission itself (listening.view, .handle,
.manage; publishing.draft to draft a post) and that the object belongs to the member's workspace.
Refusals raise NotAllowed (the role may not: a 403), InvalidInput ((field, message) pairs) or
ListeningError (the object's state forbids it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import allowed
from smmdesk.channels.models import Channel
from smmdesk.listening import alerts as alerting
from smmdesk.listening import matching, sources
from smmdesk.listening.models import ListeningAlert, Mention, Sentiment, Source, TrackedTerm, Trend

PHRASE_MAX = TrackedTerm._meta.get_field("phrase").max_length
MAX_EXCLUSIONS = 50
MAX_TERMS = 200
MIN_INTERVAL, MAX_INTERVAL = 5, 1440
DEFAULT_INTERVAL = 15
STREAM_MAX = 200
TAG = re.compile(r"^#\w{1,100}$")


class ListeningError(Exception):
    """A refused use case; `field` names the input at fault, if one is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(ListeningError):
    """The member's role may not do this."""


class InvalidInput(ListeningError):
    """Refused input: (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors[0][1], errors[0][0])
        self.errors = errors


def _require(membership: Membership, permission: str, obj=None) -> None:
    if membership is None or not allowed(membership.role, permission):
        raise NotAllowed(_("Your role may not do this."))
    if obj is not None and obj.workspace_id != membership.workspace_id:
        raise NotAllowed(_("This belongs to another workspace."))


# --- tracked terms -----------------------------------------------------------------------------------


def _list(value, field: str, errors: list) -> list[str]:
    """A list of strings from a list, or from text with one item per line or comma-separated."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = re.split(r"[\n,]", value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        errors.append((field, _("Expected a list or one item per line.")))
        return []
    if not all(isinstance(item, str) for item in items):
        errors.append((field, _("Expected text.")))
        return []
    return list(dict.fromkeys(" ".join(item.split()) for item in items if item.strip()))


def _languages(workspace: Workspace) -> set[str]:
    profile = getattr(workspace, "profile", None)
    return {code for code, _name in settings.LANGUAGES} | set(getattr(profile, "languages", None) or [])


def _clean_term(workspace: Workspace, data, term: TrackedTerm | None) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput([("__all__", _("Expected an object with the term's fields."))])
    errors: list[tuple[str, str]] = []
    fields: dict = {}
    if "kind" in data or term is None:
        kind = data.get("kind") or TrackedTerm.Kind.BRAND
        if kind not in TrackedTerm.Kind.values:
            errors.append(("kind", _("Choose brand, competitor, product or hashtag.")))
        fields["kind"] = kind
    if "phrase" in data or term is None:
        phrase = data.get("phrase")
        phrase = " ".join(phrase.split()) if isinstance(phrase, str) else ""
        kind = fields.get("kind", term.kind if term else "")
        if kind == TrackedTerm.Kind.HASHTAG and phrase and not phrase.startswith("#"):
            phrase = "#" + phrase
        if not phrase or not matching.WORD.search(phrase):
            errors.append(("phrase", _("Enter a word, a name or a hashtag.")))
        elif len(phrase) > PHRASE_MAX:
            errors.append(("phrase", _("Enter at most %(count)s characters.") % {"count": PHRASE_MAX}))
        elif phrase.startswith("#") and not TAG.match(phrase):
            errors.append(("phrase", _("A hashtag is one word after the #: letters, digits and _.")))
        else:
            # Compared here, not with iexact: SQLite folds the case of ASCII letters only.
            others = TrackedTerm.objects.filter(workspace=workspace).exclude(pk=term.pk if term else None)
            if phrase.casefold() in {p.casefold() for p in others.values_list("phrase", flat=True)}:
                errors.append(("phrase", _("This phrase is tracked already.")))
        if phrase.startswith("#"):
            # A hashtag is tracked as a hashtag whatever kind was chosen.
            fields["kind"] = TrackedTerm.Kind.HASHTAG
        fields["phrase"] = phrase
    if "exclusions" in data:
        exclusions = _list(data.get("exclusions"), "exclusions", errors)
        if len(exclusions) > MAX_EXCLUSIONS:
            errors.append(
                ("exclusions", _("Enter at most %(count)s exclusions.") % {"count": MAX_EXCLUSIONS})
            )
        elif any(len(x) > PHRASE_MAX for x in exclusions):
            errors.append(
                (
                    "exclusions",
                    _("Each exclusion may have at most %(count)s characters.") % {"count": PHRASE_MAX},
                )
            )
        fields["exclusions"] = exclusions
    if "languages" in data:
        languages = _list(data.get("languages"), "languages", errors)
        unknown = [code for code in languages if code not in _languages(workspace)]
        if unknown:
            errors.append(("languages", _("Unknown language: %(code)s.") % {"code": unknown[0][:10]}))
        fields["languages"] = languages
    if "active" in data and term is not None:
        fields["active"] = bool(data.get("active"))
    if errors:
        raise InvalidInput(errors)
    return fields


def create_term(membership: Membership, data: dict) -> TrackedTerm:
    _require(membership, "listening.manage")
    workspace = membership.workspace
    fields = _clean_term(workspace, data, None)
    if TrackedTerm.objects.filter(workspace=workspace).count() >= MAX_TERMS:
        raise InvalidInput(
            [("phrase", _("A workspace tracks at most %(count)s terms.") % {"count": MAX_TERMS})]
        )
    try:
        with transaction.atomic():
            return TrackedTerm.objects.create(workspace=workspace, **fields)
    except IntegrityError:
        raise InvalidInput([("phrase", _("This phrase is tracked already."))])


def update_term(membership: Membership, term: TrackedTerm, data: dict) -> TrackedTerm:
    _require(membership, "listening.manage", term)
    fields = _clean_term(membership.workspace, data, term)
    for name, value in fields.items():
        setattr(term, name, value)
    try:
        with transaction.atomic():
            term.save(update_fields=list(fields) or None)
    except IntegrityError:
        raise InvalidInput([("phrase", _("This phrase is tracked already."))])
    return term


def delete_term(membership: Membership, term: TrackedTerm) -> None:
    _require(membership, "listening.manage", term)
    TrackedTerm.objects.filter(pk=term.pk, workspace_id=term.workspace_id).delete()


# --- sources -----------------------------------------------------------------------------------------


def source_choices(workspace: Workspace) -> list[tuple[Channel, str]]:
    """The channels that can become a source (not disabled, not one already) and the kind each gets."""
    used = Source.objects.filter(workspace=workspace).values_list("channel_id", flat=True)
    channels = (
        Channel.objects.filter(workspace=workspace)
        .exclude(status=Channel.Status.DISABLED)
        .exclude(pk__in=used)
    )
    return [(channel, kinds[0]) for channel in channels for kinds in [sources.kinds_for(channel)] if kinds]


def _interval(value, errors: list) -> int:
    if value in (None, ""):
        return DEFAULT_INTERVAL
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = None
    if minutes is None or isinstance(value, bool) or not MIN_INTERVAL <= minutes <= MAX_INTERVAL:
        errors.append(
            (
                "interval_minutes",
                _("Enter a number of minutes from %(min)s to %(max)s.")
                % {"min": MIN_INTERVAL, "max": MAX_INTERVAL},
            )
        )
        return DEFAULT_INTERVAL
    return minutes


def create_source(membership: Membership, data: dict) -> Source:
    """data: channel (id), interval_minutes; optionally kind, one of the kinds the channel can be
    (an own channel that also searches may be listened to as its comments instead)."""
    _require(membership, "listening.manage")
    if not isinstance(data, dict):
        raise InvalidInput([("__all__", _("Expected an object with the source's fields."))])
    workspace = membership.workspace
    errors: list[tuple[str, str]] = []
    value = data.get("channel")
    value = value.pk if isinstance(value, Channel) else value
    channel = Channel.objects.filter(workspace=workspace, pk=value).first() if str(value).isdigit() else None
    kinds = sources.kinds_for(channel) if channel is not None else []
    if channel is None:
        errors.append(("channel", _("Choose one of this workspace's channels.")))
    elif not kinds:
        errors.append(("channel", _("This channel cannot search or receive mentions.")))
    elif Source.objects.filter(workspace=workspace, channel=channel).exists():
        errors.append(("channel", _("This channel is a source already.")))
    kind = data.get("kind") or (kinds[0] if kinds else "")
    if kinds and kind not in kinds:
        errors.append(("kind", _("This channel cannot be that kind of source.")))
    interval = _interval(data.get("interval_minutes"), errors)
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            return Source.objects.create(
                workspace=workspace, channel=channel, kind=kind, interval_minutes=interval
            )
    except IntegrityError:
        raise InvalidInput([("channel", _("This channel is a source already."))])


def update_source(membership: Membership, source: Source, data: dict) -> Source:
    _require(membership, "listening.manage", source)
    if not isinstance(data, dict):
        raise InvalidInput([("__all__", _("Expected an object with the source's fields."))])
    errors: list[tuple[str, str]] = []
    changes: dict = {}
    if "interval_minutes" in data:
        changes["interval_minutes"] = _interval(data.get("interval_minutes"), errors)
    if errors:
        raise InvalidInput(errors)
    if "active" in data:
        active = bool(data.get("active"))
        if active != source.active:
            changes["active"] = active
            # Paused shows while off; switched on again it starts afresh and is due at once.
            changes.update(
                {"health": Source.Health.PAUSED}
                if not active
                else {"health": Source.Health.NEW, "failures": 0, "next_poll_at": None}
            )
    if changes:
        Source.objects.filter(pk=source.pk, workspace_id=source.workspace_id).update(**changes)
    return Source.objects.select_related("channel").get(pk=source.pk)


def delete_source(membership: Membership, source: Source) -> None:
    _require(membership, "listening.manage", source)
    Source.objects.filter(pk=source.pk, workspace_id=source.workspace_id).delete()


def poll_now(membership: Membership, source: Source) -> Source:
    """Make the source due at once and queue its poll (unless a poll holds it right now)."""
    _require(membership, "listening.manage", source)
    if source.kind == Source.Kind.OWN:
        raise ListeningError(_("An own channel is not polled: its comments arrive with the inbox."))
    if not source.active:
        raise ListeningError(_("The source is paused; switch it on first."))
    now = timezone.now()
    Source.objects.filter(pk=source.pk).update(next_poll_at=now)
    if sources.claim(source.pk, now):
        from smmdesk.listening.tasks import poll_source_task

        transaction.on_commit(lambda: poll_source_task(source.pk))
    return Source.objects.select_related("channel").get(pk=source.pk)


# --- the mention stream ------------------------------------------------------------------------------


def stream(
    workspace: Workspace,
    *,
    sentiment: str = "",
    term_id: int | None = None,
    status: str = "",
    source_id: int | None = None,
    query: str = "",
    before_id: int | None = None,
    limit: int = 50,
) -> list[Mention]:
    """Newest first, a cluster shown once (by its first mention; cluster.size tells how many)."""
    found = Mention.objects.filter(workspace=workspace, duplicate=False)
    if sentiment:
        found = found.filter(sentiment=sentiment)
    if term_id:
        found = found.filter(terms__id=term_id)
    if status:
        found = found.filter(status=status)
    if source_id:
        found = found.filter(source_id=source_id)
    if query and query.strip():
        found = found.filter(text__icontains=query.strip()[:200])
    if before_id:
        ref = Mention.objects.filter(workspace=workspace, pk=before_id).values("published_at", "pk").first()
        if ref is not None:
            found = found.filter(
                Q(published_at__lt=ref["published_at"])
                | Q(published_at=ref["published_at"], pk__lt=ref["pk"])
            )
    limit = max(1, min(int(limit or 50), STREAM_MAX))
    return list(
        found.select_related("source__channel", "channel", "cluster", "conversation")
        .prefetch_related("terms")
        .order_by("-published_at", "-pk")
        .distinct()[:limit]
    )


def mark_handled(membership: Membership, mention: Mention) -> Mention:
    _require(membership, "listening.handle", mention)
    Mention.objects.filter(pk=mention.pk).exclude(status=Mention.Status.HANDLED).update(
        status=Mention.Status.HANDLED, handled_by=membership, handled_at=timezone.now()
    )
    mention.refresh_from_db()
    return mention


def send_to_inbox(membership: Membership, mention: Mention):
    """The mention's conversation in the inbox, made the first time; the same one after that."""
    _require(membership, "listening.handle", mention)
    with transaction.atomic():
        row = Mention.objects.select_for_update(of=("self",)).select_related("channel").get(pk=mention.pk)
        if row.channel_id is None:
            raise ListeningError(_("The channel of this mention was deleted."))
        conversation_id = alerting.to_inbox(row)
        if conversation_id is None:
            raise ListeningError(_("This is the channel's own post; the inbox does not take it."))
    mention.refresh_from_db()
    return mention.conversation


# --- trends ------------------------------------------------------------------------------------------


def trends(workspace: Workspace, status: str = "new") -> QuerySet[Trend]:
    found = Trend.objects.filter(workspace=workspace)
    if status:
        found = found.filter(status=status)
    return found.select_related("term", "post").prefetch_related("examples")


def dismiss_trend(membership: Membership, trend: Trend) -> Trend:
    _require(membership, "listening.manage", trend)
    Trend.objects.filter(pk=trend.pk, status=Trend.Status.NEW).update(status=Trend.Status.DISMISSED)
    trend.refresh_from_db()
    return trend


def draft_post_from_trend(membership: Membership, trend: Trend):
    _require(membership, "publishing.draft", trend)
    from smmdesk.listening.drafting import draft

    return draft(membership, trend)


# --- alerts, overview, charts ------------------------------------------------------------------------


def alerts(workspace: Workspace, limit: int = 20) -> QuerySet[ListeningAlert]:
    return ListeningAlert.objects.filter(workspace=workspace).select_related("mention")[: max(0, limit)]


def overview(workspace: Workspace, now: datetime | None = None) -> dict:
    since = (now or timezone.now()) - timedelta(hours=24)
    recent = Mention.objects.filter(workspace=workspace, duplicate=False, published_at__gte=since)
    return {
        "mentions_24h": recent.count(),
        "negative_24h": recent.filter(sentiment=Sentiment.NEGATIVE).count(),
        "sources_failing": Source.objects.filter(
            workspace=workspace, active=True, health=Source.Health.FAILING
        ).count(),
        "new_trends": Trend.objects.filter(workspace=workspace, status=Trend.Status.NEW).count(),
    }


def trend_chart(trend: Trend) -> list[tuple[datetime, int]]:
    points = []
    for item in trend.counts or []:
        if not isinstance(item, list | tuple) or len(item) != 2:
            continue
        moment = parse_datetime(str(item[0]))
        if moment is None:
            continue
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        try:
            points.append((moment, int(item[1])))
        except (TypeError, ValueError):
            continue
    return points
