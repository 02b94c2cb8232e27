"""The weekly report to a workspace's owners: last week's inbox service (SLA compliance, response times,
the departments customers needed most), sentiment, follower growth, the best posts and the orders by
service, as an HTML e-mail (with a plain-text part) and a PDF attached to it.

A week runs Monday to Sunday in the workspace's time zone. The hourly task sends last week's report once
the workspace's own clock says Monday 08:00 or later; a WeeklyReport row per week is claimed (sent_at set
by a conditional UPDATE) before anything is sent, so however often the task runs, each owner gets one
e-mail a week. Each owner reads it in their own language.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import Role
from smmdesk.audience import followers
from smmdesk.audience.models import WeeklyReport
from smmdesk.inbox import reports as inbox_reports
from smmdesk.inbox.models import Conversation
from smmdesk.publishing import reports as post_reports
from smmdesk.publishing.scheduling import workspace_zone

logger = logging.getLogger(__name__)

SEND_WEEKDAY = 0  # Monday
SEND_HOUR = 8
TOP_DEPARTMENTS = 5
TOP_TAGS = 3
TOP_POSTS = 5
TOP_DISTRICTS = 5
SENTIMENTS = ("negative", "neutral", "positive")


class NotSent(Exception):
    """No owner's e-mail went out; the week stays unsent so the next hourly run tries again."""


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def last_complete_week(workspace: Workspace, now: datetime | None = None) -> date:
    local = timezone.localtime(now or timezone.now(), workspace_zone(workspace)).date()
    return week_of(local) - timedelta(days=7)


def due(now: datetime | None = None) -> list[tuple[int, date]]:
    """(workspace id, week start) for every workspace whose clock says Monday, SEND_HOUR or later, and
    whose last week has not been sent."""
    now = now or timezone.now()
    candidates: dict[int, date] = {}
    for workspace in Workspace.objects.select_related("profile"):
        local = timezone.localtime(now, workspace_zone(workspace))
        if local.weekday() == SEND_WEEKDAY and local.hour >= SEND_HOUR:
            candidates[workspace.pk] = week_of(local.date()) - timedelta(days=7)
    sent = set(
        WeeklyReport.objects.filter(workspace_id__in=list(candidates), sent_at__isnull=False).values_list(
            "workspace_id", "week_start"
        )
    )
    return [(pk, week) for pk, week in sorted(candidates.items()) if (pk, week) not in sent]


# --- the week's figures ------------------------------------------------------------------------------


def build(workspace: Workspace, week_start: date) -> dict:
    """Everything the e-mail and the PDF show, as numbers and names (labels are the templates' job, in
    the reader's language)."""
    from smmdesk.audience import actions as audience_actions

    week_start = week_of(week_start)
    week_end = week_start + timedelta(days=6)
    start, end = inbox_reports.day_range(workspace, week_start, week_end)
    inbox = inbox_reports.report(workspace, start, end)
    before = inbox_reports.report(workspace, start - timedelta(days=7), start)
    posts = post_reports.performance(workspace, start, end, top=TOP_POSTS)
    orders = audience_actions.report(workspace, week_start, week_end)
    profile = getattr(workspace, "profile", None)
    return {
        "workspace": workspace.name,
        "business": getattr(profile, "name", "") or workspace.name,
        "city": getattr(profile, "city", ""),
        "currency": getattr(profile, "currency", ""),
        "week_start": week_start,
        "week_end": week_end,
        "sla": _sla(inbox, before),
        "departments": _departments(workspace, inbox, start, end),
        "sentiment": _sentiment(inbox, before),
        # Eight days: last Sunday's reading is where the week's change starts from.
        "followers": followers.growth(workspace, days=8, today=week_end),
        "posts": {"totals": posts["totals"], "top": posts["top"]},
        "orders": _orders(orders),
    }


def _sla(inbox: dict, before: dict) -> dict:
    return {
        "conversations": inbox["conversations"],
        "resolved": inbox["resolved"],
        "messages_in": inbox["messages_in"],
        "replies": inbox["replies"],
        "compliance": inbox["sla"]["compliance"],
        "breached": inbox["sla"]["breached"],
        "first_response": inbox["first_response"],
        "resolution": inbox["resolution"],
        "previous": {
            "conversations": before["conversations"],
            "compliance": before["sla"]["compliance"],
            "first_response_median": before["first_response"]["median"],
        },
    }


def _departments(workspace: Workspace, inbox: dict, start: datetime, end: datetime) -> list[dict]:
    """The departments customers needed most last week, with what they most often came about (the
    conversations' tags)."""
    tags: dict[int | None, Counter] = defaultdict(Counter)
    rows = Conversation.objects.filter(
        workspace=workspace, updated_at__gte=start, created_at__gte=start, created_at__lt=end
    ).values_list("department_id", "tags")
    for department_id, conversation_tags in rows.iterator(chunk_size=5000):
        for tag in conversation_tags or []:
            if isinstance(tag, str) and tag.strip():
                tags[department_id][tag.strip()] += 1
    busy = sorted(
        (row for row in inbox["departments"] if row["conversations"]),
        key=lambda row: (-row["conversations"], row["id"] is None, row["name"].casefold()),
    )
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "conversations": row["conversations"],
            "messages": row["messages"],
            "compliance": row["sla"]["compliance"],
            "first_response_median": row["first_response"]["median"],
            "tags": tags[row["id"]].most_common(TOP_TAGS),
        }
        for row in busy[:TOP_DEPARTMENTS]
    ]


