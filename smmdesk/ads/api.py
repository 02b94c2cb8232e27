"""The ads section over the HTTP API: campaigns (list, build from a segment or from keyword clusters,
read, change, delete), their ads, the limits check, the budget plan and what-if, the export files,
statistics imports, and the effectiveness report.

Role checks are the pages' ("ads.view" to read, "ads.manage" to change). Refused input is a 422 naming
the field; another workspace's id in the path is a 404.
"""

import json
from datetime import date, timedelta
from decimal import Decimal

from django.db import models
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from ninja import File, Form, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from smmdesk.ads import actions, effectiveness, exports, limits, planner, stats
from smmdesk.ads.api_schemas import (
    AdOut,
    AdsPeriodIn,
    AdUpdateIn,
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignUpdateIn,
    PlanIn,
    ProblemOut,
    StatsImportOut,
    WhatIfIn,
)
from smmdesk.ads.models import Ad, Campaign, Kind, StatsImport
from smmdesk.api import InvalidOut, requires
from smmdesk.audience.actions import business_today

router = Router(tags=["ads"])

VIEW, MANAGE = "ads.view", "ads.manage"
DEFAULT_DAYS = 30
MAX_PERIOD_DAYS = 366 * 3


def invalid(*errors: tuple[str, str], status: int = 422):
    return Status(
        status, {"detail": "invalid input", "errors": [{"field": f, "message": str(m)} for f, m in errors]}
    )


def refusal(error: Exception, subject: str = "body"):
    if isinstance(error, actions.NotAllowed | stats.NotAllowed):
        raise HttpError(403, str(error.message))
    errors = getattr(error, "errors", None)
    if errors and isinstance(error, actions.InvalidInput):
        return invalid(*errors)
    return invalid((getattr(error, "field", None) or subject, getattr(error, "message", str(error))))


