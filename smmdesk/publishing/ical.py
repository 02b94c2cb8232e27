"""The calendar as a read-only iCalendar feed (RFC 5545) at a secret address: /publishing/ical/<token>.ics.

Anyone holding the address can read the workspace's plan, so the token is long and random, the feed
holds only the plan itself (scheduled and published posts: no drafts, nothing in review), and rotating
the token in the publishing settings makes the old address answer 404 at once.

Written by hand rather than with a library: the format needs a dozen lines of it. Times are written in
UTC ("...Z") so no VTIMEZONE block is needed; a recurring post is expanded here, run by run, at its
wall-clock time in the workspace's time zone, so a weekly 10:00 offer stays at 10:00 across a clock
change (an RRULE on a UTC start would drift by an hour).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min, Prefetch, Q
from django.http import Http404, HttpResponse
from django.http.request import split_domain_port
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from smmdesk.accounts.access import public_view
from smmdesk.accounts.models import Workspace
from smmdesk.publishing import scheduling
from smmdesk.publishing.models import Post, PublishingSettings, Variant
from smmdesk.publishing.reports import headline

PAST_DAYS = 30
FUTURE_DAYS = 365
# What the calendar shows as planned or done; drafts and posts in review are not plans yet.
SHOWN_STATES = (Post.State.SCHEDULED, Post.State.PUBLISHING, Post.State.PUBLISHED)
# Posts still to go out: a recurring one among them carries the series' plan forward.
LIVE = (Post.State.SCHEDULED, Post.State.PUBLISHING)
# An event needs a length to be visible in most calendar apps; the post itself is an instant.
EVENT_LENGTH = "PT15M"
DESCRIPTION_TEXT = 500
# A recurring post cannot produce more events than this (a daily post over the window is 366).
MAX_RUNS = 400
# Shorter than any token the settings create: refused before touching the database.
MIN_TOKEN = 20
LINE_OCTETS = 75


# --- the format ----------------------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # Other control characters are not allowed in TEXT at all (3.1); they would break a strict parser.
    value = "".join(ch for ch in value if ch == "\n" or ch == "\t" or ord(ch) >= 0x20 and ch != "\x7f")
    return value.replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character.

    Continuation lines start with a space, which counts toward their 75 octets."""
    parts: list[str] = []
    current, size = [], 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > LINE_OCTETS:
            parts.append("".join(current))
            current, size = [" "], 1
        current.append(ch)
        size += width
    parts.append("".join(current))
    return "\r\n".join(parts)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def content_lines(component: str, properties: list[tuple[str, str]]) -> list[str]:
    return [f"BEGIN:{component}", *(f"{name}:{value}" for name, value in properties), f"END:{component}"]


def serialize(lines: list[str]) -> str:
    # Every line, the last one included, ends with CRLF (3.1).
    return "".join(fold(line) + "\r\n" for line in lines)


# --- what goes in ------------------------------------------------------------------------------------


def planned_repeats(post: Post, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """The coming runs of a recurring post that exist only as a plan, from `start` to `end`.

    The publisher creates each run of a series as a post of its own when the previous one goes out, so
    the post that is scheduled now is the series' latest; the runs after it are computed the way the
    publisher will compute them (the series' first time, the same wall-clock time, up to its last day)."""
    if not post.recurrence or post.state not in LIVE or post.scheduled_at is None:
        return []
    root = post.series or post
    anchor = root.scheduled_at or post.scheduled_at
    found: list[datetime] = []
    after = post.scheduled_at
    while len(found) < MAX_RUNS:
        following = scheduling.next_occurrence(anchor, after, post.recurrence, zone, post.recurrence_until)
        if following is None or following >= end:
            break
        if following >= start:
            found.append(following)
        after = following
    return found


def _description(post: Post, variants: list[Variant], repeat: bool) -> str:
    state = _("Planned repeat") if repeat else post.get_state_display()
    lines = [
        _("Channels: %(channels)s") % {"channels": ", ".join(v.channel.name for v in variants) or "—"},
        _("State: %(state)s") % {"state": state},
    ]
    if post.campaign_id:
        lines.append(_("Campaign: %(name)s") % {"name": post.campaign.name})
    if not repeat:
        lines += [f"{v.channel.name}: {v.url}" for v in variants if v.url.startswith(("https://", "http://"))]
    text = next((v.text for v in variants if v.text.strip()), "")
    if text:
        lines += ["", text[:DESCRIPTION_TEXT] + ("…" if len(text) > DESCRIPTION_TEXT else "")]
    return "\n".join(lines)


def shown_posts(workspace: Workspace, start: datetime, end: datetime):
    """The posts the feed may show: planned or published with a time in the window, and recurring posts
    still to go out whose later runs may fall in it.

    A published post without a planned time (published at once) is placed at its first publication."""
    return (
        Post.objects.filter(workspace=workspace, state__in=SHOWN_STATES)
        .annotate(first_published=Min("variants__published_at"))
        .filter(
            Q(scheduled_at__gte=start, scheduled_at__lt=end)
            | Q(state__in=LIVE, scheduled_at__lt=end, recurrence__gt="")
            | Q(scheduled_at__isnull=True, first_published__gte=start, first_published__lt=end)
        )
        .select_related("campaign", "series")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.select_related("channel").order_by("channel__name"))
        )
        .order_by("scheduled_at", "pk")
    )


