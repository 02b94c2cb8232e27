"""Stats (upload a platform's report, map its columns with a preview of the first rows, import; each
import's per-row errors; past imports) and Effectiveness (a period's CTR, CPC, CPA, conversion rate and
ROMI per campaign, ad group, keyword and platform; the channel comparison; the ROMI chart; CPA alerts)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.ads import charts
from smmdesk.ads.forms import StatsUploadForm, add_errors
from smmdesk.ads.models import Platform, StatsImport, StatsUpload
from smmdesk.ads.views import MANAGE, VIEW, ads_url, check_refusal, render_page
from smmdesk.audience.forms import MappingForm, period_form
from smmdesk.audience.views import money, percent

PAST_IMPORTS = 20


def _stats_page(request, form, status=200):
    context = {
        "tab": "stats",
        "form": form,
        "uploads": StatsUpload.objects.filter(workspace=request.workspace),
        "imports": StatsImport.objects.filter(workspace=request.workspace)[:PAST_IMPORTS],
    }
    return render_page(request, "ads/stats.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def stats_view(request):
    """The upload form and the past imports; an upload goes on to its column mapping."""
    if request.method != "POST":
        return _stats_page(request, StatsUploadForm(auto_id="stats_%s"))
    form = StatsUploadForm(request.POST, request.FILES, auto_id="stats_%s")
    if form.is_valid():
        from smmdesk.ads import stats_upload

        try:
            upload = stats_upload.start(
                request.membership, form.cleaned_data["file"], form.cleaned_data["platform"]
            )
        except stats_upload.StatsRefused as error:
            check_refusal(error)
            add_errors(form, error)
        else:
            return redirect(ads_url(request, "stats_upload", upload_id=upload.pk))
    return _stats_page(request, form, status=400)


def _mapping_page(request, upload: StatsUpload, form: MappingForm | None = None, status: int = 200):
    from smmdesk.ads import stats_upload
    from smmdesk.core.column_mapping import preview_table

    labels = {name: str(label) for name, label, _required in stats_upload.MAPPING_FIELDS}
    try:
        preview = preview_table(labels, upload.mapping, stats_upload.preview(upload))
    except stats_upload.StatsRefused as error:
        preview = {"columns": [], "rows": [], "error": error.message}
    context = {
        "tab": "stats",
        "upload": upload,
        "form": form
        or MappingForm(
            fields=stats_upload.MAPPING_FIELDS,
            headers=upload.headers,
            mapping=upload.mapping if isinstance(upload.mapping, dict) else {},
            auto_id="map_%s",
        ),
        "preview": preview,
    }
    return render_page(request, "ads/stats_mapping.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def stats_upload_view(request, upload_id: int):
    """The column mapping of an uploaded report; a POST checks it again or imports with it."""
    from smmdesk.ads import stats_upload

    upload = get_object_or_404(StatsUpload, pk=upload_id, workspace=request.workspace)
    if request.method != "POST":
        return _mapping_page(request, upload)
    form = MappingForm(
        request.POST, fields=stats_upload.MAPPING_FIELDS, headers=upload.headers, auto_id="map_%s"
    )
    if form.is_valid():
        try:
            upload = stats_upload.set_mapping(request.membership, upload, form.mapping())
            if request.POST.get("step") == "import":
                done = stats_upload.run(request.membership, upload)
                messages.success(
                    request,
                    _("%(imported)d of %(rows)d rows imported from %(file)s.")
                    % {"imported": done.imported, "rows": done.rows, "file": done.file_name},
                )
                return redirect(ads_url(request, "stats"))
        except stats_upload.StatsRefused as error:
            check_refusal(error)
            add_errors(form, error)
        else:
            return redirect(ads_url(request, "stats_upload", upload_id=upload.pk))
    upload = StatsUpload.objects.filter(pk=upload_id, workspace=request.workspace).first()
    if upload is None:  # imported meanwhile, from another tab
        messages.info(request, _("This report has already been imported."))
        return redirect(ads_url(request, "stats"))
    return _mapping_page(request, upload, form, status=400)


PLATFORM_LABELS = dict(Platform.choices)


def _name(row: dict) -> str:
    if row.get("keyword"):
        return f"{row['keyword']} · {row.get('ad_group', '')} · {row.get('campaign_name', '')}"
    if row.get("ad_group"):
        return f"{row['ad_group']} · {row.get('campaign_name', '')}"
    if row.get("name") or row.get("label"):
        return str(row.get("name") or row.get("label"))
    return str(PLATFORM_LABELS.get(row.get("platform"), row.get("platform") or "—"))


def alert_text(alert: dict) -> str:
    return _(
        "%(name)s: cost per order %(cpa)s is above the target %(target)s (%(cost)s spent, %(orders)s orders)."
    ) % {
        "name": alert["campaign"].name,
        "cpa": money(alert.get("cpa")),
        "target": money(alert.get("target_cpa")),
        "cost": money(alert.get("cost")),
        "orders": alert.get("orders", 0),
    }


def metric_row(row: dict) -> dict:
    """One table row in the reader's number format; whatever the report has not got is a dash."""
    return {
        "name": _name(row),
        "impressions": money(row.get("impressions")),
        "clicks": money(row.get("clicks")),
        "cost": money(row.get("cost")),
        "orders": money(row.get("orders")),
        "revenue": money(row.get("revenue")),
        "ctr": percent(row.get("ctr")),
        "cpc": money(row.get("cpc")),
        "cpa": money(row.get("cpa")),
        "conversion_rate": percent(row.get("conversion_rate")),
        "romi": percent(row.get("romi")),
    }


TABLES = (
    ("campaigns", _("By campaign")),
    ("ad_groups", _("By ad group")),
    ("keywords", _("By keyword")),
    ("platforms", _("By platform")),
)


@workspace_view(VIEW)
@require_safe
def effectiveness_view(request):
    from smmdesk.ads import effectiveness

    period = period_form(request)
    start, end = period.bounds() if period.is_valid() else period_form_default(request)
    report = effectiveness.report(request.workspace, start, end)
    campaigns = report.get("campaigns") or []
    chart = charts.romi_bars(
        [(row.get("name", "—"), row.get("romi"), percent(row.get("romi"))) for row in campaigns]
    )
    context = {
        "tab": "effectiveness",
        "period": period,
        "start": start,
        "end": end,
        "tables": [
            {"key": key, "title": title, "rows": [metric_row(r) for r in report.get(key) or []]}
            for key, title in TABLES
        ],
        "channels": [metric_row(r) for r in report.get("channels") or []],
        "chart": chart if campaigns else None,
        "alerts": [alert_text(alert) for alert in effectiveness.cpa_alerts(request.workspace)],
    }
    return render_page(request, "ads/effectiveness.html", context)


def period_form_default(request):
    from smmdesk.audience.forms import PeriodForm

    form = PeriodForm({"period": "90"}, workspace=request.workspace)
    form.is_valid()
    return form.bounds()


urlpatterns = [
    path("stats/", stats_view, name="stats"),
    path("stats/<int:upload_id>/", stats_upload_view, name="stats_upload"),
    path("effectiveness/", effectiveness_view, name="effectiveness"),
]
