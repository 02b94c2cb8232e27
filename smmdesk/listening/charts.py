"""A trend's counts as a server-rendered SVG bar chart: no charting script, nothing a Content Security
Policy would refuse (no inline styles; colours come from listening.css by class), and every text in it
(the trend's key, the labels) goes through the template's autoescaping.

`geometry` works out the numbers; templates/listening/_chart.html draws them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from smmdesk.listening import actions

WIDTH, HEIGHT = 480, 150
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 14, 22  # room for the axis labels
GAP = 0.2  # of a bar's slot left empty between bars


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 else 0.0


def burst_index(times: list[datetime], started_at: datetime | None) -> int | None:
    """The bucket the burst began in: the last one starting at or before `started_at`."""
    if started_at is None or not times:
        return None
    found = None
    for index, moment in enumerate(times):
        if moment <= started_at:
            found = index
    return found if found is not None else 0


def geometry(points: list[tuple[datetime, int]], started_at: datetime | None, zone: ZoneInfo) -> dict:
    """Bars, axis labels and the burst marker for `points` (bucket start, count), in SVG units."""
    times = [moment for moment, _count in points]
    counts = [_number(count) for _moment, count in points]
    top = max(counts, default=0) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(points), 1)
    width = max(slot * (1 - GAP), 1)
    burst = burst_index(times, started_at)
    bars = []
    for index, (moment, count) in enumerate(zip(times, counts, strict=True)):
        height = plot_height * count / top
        bars.append(
            {
                "x": round(LEFT + index * slot + (slot - width) / 2, 2),
                "y": round(TOP + plot_height - height, 2),
                "width": round(width, 2),
                "height": round(height, 2),
                "count": int(count) if count == int(count) else round(count, 2),
                "label": moment.astimezone(zone).strftime("%d.%m %H:%M"),
                "burst": index == burst,
            }
        )
    marker = None
    if burst is not None and bars:
        bar = bars[burst]
        x = round(bar["x"] + bar["width"] / 2, 2)
        # The label keeps inside the frame: right-aligned near the right edge, left-aligned near the left.
        align = "end" if x > WIDTH - 40 else "start" if x < LEFT + 20 else "middle"
        marker = {"x": x, "label_y": TOP - 3, "align": align}
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "marker": marker,
        "axis": {"x1": LEFT, "x2": WIDTH - RIGHT, "y": TOP + plot_height, "top": TOP},
        "top": int(top) if top == int(top) else round(top, 2),
        "first": bars[0]["label"] if bars else "",
        "last": bars[-1]["label"] if bars else "",
        "label_y": HEIGHT - 6,
        "value_x": LEFT - 4,
        "value_top_y": TOP + 4,
        "value_zero_y": TOP + plot_height,
        "last_x": WIDTH - RIGHT,
    }


def trend_geometry(trend, zone: ZoneInfo) -> dict:
    points = actions.trend_chart(trend)
    return {**geometry(points, trend.started_at, zone), "minutes": trend.bucket_minutes}