def _uid(post: Post, variants: list[Variant], moment: datetime, host: str, workspace_id: int) -> str:
    if not post.recurrence:
        return f"post-{post.pk}-w{workspace_id}@{host}"
    # A run keeps its UID from plan to post: the series' first post and the run's time, fixed on the
    # variants once the run exists (a run moved by hand keeps the time it was planned for).
    planned = next((v.occurrence for v in variants if v.occurrence), None) or moment
    return f"series-{post.series_id or post.pk}-{planned.astimezone(UTC):%Y%m%dT%H%M}-w{workspace_id}@{host}"


def _event(post: Post, variants: list[Variant], moment: datetime, uid: str, repeat: bool) -> list[str]:
    properties = [
        ("UID", uid),
        # In a published calendar (no scheduling METHOD), DTSTAMP is when the item last changed
        # (RFC 5545 3.8.7.2), so an unchanged post does not look new to the subscriber on every fetch.
        ("DTSTAMP", utc_stamp(post.updated_at)),
        ("LAST-MODIFIED", utc_stamp(post.updated_at)),
        ("DTSTART", utc_stamp(moment)),
        ("DURATION", EVENT_LENGTH),
        (
            "SUMMARY",
            escape_text(
                headline(post.title, next((v.text for v in variants if v.text.strip()), ""))
                or _("Post #%(number)s") % {"number": post.pk}
            ),
        ),
        ("DESCRIPTION", escape_text(_description(post, variants, repeat))),
        ("STATUS", "TENTATIVE" if repeat else "CONFIRMED"),
        ("TRANSP", "TRANSPARENT"),
    ]
    if post.campaign_id:
        properties.append(("CATEGORIES", escape_text(post.campaign.name)))
    return content_lines("VEVENT", properties)


def feed(workspace: Workspace, host: str, now: datetime | None = None) -> str:
    """The whole VCALENDAR for the last PAST_DAYS and the next FUTURE_DAYS."""
    now = now or timezone.now()
    start, end = now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS)
    zone = scheduling.workspace_zone(workspace)
    name = _("%(workspace)s: publishing") % {"workspace": workspace.name}
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//smmdesk//publishing calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        # RFC 7986: how often a subscriber should fetch again.
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for post in shown_posts(workspace, start, end):
        variants = list(post.variants.all())
        moment = post.scheduled_at or post.first_published
        if moment is not None and start <= moment < end:
            lines += _event(post, variants, moment, _uid(post, variants, moment, host, workspace.pk), False)
        for run in planned_repeats(post, start, end, zone):
            # The run's own time names it: the current post's variants carry the current run's.
            lines += _event(post, variants, run, _uid(post, [], run, host, workspace.pk), True)
    lines.append("END:VCALENDAR")
    return serialize(lines)


def _language(workspace: Workspace) -> str:
    # A calendar app rarely says which language it wants; the business's own language is the best guess.
    supported = {code for code, _name in settings.LANGUAGES}
    profile = getattr(workspace, "profile", None)
    for code in getattr(profile, "languages", None) or []:
        if code in supported:
            return code
    return settings.LANGUAGE_CODE


@public_view
def ical_feed(request, token: str):
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    if len(token) < MIN_TOKEN:
        raise Http404("no such calendar")
    found = PublishingSettings.objects.select_related("workspace__profile").filter(ical_token=token).first()
    if found is None:
        raise Http404("no such calendar")
    workspace = found.workspace
    with translation.override(_language(workspace)):
        # The host names the events' UIDs; without its port, so they stay put if the port changes.
        body = feed(workspace, split_domain_port(request.get_host())[0] or "smmdesk")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{workspace.slug}-publishing.ics"'
    response["Cache-Control"] = "private, max-age=300"
    # The address is the secret: keep it out of search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# Included at the site's root by smmdesk/urls.py: the address carries no workspace, only the token.
ical_urlpatterns = [path("publishing/ical/<str:token>.ics", ical_feed, name="publishing_ical")]
