"""The audience report page (the section's first page) and its CSV and XLSX exports.

The period is the business's days, both ends included: a preset (the last 30, 90 or 365 days ending
today in the business's time zone) or two dates. Figures come from actions.report, which also gives the
previous period of the same length; this module only formats them and works out the charts' geometry.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.audience import actions, charts
from smmdesk.audience.forms import period_form
from smmdesk.audience.views import VIEW, money, percent, render_page, signed_percent, value_label

TOP_PLACES = 5  # districts and sources shown per service; the exports have them all
CHART_PLACES = 10  # districts and sources drawn in the overall charts


def _share_rows(shares: dict[str, float], kind: str = "", limit: int | None = None) -> list[dict]:
    items = list(shares.items())
    if limit is not None:
        items = items[:limit]
    return [{"label": value_label(key, kind), "share": share, "text": percent(share)} for key, share in items]


def _share_chart(shares: dict[str, float], kind: str = "", limit: int | None = None, size=charts.WIDE):
    rows = _share_rows(shares, kind, limit)
    return charts.bars([(row["label"], row["share"], row["text"]) for row in rows], size)


def _service_rows(data: dict) -> list[dict]:
    rows = []
    for index, service in enumerate(data["services"]):
        rows.append(
            {
                **service,
                "key": index,
                "share_text": percent(service["share"]),
                "revenue_text": money(service["revenue"]),
                "revenue_share_text": percent(service["revenue_share"]),
                "change_text": signed_percent(service["change"]),
                "gender_chart": _share_chart(service["gender"], "gender", size=charts.SMALL),
                "gender_chart_id": f"service-{index}-gender",
                "age_chart": _share_chart(service["age_groups"], size=charts.SMALL),
                "age_chart_id": f"service-{index}-ages",
                "top_districts": _share_rows(service["districts"], limit=TOP_PLACES),
                "top_sources": _share_rows(service["sources"], limit=TOP_PLACES),
            }
        )
    return rows


def _charts(data: dict) -> dict:
    services = data["services"]
    return {
        "orders": charts.bars(
            [(s["service"], s["orders"], f"{s['orders']} · {percent(s['share'])}") for s in services]
        ),
        "revenue": charts.bars(
            [
                (s["service"], s["revenue"], f"{money(s['revenue'])} · {percent(s['revenue_share'])}")
                for s in services
            ]
        ),
        "gender": _share_chart(data["gender"], "gender"),
        "age_groups": _share_chart(data["age_groups"]),
        "districts": _share_chart(data["districts"], limit=CHART_PLACES),
        "sources": _share_chart(data["sources"], limit=CHART_PLACES),
    }


@workspace_view(VIEW)
@require_safe
def report(request):
    form = period_form(request)
    context = {"tab": "report", "form": form, "data": None, "query": request.GET.urlencode()}
    if not form.is_valid():
        return render_page(request, "audience/report.html", context, status=400)
    start, end = form.bounds()
    data = actions.report(request.workspace, start, end)
    previous = data["previous"]
    change = None
    if previous["total_orders"]:
        change = (data["total_orders"] - previous["total_orders"]) / previous["total_orders"]
    context.update(
        {
            "data": data,
            "start": start,
            "end": end,
            "services": _service_rows(data),
            "charts": _charts(data),
            "total_revenue": money(data["total_revenue"]),
            "previous_revenue": money(previous["total_revenue"]),
            "change_text": signed_percent(change),
        }
    )
    return render_page(request, "audience/report.html", context)


def _export(request, kind: str):
    form = period_form(request)
    if not form.is_valid():
        lines = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    start, end = form.bounds()
    data = actions.report(request.workspace, start, end)
    name = f"audience-{request.workspace.slug}-{start:%Y%m%d}-{end:%Y%m%d}.{kind}"
    if kind == "csv":
        response = HttpResponse(actions.export_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            actions.export_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@workspace_view(VIEW)
@require_safe
def report_csv(request):
    return _export(request, "csv")


@workspace_view(VIEW)
@require_safe
def report_xlsx(request):
    return _export(request, "xlsx")


urlpatterns = [
    path("", report, name="report"),
    path("report.csv", report_csv, name="report_csv"),
    path("report.xlsx", report_xlsx, name="report_xlsx"),
]
