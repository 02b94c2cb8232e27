"""Positions and the funnel: per cluster, visits → chats and leads → orders with their rates over a
period, the latest position of its main query, and the two imports (positions from a rank tracker,
visits per page from analytics), each answering with a per-row report. Routes are appended to
sites/urls.py under /w/<slug>/sites/funnel/."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.publishing.scheduling import workspace_zone
from smmdesk.sites import funnel

VIEW, MANAGE = "sites.view", "sites.manage"
DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
ERRORS_SHOWN = 200


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end is before the start."))
        elif start and end and (end - start).days > MAX_DAYS:
            self.add_error("end", _("At most three years at a time."))
        return data


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"})
    )


def _today(workspace):
    return timezone.localdate(timezone=workspace_zone(workspace))


def _period(request):
    form = PeriodForm(request.GET or None, auto_id="period_%s")
    end = _today(request.workspace)
    start = end - timedelta(days=DEFAULT_DAYS - 1)
    if form.is_bound and form.is_valid():
        end = form.cleaned_data.get("end") or end
        start = form.cleaned_data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    return form, start, end


def _render(request, template: str, context: dict, status: int = 200):
    context = {"active_section": "sites", "can_manage": can(request, MANAGE), "funnel_tab": True, **context}
    return render(request, template, context, status=status)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


@workspace_view(VIEW)
@require_safe
def funnel_page(request):
    form, start, end = _period(request)
    rows = funnel.funnel(request.workspace, start, end)
    total = funnel.totals(rows)
    table = [
        {
            "row": row,
            "tag": funnel.campaign_tag(row.page) if row.page else "",
            **{
                name: percent(getattr(row, name))
                for name in ("chat_rate", "lead_rate", "order_rate", "conversion")
            },
        }
        for row in rows
    ]
    context = {
        "form": form,
        "start": start,
        "end": end,
        "table": table,
        "total": total,
        "total_rates": {
            name: percent(getattr(total, name))
            for name in ("chat_rate", "lead_rate", "order_rate", "conversion")
        },
        "status": 400 if form.is_bound and not form.is_valid() else 200,
    }
    return _render(request, "sites/funnel.html", context, status=context["status"])


def _import(request, kind: str):
    action = funnel.import_positions if kind == "positions" else funnel.import_visits
    report = None
    if request.method != "POST":
        form = UploadForm(auto_id=f"{kind}_%s")
    else:
        form = UploadForm(request.POST, request.FILES, auto_id=f"{kind}_%s")
        if form.is_valid():
            try:
                report = action(request.membership, form.cleaned_data["file"])
            except funnel.NotAllowed:
                raise PermissionDenied
            except funnel.FunnelError as error:
                form.add_error("file", error.message)
    if report is not None:
        errors = [{"row": r, "field": f, "message": m} for r, f, m in report["errors"]]
        report = {**report, "errors": errors[:ERRORS_SHOWN], "error_count": len(errors)}
    status = 400 if request.method == "POST" and report is None else 200
    context = {"kind": kind, "form": form, "report": report}
    return _render(request, "sites/funnel_import.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def import_positions(request):
    return _import(request, "positions")


@workspace_view(VIEW, write=MANAGE)
def import_visits(request):
    return _import(request, "visits")


urlpatterns = [
    path("funnel/", funnel_page, name="funnel"),
    path("funnel/positions/", import_positions, name="funnel_positions"),
    path("funnel/visits/", import_visits, name="funnel_visits"),
]
