"""A campaign's page: its settings, ad groups with keywords and match types, ads with a live character
counter per field (sitelinks too, for contextual ads) and the platform's limit warnings (limits.check),
the budget planner with editable assumptions (recalculated for anyone who reads, saved by ads.manage) and
a what-if table, export downloads, and the campaign's effectiveness."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.ads.forms import AdForm, AssumptionsForm, SettingsForm, add_errors
from smmdesk.ads.models import Ad, Campaign, Platform
from smmdesk.ads.views import MANAGE, VIEW, ads_url, check_refusal, refusals, render_page
from smmdesk.audience.views import money, percent

# The ad editor's counted fields per platform: (form field, A1's table, its key). A list field (one per
# line) counts each line; Direct's second title is shorter than the first, which the warnings list says.
COUNTED = {
    Platform.GOOGLE_ADS: (
        ("headlines", "GOOGLE", "headline"),
        ("descriptions", "GOOGLE", "description"),
        ("path1", "GOOGLE", "path"),
        ("path2", "GOOGLE", "path"),
    ),
    Platform.YANDEX_DIRECT: (
        ("headlines", "YANDEX", "title1"),
        ("descriptions", "YANDEX", "text"),
        ("path1", "YANDEX", "display_link"),
    ),
    Platform.VK_ADS: (("title", "VK", "title"), ("text", "VK", "text")),
    Platform.TELEGRAM_ADS: (("text", "TELEGRAM", "text"),),
    Platform.META: (("title", "META", "title"), ("text", "META", "text")),
}
LIST_FIELDS = ("headlines", "descriptions")


def _problems(campaign: Campaign) -> list:
    from smmdesk.ads import limits

    return list(limits.check(campaign))


def _ad_row(campaign: Campaign, ad: Ad, form: AdForm | None = None) -> dict:
    """The ad's form with only the platform's fields, each carrying its limit for the live counter; a
    contextual ad's sitelinks as slots: the filled ones and two empty ones (at least four)."""
    from smmdesk.ads import limits

    form = form or AdForm.of(ad)
    shown = []
    for field, table, key in COUNTED.get(campaign.platform, ()):
        size = getattr(limits, table, {}).get(key)
        if isinstance(size, int):
            _count(form, field, size, per_line=field in LIST_FIELDS)
        shown.append(field)
    table = limits.GOOGLE if campaign.platform == Platform.GOOGLE_ADS else limits.YANDEX
    slots = min(form.sitelink_slots, max(4, form.filled_slots() + 2)) if form.sitelink_slots else 0
    sitelinks = []
    for slot in range(slots):
        names = [form.slot_field(slot, part) for part in form.sitelink_parts]
        for part, name in zip(form.sitelink_parts, names, strict=True):
            if part != "url":
                _count(form, name, table["sitelink_text" if part == "text" else "sitelink_description"])
        sitelinks.append({"number": slot + 1, "fields": [form[name] for name in names]})
    return {"ad": ad, "form": form, "fields": [form[name] for name in shown], "sitelinks": sitelinks}


def _count(form: AdForm, name: str, size: int, per_line: bool = False) -> None:
    form.fields[name].widget.attrs.update({"data-limit": size, "data-per-line": "1" if per_line else "0"})


def _plan(campaign: Campaign, assumptions: AssumptionsForm):
    from smmdesk.ads import planner

    overrides = assumptions.overrides() if assumptions.is_valid() else {}
    try:
        result = planner.plan(campaign, overrides)
        budgets = assumptions.cleaned_data.get("budgets") if assumptions.is_valid() else []
        monthly = result.get("monthly_budget")
        if not budgets and monthly:
            budgets = [monthly / 2, monthly, monthly * 2]
        table = [planner.plan(campaign, {**overrides, "monthly_budget": budget}) for budget in budgets]
    except planner.PlanError as error:
        assumptions.add_error(error.field if error.field in assumptions.fields else None, error.message)
        return None, []
    return result, table


def plan_row(result: dict) -> dict:
    return {
        "budget": money(result.get("monthly_budget")),
        "spend": money(result.get("spend")),
        "impressions": money(result.get("impressions")),
        "clicks": money(result.get("clicks")),
        "leads": money(result.get("leads")),
        "orders": money(result.get("orders")),
        "revenue": money(result.get("revenue")),
        "cpa": money(result.get("cpa")),
        "romi": percent(result.get("romi")),
        "limited": result.get("limited_by_volume"),
    }


def _effect(campaign: Campaign) -> dict | None:
    from smmdesk.ads.views import campaign_effects, campaign_row

    effect = campaign_effects(campaign.workspace).get(campaign.pk)
    return campaign_row(campaign, effect) if effect else None


