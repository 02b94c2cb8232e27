"""The owner's dashboard: how the business is doing today, gathered for one page load.

Blocks: the inbox's SLA status today, the sentiment of incoming messages over two weeks, the next
scheduled posts, the audience headline (orders of the last 30 days) and follower growth. Each block is
gathered only for a role that may see its section (the section's ".view" permission), so a viewer's
page never even reads the orders. Every query is bounded by the period or a limit, and a block costs a
fixed number of queries however much data there is.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import allowed
from smmdesk.inbox import reports as inbox_reports
from smmdesk.inbox import sla
from smmdesk.inbox.models import ACTIVE_STATUSES, Conversation, Message
from smmdesk.publishing.models import Post, Variant
from smmdesk.publishing.reports import headline as post_headline
from smmdesk.publishing.scheduling import workspace_zone

SENTIMENT_DAYS = 14
UPCOMING_POSTS = 5
FOLLOWER_DAYS = 30
SENTIMENTS = ("negative", "neutral", "positive")
# SVG attributes, not styles: the Content Security Policy allows them.
SENTIMENT_COLOURS = {"negative": "#c0392b", "neutral": "#aab4bf", "positive": "#2e9e5b"}
CHART_WIDTH, CHART_HEIGHT = 280, 110
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 4, 18, 6

# Which permission shows which block.
BLOCKS = {
    "sla": "inbox.view",
    "sentiment": "inbox.view",
    "upcoming": "publishing.view",
    "audience": "audience.view",
    "followers": "audience.view",
}


def url(name: str, **kwargs) -> str:
    """The page's address, or "" when its section is not installed (the block then shows no link)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def gather(workspace: Workspace, membership: Membership, now: datetime | None = None) -> dict:
    """{block name: its figures} for the blocks the member's role may see."""
    now = now or timezone.now()
    today = timezone.localtime(now, workspace_zone(workspace)).date()
    makers = {
        "sla": lambda: sla_today(workspace, now, today),
        "sentiment": lambda: sentiment_trend(workspace, today),
        "upcoming": lambda: upcoming_posts(workspace, now),
        "audience": lambda: audience_headline(workspace, today),
        "followers": lambda: follower_growth(workspace, today),
    }
    return {name: make() for name, make in makers.items() if allowed(membership.role, BLOCKS[name])}


def _day_start(workspace: Workspace, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=workspace_zone(workspace))


# --- the inbox -----------------------------------------------------------------------------------------


def sla_today(workspace: Workspace, now: datetime, today: date) -> dict:
    """Open conversations with their deadlines as they stand now, and today's first responses."""
    counts = Conversation.objects.filter(workspace=workspace, status__in=ACTIVE_STATUSES).aggregate(
        open=Count("pk"),
        breached=Count("pk", filter=sla.risk_q("breached", now)),
        at_risk=Count("pk", filter=sla.risk_q("warning", now)),
    )
    figures = inbox_reports.report(workspace, *inbox_reports.day_range(workspace, today, today))
    slug = workspace.slug
    inbox = url("inbox:list", slug=slug)
    return {
        **counts,
        "started_today": figures["conversations"],
        "first_response_median": figures["first_response"]["median"],
        "compliance": figures["sla"]["compliance"],
        "inbox_url": inbox,
        "breached_url": f"{inbox}?risk=breached" if inbox else "",
        "at_risk_url": f"{inbox}?risk=warning" if inbox else "",
    }


