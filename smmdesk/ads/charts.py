"""The effectiveness page's ROMI chart as server-rendered SVG: one horizontal bar per campaign, to the
right of a zero line when the campaign earned more than it cost and to the left when it lost money, with
its value written beside it. No script and no inline style (colours come from ads.css by class), and the
campaign names go through the template's autoescaping (templates/ads/_romi_chart.html draws it).

Coordinates are strings with a dot: a float put in a template would be localized ("12,5"), which SVG
cannot read.
"""

from __future__ import annotations

WIDTH, LABEL, VALUE, ROW, BAR = 520, 170, 70, 26, 16


def _at(value: float) -> str:
    return f"{value:.1f}"


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def romi_bars(rows: list[tuple[str, object, str]]) -> dict:
    """Geometry for (campaign name, ROMI as a share of 1 or None, text written beside it).

    The bars share one scale, so the longest one, gain or loss, fills its side; a campaign with no ROMI
    yet (no spend) keeps its row and its "—" with no bar, so the chart lists every campaign the table
    does."""
    values = [_number(value) for _label, value, _text in rows]
    gains = max((v for v in values if v is not None and v > 0), default=0.0)
    losses = -min((v for v in values if v is not None and v < 0), default=0.0)
    room = WIDTH - LABEL - 2 * VALUE
    span = (gains + losses) or 1.0
    zero = LABEL + VALUE + room * losses / span
    drawn = []
    for index, ((label, _value, text), value) in enumerate(zip(rows, values, strict=True)):
        y = index * ROW + (ROW - BAR) / 2
        length = room * abs(value) / span if value else 0.0
        negative = value is not None and value < 0
        start = zero - length if negative else zero
        drawn.append(
            {
                "label": str(label),
                "text": str(text),
                "y": _at(y),
                "text_y": _at(y + BAR - 3),
                "x": _at(start),
                "width": _at(length),
                "negative": negative,
                "value_x": _at(start - 6 if negative else zero + length + 6),
            }
        )
    return {
        "bars": drawn,
        "width": WIDTH,
        "height": max(len(drawn), 1) * ROW,
        "bar_height": BAR,
        "zero_x": _at(zero),
        "label_x": LABEL - 8,
    }
