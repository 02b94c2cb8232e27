"""Post performance: reach, likes, comments and shares per published variant, engagement rate, top posts,
a day-by-day series for the chart, and the same table as CSV.

The metrics sync stores counters as a time series (one VariantMetric per name and measurement); a
counter only grows, so a variant's figure is its latest value. Networks name the same thing differently
(VK and X say "views", Facebook "reach"; most say "reposts" for shares), so each figure reads the first of
its names that the variant has.

Engagement rate = (likes + comments + shares) / reach, only where the network reports a reach; a
network that does not (Mastodon, Bluesky, Instagram here) shows engagement as counts and no rate rather
than a made-up one.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from smmdesk.accounts.models import Workspace
from smmdesk.lib.spreadsheet import safe_cell
from smmdesk.publishing.models import Post, Variant, VariantMetric
from smmdesk.publishing.scheduling import workspace_zone

REACH_NAMES = ("reach", "views", "impressions")
LIKE_NAMES = ("likes",)
COMMENT_NAMES = ("comments",)
SHARE_NAMES = ("shares", "reposts")
# A longer period would make one page load sum up years of posts.
MAX_DAYS = 366
TOP_POSTS = 10
HEADLINE_WORDS = 8
HEADLINE_CHARS = 60
# SQLite refuses more than 999 parameters in one query on old builds.
CHUNK = 500


@dataclass(frozen=True)
class Figures:
    reach: float | None
    likes: float
    comments: float
    shares: float

    @property
    def engagement(self) -> float:
        return self.likes + self.comments + self.shares

    @property
    def rate(self) -> float | None:
        """Engagement per person reached, 0..1 (more than 1 when people interact several times)."""
        if not self.reach:
            return None
        return self.engagement / self.reach


def headline(title: str, text: str) -> str:
    """What a list or a calendar calls a post: its internal name, or the first words of its text."""
    if title.strip():
        return title.strip()
    words = text.split()
    short = " ".join(words[:HEADLINE_WORDS])
    if len(short) > HEADLINE_CHARS:
        return short[: HEADLINE_CHARS - 1].rstrip() + "…"
    return short + ("…" if len(words) > HEADLINE_WORDS else "")


def latest_metrics(variant_ids) -> dict[int, dict[str, float]]:
    """{variant id: {metric name: its latest value}}."""
    ids = list(variant_ids)
    latest: dict[int, dict[str, float]] = defaultdict(dict)
    for start in range(0, len(ids), CHUNK):
        rows = (
            VariantMetric.objects.filter(variant_id__in=ids[start : start + CHUNK])
            .order_by("variant_id", "name", "measured_at", "pk")
            .values_list("variant_id", "name", "value")
        )
        for variant_id, name, value in rows:
            latest[variant_id][name] = value  # ordered by time: the last one wins
    return latest


def _first(values: dict[str, float], names: tuple[str, ...]) -> float | None:
    for name in names:
        if name in values:
            return values[name]
    return None


def figures(values: dict[str, float]) -> Figures | None:
    """The variant's figures, or None when it was never measured."""
    if not values:
        return None
    reach = _first(values, REACH_NAMES)
    return Figures(
        reach=reach if reach and reach > 0 else None,
        likes=_first(values, LIKE_NAMES) or 0.0,
        comments=_first(values, COMMENT_NAMES) or 0.0,
        shares=_first(values, SHARE_NAMES) or 0.0,
    )


def day_range(workspace: Workspace, first: date, last: date) -> tuple[datetime, datetime]:
    zone = workspace_zone(workspace)
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


def published_variants(workspace: Workspace, start: datetime, end: datetime, channel=None, campaign=None):
    variants = Variant.objects.filter(
        post__workspace=workspace,
        state=Variant.State.PUBLISHED,
        published_at__gte=start,
        published_at__lt=end,
    )
    if channel is not None:
        variants = variants.filter(channel_id=channel)
    if campaign is not None:
        variants = variants.filter(post__campaign_id=campaign)
    return variants.select_related("post", "channel").order_by("-published_at", "pk")