def sentiment_trend(workspace: Workspace, today: date, days: int = SENTIMENT_DAYS) -> dict:
    """Incoming messages per day (the business's days) and sentiment, the last `days` days."""
    first = today - timedelta(days=days - 1)
    start, end = _day_start(workspace, first), _day_start(workspace, today + timedelta(days=1))
    per_day = {first + timedelta(days=n): dict.fromkeys(SENTIMENTS, 0) for n in range(days)}
    # As in the inbox reports: the conversations' (workspace, updated_at) index finds the period's
    # conversations, then (conversation, received_at) their messages.
    rows = (
        Message.objects.filter(
            conversation__workspace=workspace,
            conversation__updated_at__gte=start,
            direction=Message.Direction.IN,
            received_at__gte=start,
            received_at__lt=end,
            sentiment__in=SENTIMENTS,
        )
        .annotate(day=TruncDate("received_at", tzinfo=workspace_zone(workspace)))
        .values("day", "sentiment")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        if row["day"] in per_day:
            per_day[row["day"]][row["sentiment"]] += row["n"]
    series = [{"day": day, **counts} for day, counts in sorted(per_day.items())]
    inbox = url("inbox:list", slug=workspace.slug)
    return {
        "days": series,
        "totals": {key: sum(row[key] for row in series) for key in SENTIMENTS},
        "chart": sentiment_chart(series),
        "negative_url": f"{inbox}?sentiment=negative" if inbox else "",
    }


def sentiment_chart(series: list[dict]) -> dict:
    """Stacked bars, one per day: negative at the bottom, where a bad day shows first. Coordinates are
    strings so no language's decimal comma reaches the SVG."""
    top = max((sum(row[key] for key in SENTIMENTS) for row in series), default=0) or 1
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    slot = (CHART_WIDTH - CHART_LEFT) / max(len(series), 1)
    width = max(slot * 0.75, 1)
    bars = []
    for index, row in enumerate(series):
        x = CHART_LEFT + index * slot + (slot - width) / 2
        base = CHART_TOP + plot_height
        parts = []
        for key in SENTIMENTS:
            height = plot_height * row[key] / top
            if height > 0:
                base -= height
                parts.append(
                    {
                        "key": key,
                        "y": f"{base:.1f}",
                        "height": f"{height:.1f}",
                        "colour": SENTIMENT_COLOURS[key],
                    }
                )
        bars.append({"x": f"{x:.1f}", "width": f"{width:.1f}", "parts": parts, "row": row})
    return {
        "width": str(CHART_WIDTH),
        "height": str(CHART_HEIGHT),
        "bars": bars,
        "top": top,
        "axis_y": str(CHART_TOP + plot_height),
        "label_y": str(CHART_HEIGHT - 4),
        "first_x": str(CHART_LEFT),
        "last_x": str(CHART_WIDTH),
        "colours": SENTIMENT_COLOURS,
    }


# --- publishing ----------------------------------------------------------------------------------------


def upcoming_posts(workspace: Workspace, now: datetime, limit: int = UPCOMING_POSTS) -> dict:
    """The next scheduled posts with the channels they go to (two queries)."""
    posts = list(
        Post.objects.filter(workspace=workspace, state=Post.State.SCHEDULED, scheduled_at__gte=now)
        .order_by("scheduled_at", "pk")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.select_related("channel").order_by("pk"))
        )[:limit]
    )
    slug = workspace.slug
    rows = []
    for post in posts:
        variants = list(post.variants.all())
        rows.append(
            {
                "headline": post_headline(post.title, variants[0].text if variants else ""),
                "scheduled_at": post.scheduled_at,
                "channels": [variant.channel.name for variant in variants],
                "url": url("publishing:post", slug=slug, post_id=post.pk),
            }
        )
    return {
        "posts": rows,
        "zone": workspace_zone(workspace).key,
        "calendar_url": url("publishing:calendar", slug=slug),
    }


# --- the audience --------------------------------------------------------------------------------------


def audience_headline(workspace: Workspace, today: date) -> dict:
    from smmdesk.audience import actions as audience_actions

    line = audience_actions.headline(workspace, today)
    before = line["orders_prev_30d"]
    change = round((line["orders_30d"] - before) / before, 4) if before else None
    return {**line, "change": change, "report_url": url("audience:report", slug=workspace.slug)}


def follower_growth(workspace: Workspace, today: date) -> dict:
    from smmdesk.audience import charts_followers, followers

    growth = followers.growth(workspace, days=FOLLOWER_DAYS, today=today)
    return {**growth, "channels": charts_followers.sparklines(growth)}
