"""The performance page: per published variant the latest reach, likes, comments and shares, the
engagement rate, the top posts by it, and a chart of engagement per day drawn as inline SVG on the
server (no script, no chart library). The figures come from reports.performance."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import number_format
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.publishing import reports, scheduling
from smmdesk.publishing.views import render_page

VIEW = "publishing.view"
PERFORMANCE_DAYS = 30


@workspace_view(VIEW)
@require_safe
def performance(request):
    zone = scheduling.workspace_zone(request.workspace)
    today = scheduling.to_local(timezone.now(), zone).date()
    first = today - timedelta(days=PERFORMANCE_DAYS - 1)
    start, end = reports.day_range(request.workspace, first, today)
    data = reports.performance(request.workspace, start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            reports.performance_csv(request.workspace, data), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-performance.csv"'
        return response
    for row in data["rows"]:
        row["rate_pct"] = percent(row["rate"])
    return render_page(
        request,
        "publishing/performance.html",
        {
            "data": data,
            "totals_rate": percent(data["totals"]["rate"]),
            "chart": chart(data["daily"]),
            "first": first,
            "last": today,
            "tab": "performance",
        },
    )


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{number_format(rate * 100, 1, use_l10n=True)} %"


CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 720, 200, 16, 24


def chart(daily: list[dict]) -> dict:
    """Bars of engagement per day, as coordinates for an inline SVG (no script, no library)."""
    if not daily:
        return {"bars": []}
    peak = max(day["engagement"] for day in daily) or 1.0
    step = CHART_WIDTH / len(daily)
    usable = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []

    def coordinate(value: float) -> str:
        # A string: a float in a template is localized ("12,5" in Russian), which SVG cannot read.
        return f"{value:.1f}"

    for n, day in enumerate(daily):
        height = usable * day["engagement"] / peak
        bars.append(
            {
                "x": coordinate(n * step + step * 0.15),
                "y": coordinate(CHART_TOP + usable - height),
                "width": coordinate(step * 0.7),
                "height": coordinate(height),
                "day": day["day"],
                "value": day["engagement"],
                "posts": day["posts"],
                "label_x": coordinate(n * step + step / 2),
                "labelled": n % max(1, len(daily) // 10) == 0,
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        # Room either side for the first and last day's labels, centred under their bars.
        "view_width": CHART_WIDTH + 40,
        "height": CHART_HEIGHT,
        "max": peak,
        "baseline": CHART_HEIGHT - CHART_BOTTOM,
        "label_y": CHART_HEIGHT - 6,
    }


urlpatterns = [path("performance/", performance, name="performance")]