def _row(variant: Variant, found: Figures | None) -> dict:
    return {
        "variant_id": variant.pk,
        "post_id": variant.post_id,
        "headline": headline(variant.post.title, variant.text),
        "channel_id": variant.channel_id,
        "channel": variant.channel.name,
        "published_at": variant.published_at,
        "url": variant.url if variant.url.startswith(("https://", "http://")) else "",
        "measured": found is not None,
        "reach": found.reach if found else None,
        "likes": found.likes if found else 0.0,
        "comments": found.comments if found else 0.0,
        "shares": found.shares if found else 0.0,
        "engagement": found.engagement if found else 0.0,
        "rate": found.rate if found else None,
    }


def performance(
    workspace: Workspace,
    start: datetime,
    end: datetime,
    *,
    channel: int | None = None,
    campaign: int | None = None,
    top: int = TOP_POSTS,
) -> dict:
    """The table (one row per published variant, newest first), the totals, the top posts by engagement
    rate and the day-by-day series, for variants published from `start` to `end`."""
    variants = list(published_variants(workspace, start, end, channel, campaign))
    metrics = latest_metrics(v.pk for v in variants)
    rows = [_row(v, figures(metrics.get(v.pk, {}))) for v in variants]
    with_reach = [r for r in rows if r["reach"]]
    reach_sum = sum(r["reach"] for r in with_reach)
    totals = {
        "variants": len(rows),
        "measured": sum(1 for r in rows if r["measured"]),
        "reach": reach_sum if with_reach else None,
        "likes": sum(r["likes"] for r in rows),
        "comments": sum(r["comments"] for r in rows),
        "shares": sum(r["shares"] for r in rows),
        "engagement": sum(r["engagement"] for r in rows),
        # Pooled over the variants with a reach, so a post seen by ten people cannot outweigh one seen
        # by ten thousand, as an average of rates would let it.
        "rate": sum(r["engagement"] for r in with_reach) / reach_sum if reach_sum else None,
    }
    ranked = sorted(with_reach, key=lambda r: (-r["rate"], -r["engagement"], -r["variant_id"]))
    return {
        "start": start,
        "end": end,
        "rows": rows,
        "totals": totals,
        "top": ranked[:top],
        "daily": daily_series(workspace, rows, start, end),
    }


def daily_series(workspace: Workspace, rows: list[dict], start: datetime, end: datetime) -> list[dict]:
    """Per day of the period (in the business's time zone): posts published, reach and engagement."""
    zone = workspace_zone(workspace)
    first, last = (
        timezone.localtime(start, zone).date(),
        timezone.localtime(end - timedelta(microseconds=1), zone).date(),
    )
    days = {
        first + timedelta(days=n): {"posts": 0, "reach": 0.0, "engagement": 0.0}
        for n in range((last - first).days + 1)
    }
    for row in rows:
        day = days.get(timezone.localtime(row["published_at"], zone).date())
        if day is None:
            continue
        day["posts"] += 1
        day["reach"] += row["reach"] or 0.0
        day["engagement"] += row["engagement"]
    return [{"day": day, **values} for day, values in sorted(days.items())]


CSV_COLUMNS = (
    *("published_at", "channel", "post_id", "headline", "url", "reach", "likes", "comments", "shares"),
    *("engagement", "engagement_rate"),
)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}"


def performance_csv(workspace: Workspace, data: dict) -> str:
    """The table as CSV, one row per published variant, times in the business's time zone; text cells
    that a spreadsheet would run as a formula are quoted (safe_cell)."""
    zone = workspace_zone(workspace)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in data["rows"]:
        writer.writerow(
            [
                timezone.localtime(row["published_at"], zone).strftime("%Y-%m-%d %H:%M"),
                safe_cell(row["channel"]),
                row["post_id"],
                safe_cell(row["headline"]),
                safe_cell(row["url"]),
                *(_number(row[name]) for name in ("reach", "likes", "comments", "shares", "engagement")),
                "" if row["rate"] is None else f"{row['rate']:.4f}",
            ]
        )
    return out.getvalue()


def post_figures(post: Post) -> dict[int, dict]:
    """{variant id: its figures as a dict} for one post's published variants (the post page's panel)."""
    variants = list(post.variants.filter(state=Variant.State.PUBLISHED))
    metrics = latest_metrics(v.pk for v in variants)
    result = {}
    for variant in variants:
        found = figures(metrics.get(variant.pk, {}))
        result[variant.pk] = (
            {**asdict(found), "engagement": found.engagement, "rate": found.rate} if found else {}
        )
    return result
