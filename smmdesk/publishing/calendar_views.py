"""The content calendar: month, week and list views, their filters, and moving a post to another day.

Everything is laid out in the business's time zone: a day is the local day, from local midnight to the
next (23 or 25 hours long on a DST change), and a post sits on the local date and hour it will go out,
so a 10:00 post shows at 10:00 on both sides of a clock change. Moving a post to another day keeps its
local time of day (the week view's grid also gives the hour); the wall time becomes UTC by the same
rule as everywhere else (scheduling.to_utc).

Drag and drop (publishing.js) submits the same small form that sits beside each post for the keyboard:
a date field and a "Move" button; both go through actions.reschedule.
"""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.lib.redirects import back
from smmdesk.publishing import actions, scheduling, workflow
from smmdesk.publishing.forms import CalendarFilterForm, RescheduleForm
from smmdesk.publishing.models import Post, Variant
from smmdesk.publishing.reports import headline
from smmdesk.publishing.views import error_text, post_url, publishing_url

VIEW, DRAFT = "publishing.view", "publishing.draft"
LIST_PAGE = 50
# A post whose variants are in these states has (maybe) reached its network: it stays where it went out.
STARTED = workflow.STARTED
MOVABLE = workflow.UNAPPROVED | workflow.APPROVED_STATES


def local_midnight(day: date, zone) -> datetime:
    return scheduling.to_utc(datetime.combine(day, time.min), zone)


def _posts(workspace, start: datetime | None, end: datetime | None, filters: dict):
    posts = Post.objects.filter(workspace=workspace)
    if start is not None:
        posts = posts.filter(scheduled_at__gte=start, scheduled_at__lt=end)
    else:
        posts = posts.filter(scheduled_at__isnull=True)
    if filters.get("channel"):
        posts = posts.filter(variants__channel_id=filters["channel"]).distinct()
    if filters.get("status"):
        posts = posts.filter(state=filters["status"])
    if filters.get("campaign"):
        posts = posts.filter(campaign_id=filters["campaign"])
    return posts.select_related("campaign").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.select_related("channel").order_by("channel__name"))
    )


def _item(request, post: Post, zone, may_move: bool) -> dict:
    variants = list(post.variants.all())
    local = scheduling.to_local(post.scheduled_at, zone) if post.scheduled_at else None
    movable = (
        may_move and post.state in MOVABLE and post.scheduled_at is not None
        and not any(v.state in STARTED for v in variants)
    )  # fmt: skip
    return {
        "pk": post.pk,
        "url": post_url(request, post),
        "reschedule_url": post_url(request, post, "reschedule"),
        "title": headline(post.title, next((v.text for v in variants if v.text.strip()), ""))
        or _("Post #%(number)s") % {"number": post.pk},
        "state": post.state,
        "state_label": post.get_state_display(),
        "channels": ", ".join(v.channel.name for v in variants),
        "campaign": post.campaign.name if post.campaign else "",
        "local": local,
        "date_iso": local.date().isoformat() if local else "",
        "time": local.strftime("%H:%M") if local else "",
        "recurring": bool(post.recurrence or post.series_id),
        "movable": movable,
    }


def _context(request, view: str, filters_form: CalendarFilterForm) -> dict:
    query = request.GET.copy()
    for key in ("month", "week", "from", "page"):
        query.pop(key, None)
    return {
        "active_section": "publishing",
        "tab": "calendar",
        "view": view,
        "filters": filters_form,
        "filter_query": query.urlencode(),
        "may_move": can(request, DRAFT),
        "current_path": request.get_full_path(),
        "zone": scheduling.workspace_zone(request.workspace).key,
    }


def _today(request):
    return scheduling.to_local(timezone.now(), scheduling.workspace_zone(request.workspace)).date()


def _parse_month(value: str, today: date) -> tuple[date, bool]:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1), True
    except (ValueError, TypeError):
        return today.replace(day=1), not value


def _parse_day(value: str, today: date) -> tuple[date, bool]:
    try:
        return date.fromisoformat(value), True
    except (ValueError, TypeError):
        return today, not value


def _bucket(request, posts, zone) -> dict:
    may_move = can(request, DRAFT)
    by_key: dict = {}
    for post in posts:
        item = _item(request, post, zone, may_move)
        by_key.setdefault(item["local"].date(), []).append(item)
    return by_key


def _render(request, template: str, context: dict, month_ok: bool):
    if not month_ok:
        messages.error(request, _("That date is not valid; showing today instead."))
    with timezone.override(scheduling.workspace_zone(request.workspace)):
        return render(request, template, context, status=200 if month_ok else 400)


