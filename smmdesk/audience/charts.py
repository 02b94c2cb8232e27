"""The audience report's charts as server-rendered SVG: horizontal bars, each with its label and its
value written beside it. No charting script and nothing a Content Security Policy would refuse (no inline
styles; colours come from audience.css by class); every label goes through the template's autoescaping
(templates/audience/_bars.html draws what `bars` works out).

Coordinates are strings with a dot: a float put in a template is localized ("12,5" in Russian), which
SVG cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    width: int  # the whole drawing, in SVG units; it scales to the column it sits in
    label: int  # room left of the bars for the labels
    value: int  # room right of the longest bar for its value
    row: int
    bar: int


WIDE = Size(width=480, label=150, value=120, row=24, bar=16)
SMALL = Size(width=360, label=96, value=92, row=22, bar=14)


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 else 0.0


def bars(rows: list[tuple[str, object, str]], size: Size = WIDE) -> dict:
    """Geometry for one bar per row: (label, value that sets the bar's length, text written beside it).

    The longest bar fills the room; a row of zero keeps its label and value with no bar, so every row
    the table has, the chart has too."""
    values = [_number(value) for _label, value, _text in rows]
    top = max(values, default=0.0) or 1.0
    room = size.width - size.label - size.value
    drawn = []
    for index, ((label, _value, text), value) in enumerate(zip(rows, values, strict=True)):
        y = index * size.row + (size.row - size.bar) / 2
        length = room * value / top
        drawn.append(
            {
                "label": str(label),
                "text": str(text),
                "y": _coordinate(y),
                "text_y": _coordinate(y + size.bar - 3),
                "width": _coordinate(length),
                "value_x": _coordinate(size.label + length + 6),
            }
        )
    return {
        "bars": drawn,
        "width": size.width,
        "height": max(len(drawn), 1) * size.row,
        "bar_height": size.bar,
        "bar_x": size.label,
        "label_x": size.label - 8,
        "small": size is SMALL,
    }