def _sentiment(inbox: dict, before: dict) -> list[dict]:
    def counts(data: dict) -> dict[str, int]:
        return {row["key"]: row["messages"] for row in data["sentiments"] if row["key"] in SENTIMENTS}

    now, then = counts(inbox), counts(before)
    total = sum(now.values())
    return [
        {
            "key": key,
            "messages": now.get(key, 0),
            "share": round(now.get(key, 0) / total, 4) if total else None,
            "previous": then.get(key, 0),
        }
        for key in SENTIMENTS
    ]


def _orders(data: dict) -> dict:
    named = [(name, part) for name, part in data.get("districts", {}).items() if name]
    top_districts = sorted(named, key=lambda item: -item[1])[:TOP_DISTRICTS]
    return {
        "total": data["total_orders"],
        "revenue": data["total_revenue"],
        "clients": data.get("clients"),
        "previous_total": data["previous"]["total_orders"],
        "services": [
            {
                "service": row["service"],
                "orders": row["orders"],
                "share": row["share"],
                "revenue": row["revenue"],
                "change": row["change"],
            }
            for row in data["services"]
        ],
        "districts": top_districts,
    }


# --- rendering ---------------------------------------------------------------------------------------


def language_for(user, workspace: Workspace) -> str:
    """The reader's language, else the business's first one we have, else the site's."""
    known = [code for code, _name in settings.LANGUAGES]
    if user is not None and user.language in known:
        return user.language
    profile = getattr(workspace, "profile", None)
    for code in getattr(profile, "languages", None) or []:
        if code in known:
            return code
    return settings.LANGUAGE_CODE


def subject(data: dict) -> str:
    first = formats.date_format(data["week_start"], "SHORT_DATE_FORMAT")
    last = formats.date_format(data["week_end"], "SHORT_DATE_FORMAT")
    text = _("%(business)s: weekly report, %(first)s – %(last)s") % {
        "business": data["business"],
        "first": first,
        "last": last,
    }
    # A header never carries a line break, whatever the business is called.
    return " ".join(text.split())[:200]


def render_email(data: dict, language: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) in `language`."""
    with translation.override(language):
        context = {"data": data, "language": language}
        return (
            subject(data),
            render_to_string("audience/email/weekly.txt", context),
            render_to_string("audience/email/weekly.html", context),
        )


def file_name(workspace: Workspace, week_start: date) -> str:
    return f"weekly-{workspace.slug}-{week_start.isoformat()}.pdf"


# --- sending -----------------------------------------------------------------------------------------


def owners(workspace: Workspace) -> list[Membership]:
    return list(
        Membership.objects.filter(
            workspace=workspace, role=Role.OWNER, user__is_active=True, user__email__gt=""
        )
        .select_related("user")
        .order_by("pk")
    )


def send_for(workspace_id: int, week_start: str | date) -> WeeklyReport | None:
    """The task's body: send one workspace's week unless it went out already."""
    workspace = Workspace.objects.select_related("profile").filter(pk=workspace_id).first()
    if workspace is None:
        return None
    if isinstance(week_start, str):
        week_start = date.fromisoformat(week_start)
    return send(workspace, week_start)


def send(workspace: Workspace, week_start: date) -> WeeklyReport | None:
    """Claim the week, then e-mail each owner the report with its PDF. None when the week was claimed
    already (sent, or being sent by another worker)."""
    week_start = week_of(week_start)
    report, _created = WeeklyReport.objects.get_or_create(workspace=workspace, week_start=week_start)
    now = timezone.now()
    if not WeeklyReport.objects.filter(pk=report.pk, sent_at__isnull=True).update(sent_at=now):
        return None
    try:
        recipients = _deliver(workspace, week_start)
    except Exception:
        # Nothing went out (figures that failed to build, a mail server down): the next run tries again.
        WeeklyReport.objects.filter(pk=report.pk, sent_at=now).update(sent_at=None)
        raise
    WeeklyReport.objects.filter(pk=report.pk).update(recipients=recipients)
    report.refresh_from_db()
    return report


def _deliver(workspace: Workspace, week_start: date) -> list[str]:
    members = owners(workspace)
    if not members:
        return []
    from smmdesk.audience import weekly_pdf

    data = build(workspace, week_start)
    rendered: dict[str, tuple[str, str, str, bytes]] = {}
    sent: list[str] = []
    for member in members:
        language = language_for(member.user, workspace)
        if language not in rendered:
            rendered[language] = (*render_email(data, language), weekly_pdf.render(data, language))
        title, text, html, pdf = rendered[language]
        message = EmailMultiAlternatives(
            subject=title, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[member.user.email]
        )
        message.attach_alternative(html, "text/html")
        message.attach(file_name(workspace, week_start), pdf, "application/pdf")
        try:
            message.send()
        except (OSError, smtplib.SMTPException, ValueError) as exc:  # ValueError: a header Django refuses
            logger.warning("weekly report to owner %s of %s failed: %s", member.pk, workspace.slug, exc)
            continue
        sent.append(member.user.email)
    if not sent:
        raise NotSent(f"weekly report {workspace.slug} {week_start}: no e-mail went out")
    return sent