@workspace_view(VIEW)
@require_safe
def month_view(request):
    zone = scheduling.workspace_zone(request.workspace)
    today = _today(request)
    first, ok = _parse_month(request.GET.get("month", ""), today)
    form = CalendarFilterForm(request.GET, workspace=request.workspace)
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = local_midnight(weeks[0][0], zone), local_midnight(weeks[-1][-1] + timedelta(days=1), zone)
    by_day = _bucket(
        request, _posts(request.workspace, start, end, form.filters()).order_by("scheduled_at", "pk"), zone
    )
    context = _context(request, "month", form)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    context.update(
        month=first,
        weekdays=[day for day in weeks[0]],
        weeks=[
            [
                {
                    "date": day,
                    "iso": day.isoformat(),
                    "in_month": day.month == first.month,
                    "today": day == today,
                    "posts": by_day.get(day, []),
                }
                for day in week
            ]
            for week in weeks
        ],  # fmt: skip
        previous=previous.strftime("%Y-%m"),
        following=following.strftime("%Y-%m"),
        this_month=today.strftime("%Y-%m"),
        unscheduled=[
            _item(request, p, zone, False) for p in _posts(request.workspace, None, None, form.filters())[:20]
        ],
    )
    return _render(request, "publishing/calendar_month.html", context, ok)


@workspace_view(VIEW)
@require_safe
def week_view(request):
    zone = scheduling.workspace_zone(request.workspace)
    today = _today(request)
    anchor, ok = _parse_day(request.GET.get("week", ""), today)
    monday = anchor - timedelta(days=anchor.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    form = CalendarFilterForm(request.GET, workspace=request.workspace)
    start, end = local_midnight(days[0], zone), local_midnight(days[-1] + timedelta(days=1), zone)
    posts = _posts(request.workspace, start, end, form.filters()).order_by("scheduled_at", "pk")
    may_move = can(request, DRAFT)
    cells: dict = {}
    for post in posts:
        item = _item(request, post, zone, may_move)
        cells.setdefault((item["local"].date(), item["local"].hour), []).append(item)
    context = _context(request, "week", form)
    context.update(
        days=[{"date": day, "iso": day.isoformat(), "today": day == today} for day in days],
        hours=[
            {
                "hour": hour,
                "label": f"{hour:02d}:00",
                "cells": [{"iso": day.isoformat(), "posts": cells.get((day, hour), [])} for day in days],
            }
            for hour in range(24)
        ],
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
        this_week=today.isoformat(),
        monday=monday,
        sunday=days[-1],
    )
    return _render(request, "publishing/calendar_week.html", context, ok)


@workspace_view(VIEW)
@require_safe
def list_view(request):
    zone = scheduling.workspace_zone(request.workspace)
    today = _today(request)
    first, ok = _parse_day(request.GET.get("from", ""), today)
    form = CalendarFilterForm(request.GET, workspace=request.workspace)
    start = local_midnight(first, zone)
    # Far enough for any plan; the page, not the range, bounds the work.
    end = local_midnight(first + timedelta(days=3660), zone)
    posts = _posts(request.workspace, start, end, form.filters()).order_by("scheduled_at", "pk")
    page = Paginator(posts, LIST_PAGE).get_page(request.GET.get("page"))
    may_move = can(request, DRAFT)
    days: list[dict] = []
    for post in page.object_list:
        item = _item(request, post, zone, may_move)
        if not days or days[-1]["date"] != item["local"].date():
            days.append({"date": item["local"].date(), "iso": item["date_iso"], "posts": []})
        days[-1]["posts"].append(item)
    context = _context(request, "list", form)
    context.update(
        days=days,
        page=page,
        first=first,
        unscheduled=[
            _item(request, p, zone, False) for p in _posts(request.workspace, None, None, form.filters())[:50]
        ]
        if page.number == 1
        else [],
    )
    return _render(request, "publishing/calendar_list.html", context, ok)


@workspace_view(VIEW, write=DRAFT)
@require_POST
def reschedule(request, post_id):
    post = get_object_or_404(Post, pk=post_id, workspace=request.workspace)
    form = RescheduleForm(request.POST)
    default = publishing_url(request, "calendar")
    if not form.is_valid():
        messages.error(request, error_text(form))
        return back(request, default)
    when = form.moment(post, request.workspace)
    if when is None:
        messages.error(request, _("Time: this post has no time yet; enter one."))
        return back(request, default)
    try:
        actions.reschedule(request.membership, post, when)
    except workflow.PublishingError as error:
        messages.error(request, error.message)
        return back(request, default)
    local = scheduling.to_local(when, scheduling.workspace_zone(request.workspace))
    messages.success(
        request,
        _("“%(title)s” moved to %(when)s.")
        % {
            "title": headline(post.title, "") or _("Post #%(number)s") % {"number": post.pk},
            "when": local.strftime("%d.%m.%Y %H:%M"),
        },
    )
    return back(request, default)


urlpatterns = [
    path("", month_view, name="calendar"),
    path("week/", week_view, name="calendar_week"),
    path("list/", list_view, name="calendar_list"),
    path("posts/<int:post_id>/reschedule/", reschedule, name="post_reschedule"),
]
