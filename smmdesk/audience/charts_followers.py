"""Follower growth as server-rendered SVG sparklines: one small line per channel, for the dashboard and
the weekly PDF. No charting script, nothing a Content Security Policy refuses (colours are SVG
attributes, not styles), and every name in them goes through the template's autoescaping.

Coordinates are returned as strings: a template in Russian or Slovak would print 3.5 as "3,5", which
SVG does not read.
"""

from __future__ import annotations

from datetime import date

WIDTH, HEIGHT = 160, 40
PAD = 4  # room for the end dot's radius


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def sparkline(points: list[tuple[date, int]], start: date, end: date, width=WIDTH, height=HEIGHT) -> dict:
    """The line through `points` (day, followers) between `start` and `end`, scaled to its own lowest and
    highest value, so a channel of 300 shows its growth as clearly as one of 30,000."""
    span = max((end - start).days, 1)
    values = [value for _day, value in points]
    low, high = min(values, default=0), max(values, default=0)
    inner_w, inner_h = width - 2 * PAD, height - 2 * PAD
    coords = []
    for day, value in points:
        x = PAD + inner_w * min(max((day - start).days, 0), span) / span
        # A flat series runs through the middle rather than along an edge.
        y = PAD + inner_h * ((high - value) / (high - low) if high > low else 0.5)
        coords.append((x, y))
    last = coords[-1] if coords else (PAD, PAD + inner_h / 2)
    return {
        "width": str(width),
        "height": str(height),
        "path": " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords),
        "dot_x": _fmt(last[0]),
        "dot_y": _fmt(last[1]),
        "low": low,
        "high": high,
        "rising": bool(values) and values[-1] >= values[0],
    }


def sparklines(growth: dict) -> list[dict]:
    """followers.growth's channel rows, each with its sparkline under "chart"."""
    return [
        {**row, "chart": sparkline(row["points"], growth["start"], growth["end"])}
        for row in growth["channels"]
    ]
