"""The inbox reports page and its CSV export (owner and SMM manager: "inbox.manage")."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.inbox import reports

PRESETS = {"7": 7, "30": 30, "90": 90}
DEFAULT_PERIOD = "30"

# Chart geometry in SVG user units; the SVG scales to the width of the page's main column.
WIDTH = 900
ROW = 26
BAR_HEIGHT = 18
LABEL_WIDTH = 230
BAR_SPACE = 580


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("custom", _("Dates below")),
        ],
        required=False,
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        period = data.get("period") or DEFAULT_PERIOD
        data["period"] = period
        if period != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Choose the first day."))
        if end is None and "end" not in self.errors:
            self.add_error("end", _("Choose the last day."))
        if start and end:
            if end < start:
                self.add_error("end", _("The last day cannot be before the first day."))
            elif (end - start).days >= reports.MAX_DAYS:
                self.add_error("end", _("Choose at most %(days)d days.") % {"days": reports.MAX_DAYS})
        return data

    def bounds(self, workspace):
        data = self.cleaned_data
        if data["period"] == "custom":
            return reports.day_range(workspace, data["start"], data["end"])
        return reports.last_days(PRESETS[data["period"]])


def _period_form(request) -> PeriodForm:
    form = PeriodForm(request.GET or {"period": DEFAULT_PERIOD})
    form.is_valid()
    return form


def bar_chart(rows: list[dict], value, label: str = "name") -> dict:
    """Bars for a server-rendered SVG: no charting script, and nothing a CSP would refuse."""
    values = []
    for row in rows:
        number = value(row) if callable(value) else row[value]
        values.append((str(row[label]), number))
    top = max((number or 0 for _name, number in values), default=0) or 1
    bars = []
    for index, (name, number) in enumerate(values):
        y = index * ROW
        width = round(BAR_SPACE * (number or 0) / top, 1)
        bars.append(
            {
                "label": name,
                "value": number,
                "y": y,
                "text_y": y + BAR_HEIGHT - 4,
                "width": width,
                "value_x": LABEL_WIDTH + width + 6,
            }
        )
    return {
        "bars": bars,
        "height": max(len(bars) * ROW, ROW),
        "width": WIDTH,
        "bar_height": BAR_HEIGHT,
        "bar_x": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
    }


def charts(data: dict) -> dict:
    departments = data["departments"]
    return {
        "department_volume": bar_chart(departments, "conversations"),
        "department_first_response": bar_chart(departments, lambda row: row["first_response"]["median"]),
        "department_resolution": bar_chart(departments, lambda row: row["resolution"]["median"]),
        "channel_volume": bar_chart(data["channels"], "messages"),
        "sentiment_volume": bar_chart(data["sentiments"], "messages"),
        "agent_replies": bar_chart(data["agents"], "replies"),
    }


@workspace_view("inbox.manage")
@require_safe
def report_page(request):
    form = _period_form(request)
    data = None
    if form.is_valid():
        start, end = form.bounds(request.workspace)
        data = reports.report(request.workspace, start, end)
    context = {
        "form": form,
        "report": data,
        "charts": charts(data) if data else None,
        "csv_query": request.GET.urlencode(),
        "zone": reports.workspace_zone(request.workspace),
        "active_section": "inbox",
    }
    return render(request, "inbox/reports/report.html", context, status=200 if data else 400)


@workspace_view("inbox.manage")
@require_safe
def report_csv(request):
    form = _period_form(request)
    if not form.is_valid():
        lines = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    start, end = form.bounds(request.workspace)
    body = reports.report_csv(reports.report(request.workspace, start, end))
    zone = reports.workspace_zone(request.workspace)
    name = (
        f"inbox-report-{request.workspace.slug}-"
        f"{timezone.localtime(start, zone):%Y%m%d}-{timezone.localtime(end, zone):%Y%m%d}.csv"
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("reports/", report_page, name="reports"),
    path("reports/csv/", report_csv, name="reports_csv"),
]