def plain(value):
    """A use case's result as JSON can carry it: money and rates as numbers, rows as {id, name}."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, models.Model):
        return {"id": value.pk, "name": str(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)  # a lazily translated label
    return value


def _campaign(request, campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id, workspace=request.workspace)


def _campaign_out(campaign: Campaign) -> dict:
    out = {f.attname: getattr(campaign, f.attname) for f in Campaign._meta.concrete_fields}
    for name in ("radius_km", "daily_budget", "monthly_budget", "target_cpa"):
        out[name] = plain(out[name])
    return {**out, "id": campaign.pk}


def _ad_out(ad: Ad) -> dict:
    return {f.attname: getattr(ad, f.attname) for f in Ad._meta.concrete_fields} | {"id": ad.pk}


def _detail(campaign: Campaign) -> dict:
    groups = [
        {
            "id": g.pk,
            "name": g.name,
            "cluster_id": g.cluster_id,
            "final_url": g.final_url,
            "negative_keywords": g.negative_keywords,
            "keywords": [
                {"text": k.text, "match_type": k.match_type, "max_cpc": plain(k.max_cpc)}
                for k in g.keywords.all()
            ],
        }
        for g in campaign.ad_groups.prefetch_related("keywords")
    ]
    return {**_campaign_out(campaign), "ad_groups": groups, "ads": [_ad_out(ad) for ad in campaign.ads.all()]}


def _given(payload) -> dict:
    return payload.model_dump(exclude_unset=True)


# --- campaigns -----------------------------------------------------------------------------------------


@router.get("/w/{slug}/ads/campaigns", response=list[CampaignOut])
@requires(VIEW)
def list_campaigns(request, slug: str):
    return [_campaign_out(c) for c in Campaign.objects.filter(workspace=request.workspace)]


@router.post("/w/{slug}/ads/campaigns", response={201: CampaignDetailOut, 422: InvalidOut})
@requires(MANAGE)
def create_campaign(request, slug: str, payload: CampaignIn):
    """Build a campaign: `kind` "targeting" needs `segment` (its audience is copied) and makes one
    creative (from `post`, or `title`/`text`, or the segment's services); "contextual" needs `clusters`
    (one ad group each, landing on the cluster's page, keywords, negatives and an ad generated)."""
    data = {k: v for k, v in payload.model_dump().items() if v is not None}
    kind = data.pop("kind", None)
    try:
        if kind == Kind.TARGETING:
            campaign = actions.create_targeting(request.membership, data)
        elif kind == Kind.CONTEXTUAL:
            campaign = actions.create_contextual(request.membership, data)
        else:
            return invalid(("kind", 'Choose "targeting" or "contextual".'))
    except actions.AdsError as error:
        return refusal(error)
    return Status(201, _detail(campaign))


@router.get("/w/{slug}/ads/campaigns/{campaign_id}", response=CampaignDetailOut)
@requires(VIEW)
def get_campaign(request, slug: str, campaign_id: int):
    return _detail(_campaign(request, campaign_id))


@router.patch("/w/{slug}/ads/campaigns/{campaign_id}", response={200: CampaignDetailOut, 422: InvalidOut})
@requires(MANAGE)
def update_campaign(request, slug: str, campaign_id: int, payload: CampaignUpdateIn):
    campaign = _campaign(request, campaign_id)
    try:
        actions.update_campaign(request.membership, campaign, _given(payload))
    except actions.AdsError as error:
        return refusal(error)
    return _detail(_campaign(request, campaign_id))


@router.delete("/w/{slug}/ads/campaigns/{campaign_id}", response={204: None})
@requires(MANAGE)
def delete_campaign(request, slug: str, campaign_id: int):
    """The campaign, its ad groups, keywords and ads; imported statistics stay, unlinked."""
    actions.delete_campaign(request.membership, _campaign(request, campaign_id))
    return Status(204, None)


@router.patch("/w/{slug}/ads/ads/{ad_id}", response={200: AdOut, 422: InvalidOut})
@requires(MANAGE)
def update_ad(request, slug: str, ad_id: int, payload: AdUpdateIn):
    """Change an ad's texts; only the fields sent are changed."""
    ad = get_object_or_404(Ad, pk=ad_id, campaign__workspace=request.workspace)
    try:
        actions.update_ad(request.membership, ad, _given(payload))
    except actions.AdsError as error:
        return refusal(error)
    return _ad_out(ad)


@router.get("/w/{slug}/ads/campaigns/{campaign_id}/limits", response=list[ProblemOut])
@requires(VIEW)
def check_limits(request, slug: str, campaign_id: int):
    """What breaks the platform's limits (severity "error" blocks the export; "warning" does not)."""
    problems = limits.check(_campaign(request, campaign_id))
    return [
        {"field": p.field, "message": p.message, "severity": p.severity, "item": p.item} for p in problems
    ]


# --- plan ----------------------------------------------------------------------------------------------


@router.post("/w/{slug}/ads/campaigns/{campaign_id}/plan", response={200: dict, 422: InvalidOut})
@requires(VIEW)
def plan(request, slug: str, campaign_id: int, payload: PlanIn):
    """The expected funnel for the budget: impressions, clicks, leads, orders, spend, CPA, ROMI. Body
    fields override the campaign's budget and assumptions for this answer only (nothing is saved)."""
    campaign = _campaign(request, campaign_id)
    try:
        return plain(planner.plan(campaign, _given(payload)))
    except planner.PlanError as error:
        return invalid((error.field, error.message))


@router.post("/w/{slug}/ads/campaigns/{campaign_id}/what-if", response={200: list[dict], 422: InvalidOut})
@requires(VIEW)
def what_if(request, slug: str, campaign_id: int, payload: WhatIfIn):
    """The plan for each monthly budget in `budgets`, in the order given."""
    campaign = _campaign(request, campaign_id)
    if not payload.budgets:
        return invalid(("budgets", "Give at least one monthly budget."))
    try:
        return plain(planner.what_if(campaign, payload.budgets))
    except planner.PlanError as error:
        return invalid((error.field, error.message))


# --- export --------------------------------------------------------------------------------------------


@router.get("/w/{slug}/ads/campaigns/{campaign_id}/export", response={200: None, 422: InvalidOut})
@requires(VIEW)
def export(request, slug: str, campaign_id: int, fmt: str = ""):
    """The file the platform's bulk tool imports; `fmt`: google-ads-editor, direct-commander-xlsx,
    direct-commander-tsv, vk. A campaign breaking its limits is a 422 listing the problems."""
    campaign = _campaign(request, campaign_id)
    try:
        content, name, content_type = exports.export(campaign, fmt)
    except exports.ExportError as error:
        return invalid(("fmt", str(error)))
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- statistics ----------------------------------------------------------------------------------------


def _stats_out(job: StatsImport) -> dict:
    errors = job.errors if isinstance(job.errors, list) else []
    return {
        **{
            name: getattr(job, name)
            for name in ("id", "platform", "file_name", "rows", "imported", "created_at")
        },
        "errors": [e for e in errors if isinstance(e, dict)],
    }


@router.get("/w/{slug}/ads/stats", response=list[StatsImportOut])
@requires(VIEW)
def list_stats_imports(request, slug: str):
    """The last 100 statistics imports, newest first."""
    return [_stats_out(job) for job in StatsImport.objects.filter(workspace=request.workspace)[:100]]


@router.post("/w/{slug}/ads/stats", response={201: StatsImportOut, 422: InvalidOut})
@requires(MANAGE)
def import_stats(
    request, slug: str, platform: Form[str] = "", mapping: Form[str] = "", file: File[UploadedFile] = None
):
    """Upload a platform's report (CSV or XLSX, multipart field `file`) with `platform` (yandex, google,
    vk) and, optionally, `mapping`: JSON {"field": "header name" or column index, or null for "not in
    the file"} over the recognised headers. Importing the same report again replaces its rows; bad rows
    are listed in `errors`."""
    if file is None:
        return invalid(("file", "required: a CSV or XLSX report sent as multipart form data"))
    try:
        columns = json.loads(mapping) if mapping.strip() else None
    except ValueError:
        return invalid(("mapping", 'not JSON: give {"field": "header name" or column index}'))
    try:
        job = stats.import_stats(request.membership, file, platform, columns)
    except stats.StatsRefused as error:
        return refusal(error, "file")
    return Status(201, _stats_out(job))


@router.get("/w/{slug}/ads/effectiveness", response={200: dict, 422: InvalidOut})
@requires(VIEW)
def effectiveness_report(request, slug: str, period: Query[AdsPeriodIn]):
    """CTR, CPC, CPA, conversion rate and ROMI per campaign, ad group, keyword and platform, with the
    channel comparison; orders are attributed by utm_campaign. Default: the last 30 days."""
    end = period.end or business_today(request.workspace)
    start = period.start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        return invalid(("start", "The start is after the end."))
    if (end - start).days > MAX_PERIOD_DAYS:
        return invalid(("start", f"At most {MAX_PERIOD_DAYS} days."))
    return plain(effectiveness.report(request.workspace, start, end))
