"""After the draw (and while it runs): entries over time as a small server-side SVG chart, new members
during the contest, and the post's reach.

"New members" is a proxy, since no network tells when someone joined: entrants the network reports as
members or subscribers, first seen on the post within the contest's period, who were not members among
the entrants of any earlier contest of the workspace on the same network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from smmdesk.contests.entries import MEMBER_KINDS
from smmdesk.contests.models import Contest, Entrant
from smmdesk.publishing import reports
from smmdesk.publishing.models import Variant
from smmdesk.publishing.scheduling import workspace_zone

WIDTH, HEIGHT, PAD = 600, 180, 30
MAX_DAYS = 120


@dataclass
class Chart:
    days: list[tuple[date, int, int]]  # (day, entrants so far, eligible so far)
    all_points: str
    eligible_points: str
    top: int
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD

    @property
    def first(self) -> date:
        return self.days[0][0]

    @property
    def last(self) -> date:
        return self.days[-1][0]

    @property
    def baseline(self) -> int:
        return HEIGHT - PAD

    @property
    def right(self) -> int:
        return WIDTH - PAD

    @property
    def label_y(self) -> int:
        return HEIGHT - 8

    @property
    def top_label_y(self) -> int:
        return PAD + 4


def _first_action(row: Entrant) -> datetime:
    return row.entered_at or row.first_seen_at


def _points(values: list[int], top: int) -> str:
    span = max(len(values) - 1, 1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    return " ".join(
        f"{PAD + inner_w * i / span:.1f},{HEIGHT - PAD - inner_h * v / max(top, 1):.1f}"
        for i, v in enumerate(values)
    )


def entries_chart(contest: Contest) -> Chart | None:
    """Cumulative entrants (and eligible ones) per day of the contest, in the business's days."""
    rows = list(contest.entrants.filter(present=True))
    if not rows:
        return None
    zone = workspace_zone(contest.workspace)
    end_moment = contest.closed_at or min(contest.closes_at, timezone.now())
    start = min(contest.opens_at, *(_first_action(r) for r in rows)).astimezone(zone).date()
    end = max(end_moment.astimezone(zone).date(), start)
    start = max(start, end - timedelta(days=MAX_DAYS - 1))
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    firsts = sorted((_first_action(r).astimezone(zone).date(), r.eligible) for r in rows)
    series, seen, good, index = [], 0, 0, 0
    for day in days:
        while index < len(firsts) and firsts[index][0] <= day:
            seen, good, index = seen + 1, good + firsts[index][1], index + 1
        series.append((day, seen, good))
    top = max(seen for _d, seen, _g in series)
    return Chart(
        days=series,
        all_points=_points([s for _d, s, _g in series], top),
        eligible_points=_points([g for _d, _s, g in series], top),
        top=top,
    )


def _is_member(kinds) -> bool:
    return bool(set(kinds or []) & MEMBER_KINDS)


def new_members(contest: Contest) -> int:
    end = contest.closed_at or contest.closes_at
    during = {
        row.author_id
        for row in contest.entrants.filter(present=True, first_seen_at__lte=end)
        if _is_member(row.kinds) and (row.entered_at or row.first_seen_at) >= contest.opens_at
    }
    earlier = Entrant.objects.filter(
        contest__workspace_id=contest.workspace_id,
        contest__network=contest.network,
        contest__created_at__lt=contest.created_at,
        author_id__in=list(during),
    ).exclude(contest_id=contest.pk)
    known = {row.author_id for row in earlier.only("author_id", "kinds") if _is_member(row.kinds)}
    return len(during - known)


def post_variant(contest: Contest) -> Variant | None:
    if contest.variant_id:
        return contest.variant
    if contest.channel_id is None:
        return None
    return (
        Variant.objects.filter(
            channel=contest.channel, external_id=contest.post_external_id, state=Variant.State.PUBLISHED
        )
        .order_by("-pk")
        .first()
    )


def reach(contest: Contest) -> reports.Figures | None:
    """The post's latest figures (reach, likes, comments, shares) if smmdesk published and measured it."""
    variant = post_variant(contest)
    if variant is None:
        return None
    return reports.figures(reports.latest_metrics([variant.pk]).get(variant.pk, {}))


def summary(contest: Contest) -> dict:
    rows = contest.entrants.all()
    return {
        "entrants": rows.filter(present=True).count(),
        "eligible": rows.filter(eligible=True).count(),
        "refused": rows.filter(eligible=False).count(),
        "new_members": new_members(contest),
        "chart": entries_chart(contest),
        "reach": reach(contest),
    }