def _page(request, campaign: Campaign, settings=None, ad_forms=None, assumptions=None, status=200):
    from smmdesk.ads.exports import formats_for

    if assumptions is None:
        assumptions = AssumptionsForm.of(campaign, request.GET)
    result, table = _plan(campaign, assumptions)
    ad_forms = ad_forms or {}
    context = {
        "tab": "campaigns",
        "campaign": campaign,
        "settings": settings or SettingsForm.of(campaign),
        "groups": campaign.ad_groups.prefetch_related("keywords"),
        "ads": [_ad_row(campaign, ad, ad_forms.get(ad.pk)) for ad in campaign.ads.all()],
        "problems": _problems(campaign),
        "assumptions": assumptions,
        "plan": plan_row(result) if result else None,
        "plan_notes": (result or {}).get("notes", []),
        "plan_used": (result or {}).get("assumptions", {}),
        "what_if": [plan_row(r) for r in table],
        "formats": formats_for(campaign.platform),
        "effect": _effect(campaign),
    }
    return render_page(request, "ads/campaign.html", context, status=status)


def _campaign(request, campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id, workspace=request.workspace)


@workspace_view(VIEW, write=MANAGE)
def campaign_view(request, campaign_id: int):
    """The page; a POST saves the settings."""
    campaign = _campaign(request, campaign_id)
    if request.method != "POST":
        return _page(request, campaign)
    form = SettingsForm(request.POST, auto_id="set_%s")
    if form.is_valid():
        from smmdesk.ads import actions

        try:
            actions.update_campaign(request.membership, campaign, form.campaign_data())
        except refusals() as error:
            check_refusal(error)
            add_errors(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect(ads_url(request, "campaign", campaign_id=campaign.pk))
    return _page(request, campaign, settings=form, status=400)


@workspace_view(MANAGE)
@require_POST
def ad_view(request, campaign_id: int, ad_id: int):
    campaign = _campaign(request, campaign_id)
    ad = get_object_or_404(Ad, pk=ad_id, campaign=campaign)
    form = AdForm(request.POST, auto_id=f"ad{ad.pk}_%s", platform=campaign.platform)
    if form.is_valid():
        from smmdesk.ads import actions

        try:
            actions.update_ad(request.membership, ad, form.ad_data())
        except refusals() as error:
            check_refusal(error)
            add_errors(form, error)
        else:
            messages.success(request, _("Ad saved."))
            return redirect(ads_url(request, "campaign", campaign_id=campaign.pk) + f"#ad-{ad.pk}")
    return _page(request, campaign, ad_forms={ad.pk: form}, status=400)


@workspace_view(VIEW)
@require_POST
def plan_view(request, campaign_id: int):
    """The planner form: "recalculate" shows the plan with what was typed (anyone who reads ads);
    "save" keeps the assumptions as the campaign's (ads.manage only)."""
    campaign = _campaign(request, campaign_id)
    form = AssumptionsForm.of(campaign, request.POST)
    if request.POST.get("step") != "save":
        return _page(request, campaign, assumptions=form)
    if not can(request, MANAGE):
        raise PermissionDenied(_("Your role may only recalculate the plan."))
    if form.is_valid():
        from smmdesk.ads import actions

        try:
            actions.update_campaign(request.membership, campaign, {"assumptions": form.saved()})
        except refusals() as error:
            check_refusal(error)
            add_errors(form, error)
        else:
            messages.success(request, _("Assumptions saved."))
            return redirect(ads_url(request, "campaign", campaign_id=campaign.pk) + "#plan-heading")
    return _page(request, campaign, assumptions=form, status=400)


@workspace_view(MANAGE)
@require_POST
def delete_view(request, campaign_id: int):
    from smmdesk.ads import actions

    campaign = _campaign(request, campaign_id)
    name = campaign.name
    actions.delete_campaign(request.membership, campaign)
    messages.success(request, _("Campaign “%(name)s” deleted.") % {"name": name})
    return redirect(ads_url(request, "list"))


@workspace_view(VIEW)
@require_safe
def export_view(request, campaign_id: int):
    """A download in the format named by ?format=; an unknown format is a 400 naming the ones known."""
    from smmdesk.ads import exports

    campaign = _campaign(request, campaign_id)
    try:
        body, filename, content_type = exports.export(campaign, request.GET.get("format", ""))
    except exports.ExportError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("<int:campaign_id>/", campaign_view, name="campaign"),
    path("<int:campaign_id>/ads/<int:ad_id>/", ad_view, name="ad"),
    path("<int:campaign_id>/plan/", plan_view, name="plan"),
    path("<int:campaign_id>/delete/", delete_view, name="delete"),
    path("<int:campaign_id>/export/", export_view, name="export"),
]
