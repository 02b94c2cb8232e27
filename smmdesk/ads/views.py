"""The ads section's pages, by topic: Campaigns (here: the list and the two "new campaign" forms), a
campaign's page (views_campaign.py: settings, ad groups, ads with their limits, the planner, exports)
and Stats and Effectiveness (views_stats.py). Mounted at /w/<slug>/ads/.

Every member who may read ads (ads.view) sees every page; the owner and SMM managers (ads.manage) change
things. Each view parses, calls one use case and redirects or renders; rows are looked up inside the
workspace from the URL, so another workspace's id is not found.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from smmdesk.accounts.access import can, workspace_view
from smmdesk.ads.forms import ContextualForm, TargetingForm, add_errors
from smmdesk.ads.models import Campaign
from smmdesk.audience.views import money, percent

VIEW, MANAGE = "ads.view", "ads.manage"


def ads_url(request, name: str, **kwargs) -> str:
    return reverse(f"ads:{name}", kwargs={"slug": request.workspace.slug, **kwargs})


def render_page(request, template: str, context: dict, status: int = 200):
    context = {"active_section": "ads", "can_manage": can(request, MANAGE), **context}
    return render(request, template, context, status=status)


def refusals():
    from smmdesk.ads import actions

    return actions.AdsError


def check_refusal(error) -> None:
    """A role that may not is a 403, never a message on the form."""
    from smmdesk.ads import actions, stats

    if isinstance(error, actions.NotAllowed | stats.NotAllowed):
        raise PermissionDenied(str(getattr(error, "message", error)))


def campaign_row(campaign: Campaign, effect: dict | None) -> dict:
    effect = effect or {}
    cpa, target = effect.get("cpa"), campaign.target_cpa
    return {
        "campaign": campaign,
        "budget": money(campaign.monthly_budget or campaign.daily_budget),
        "budget_per": _("month") if campaign.monthly_budget else (_("day") if campaign.daily_budget else ""),
        "spend": money(effect.get("cost")),
        "orders": effect.get("orders") if effect.get("orders") is not None else "—",
        "cpa": money(cpa),
        "target_cpa": money(target),
        "over_target": cpa is not None and target is not None and cpa > target,
        "romi": percent(effect.get("romi")),
    }


def campaign_effects(workspace) -> dict[int, dict]:
    """Each campaign's effectiveness over everything imported so far, by campaign id."""
    from datetime import date

    from smmdesk.ads import effectiveness

    rows = effectiveness.report(workspace, date(2000, 1, 1), date(2199, 12, 31)).get("campaigns") or []
    out = {}
    for row in rows:
        key = row.get("campaign_id") or getattr(row.get("campaign"), "pk", None) or row.get("id")
        if key:
            out[key] = row
    return out


def _list_page(request, targeting=None, contextual=None, status=200):
    workspace = request.workspace
    campaigns = Campaign.objects.filter(workspace=workspace)
    effects = campaign_effects(workspace)
    context = {
        "tab": "campaigns",
        "rows": [campaign_row(c, effects.get(c.pk)) for c in campaigns],
        "targeting_form": targeting or TargetingForm(workspace=workspace, auto_id="tgt_%s"),
        "contextual_form": contextual or ContextualForm(workspace=workspace, auto_id="ctx_%s"),
    }
    return render_page(request, "ads/campaigns.html", context, status=status)


@workspace_view(VIEW)
def campaigns(request):
    return _list_page(request)


def _create(request, form_class, prefix: str, use_case: str, slot: str, **extra):
    form = form_class(request.POST, workspace=request.workspace, auto_id=f"{prefix}_%s")
    if form.is_valid():
        from smmdesk.ads import actions

        try:
            campaign = getattr(actions, use_case)(request.membership, form.campaign_data(), **extra)
        except refusals() as error:
            check_refusal(error)
            add_errors(form, error)
        else:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect(ads_url(request, "campaign", campaign_id=campaign.pk))
    return _list_page(request, status=400, **{slot: form})


@workspace_view(MANAGE)
def new_targeting(request):
    if request.method != "POST":
        return redirect(ads_url(request, "list"))
    return _create(request, TargetingForm, "tgt", "create_targeting", "targeting")


def _site_base(request) -> str | None:
    """Where the landing pages are when SMMDESK_PUBLIC_URL is not set: this server, as the member reached
    it (the host is one ALLOWED_HOSTS accepted)."""
    if getattr(settings, "SMMDESK_PUBLIC_URL", ""):
        return None
    return request.build_absolute_uri("/")


@workspace_view(MANAGE)
def new_contextual(request):
    if request.method != "POST":
        return redirect(ads_url(request, "list"))
    return _create(
        request, ContextualForm, "ctx", "create_contextual", "contextual", base_url=_site_base(request)
    )


urlpatterns = [
    path("", campaigns, name="list"),
    path("new/targeting/", new_targeting, name="new_targeting"),
    path("new/contextual/", new_contextual, name="new_contextual"),
]
