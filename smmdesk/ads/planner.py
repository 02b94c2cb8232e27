"""Budget planner: what a daily or monthly budget is likely to buy.

The funnel, each step from the one before:
    clicks      = monthly budget / CPC
    impressions = clicks / CTR
    leads       = clicks × click→lead rate
    orders      = leads × lead→order rate
    revenue     = orders × average order value
A daily budget is taken as 30 days a month (and a monthly one as 30 daily ones), the round figure the
platforms themselves plan with (Yandex Direct's and Google Ads' monthly spend limits are about 30.4 days
of the daily budget; the difference is below the precision of any of these estimates).

For a contextual campaign people can only click on ads for queries they actually type: clicks are capped
by the monthly search volume of the campaign's keyword clusters × CTR. When the cap bites, the result says
so (`limited_by_volume`) and the spend is what those clicks cost, less than the budget.

The average order value is the mean price of the workspace's orders (audience import) of the campaign's
services: the clusters' services for contextual, the segment's services for targeting. Without such
orders it is the mean of those services' profile prices; a campaign with no services uses all the
workspace's orders, then all its services. Without any of these there is no revenue estimate.

DEFAULTS, per platform, where campaign.assumptions and then `overrides` do not say otherwise. They are
deliberately cautious round figures for a small local business; the user is expected to replace them with
their own once the first statistics come in (the effectiveness report shows the real ones):
- ctr, search (Yandex Direct, Google Ads) 5 %: search ads on commercial local queries ("стрижка рядом")
  usually get 3–8 % (Google's own industry benchmarks for beauty/personal services are about 6–7 %;
  Yandex's help centre calls under 1–2 % on search a sign of poor relevance).
- ctr, social (VK Ads, Telegram Ads, Meta) 0.8 %: feed ads are seen, not searched for; 0.5–1 % is the
  commonly quoted range for VK and Meta feeds.
- cpc: search 25 RUB / 0.40 EUR, social 15 RUB / 0.30 EUR: the low end of what the platforms' forecast
  tools quote for beauty-salon queries in a regional Russian city and in Slovakia; social clicks are
  cheaper and worth less.
- click_to_lead 8 %: a visitor who writes, calls or books (typical landing-page conversion for local
  services is 5–10 %; WordStream's cross-industry median is about 6–8 %).
- lead_to_order 30 %: a lead who actually comes and pays (salons usually report a quarter to a half).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db.models import Avg
from django.utils.translation import gettext as _

from smmdesk.ads.models import CONTEXTUAL_PLATFORMS, Campaign, Kind, Platform

DAYS_PER_MONTH = Decimal(30)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
RATIO = Decimal("0.0001")
MAX_INPUT = Decimal("9999999999.99")
INPUT_STEP = Decimal("0.000001")
# Digits the plan is computed in: the largest budget over the smallest rates still fits (quantize fails
# on a result of more digits than the context holds).
PRECISION = 50

_SEARCH = {"ctr": Decimal("0.05"), "cpc": {"RUB": Decimal(25), "EUR": Decimal("0.40")}}
_SOCIAL = {"ctr": Decimal("0.008"), "cpc": {"RUB": Decimal(15), "EUR": Decimal("0.30")}}
_CONVERSIONS = {"click_to_lead": Decimal("0.08"), "lead_to_order": Decimal("0.30")}

DEFAULTS: dict[str, dict] = {
    Platform.YANDEX_DIRECT: {**_SEARCH, **_CONVERSIONS},
    Platform.GOOGLE_ADS: {**_SEARCH, **_CONVERSIONS},
    Platform.VK_ADS: {**_SOCIAL, **_CONVERSIONS},
    Platform.TELEGRAM_ADS: {**_SOCIAL, **_CONVERSIONS},
    Platform.META: {**_SOCIAL, **_CONVERSIONS},
}
# Keys a campaign or a caller may override; "average_order_value" replaces the one from orders/prices.
ASSUMPTION_KEYS = ("ctr", "cpc", "click_to_lead", "lead_to_order", "average_order_value")
RATE_KEYS = ("ctr", "click_to_lead", "lead_to_order")  # shares of 1


class PlanError(ValueError):
    """An assumption or budget that cannot be planned with; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _decimal(field: str, value) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise PlanError(field, _("Not a number.")) from None
    if not number.is_finite() or number < 0:
        raise PlanError(field, _("Must be a number of zero or more."))
    if number > MAX_INPUT:
        raise PlanError(field, _("Must be at most %(max)s.") % {"max": MAX_INPUT})
    # Six decimals are more than any rate or price needs, and keep every product of the plan in PRECISION.
    return number.quantize(INPUT_STEP, rounding=ROUND_HALF_UP)


def default_assumptions(platform: str, currency: str) -> dict[str, Decimal]:
    base = DEFAULTS.get(platform, DEFAULTS[Platform.VK_ADS])
    cpc = base["cpc"].get(currency, base["cpc"]["EUR"])
    return {
        "ctr": base["ctr"],
        "cpc": cpc,
        "click_to_lead": base["click_to_lead"],
        "lead_to_order": base["lead_to_order"],
    }


def _services(campaign: Campaign) -> list[int]:
    if campaign.kind == Kind.CONTEXTUAL:
        ids = campaign.ad_groups.exclude(cluster__service=None).values_list("cluster__service", flat=True)
        return sorted(set(ids))
    if campaign.segment_id:
        return sorted(campaign.segment.services.values_list("pk", flat=True))
    return []


def average_order_value(campaign: Campaign) -> tuple[Decimal | None, str]:
    """(value, where it came from: "orders", "prices" or "")."""
    from smmdesk.audience.models import Order
    from smmdesk.business.models import Service

    services = _services(campaign)
    orders = Order.objects.filter(workspace_id=campaign.workspace_id, price__isnull=False)
    prices = Service.objects.filter(workspace_id=campaign.workspace_id)
    if services:
        orders = orders.filter(service_id__in=services)
        prices = prices.filter(pk__in=services)
    value = orders.aggregate(value=Avg("price"))["value"]
    if value is not None:
        return Decimal(value), "orders"
    value = prices.aggregate(value=Avg("price"))["value"]
    if value is not None:
        return Decimal(value), "prices"
    return None, ""


def _cluster_volume(campaign: Campaign) -> int | None:
    if campaign.platform not in CONTEXTUAL_PLATFORMS:
        return None
    clusters = {}
    for group in campaign.ad_groups.exclude(cluster=None).select_related("cluster"):
        clusters[group.cluster_id] = group.cluster.volume or 0
    return sum(clusters.values()) if clusters else None


def _budgets(campaign: Campaign, overrides: dict) -> tuple[Decimal, Decimal]:
    daily = overrides.get("daily_budget", campaign.daily_budget)
    monthly = overrides.get("monthly_budget", campaign.monthly_budget)
    if "daily_budget" in overrides and "monthly_budget" not in overrides:
        monthly = None
    if "monthly_budget" in overrides and "daily_budget" not in overrides:
        daily = None
    if monthly is not None:
        monthly = _decimal("monthly_budget", monthly)
        return monthly / DAYS_PER_MONTH, monthly
    if daily is not None:
        daily = _decimal("daily_budget", daily)
        return daily, daily * DAYS_PER_MONTH
    return Decimal(0), Decimal(0)


def _q(value: Decimal | None, step: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(step, rounding=ROUND_HALF_UP)


def plan(campaign: Campaign, overrides: dict | None = None) -> dict:
    """The funnel for the campaign's budget (overrides: daily_budget or monthly_budget and any of
    ASSUMPTION_KEYS). Counts are rounded to tenths and money to cents only in the result."""
    with localcontext() as context:
        context.prec = PRECISION
        return _plan(campaign, dict(overrides or {}))


def _plan(campaign: Campaign, overrides: dict) -> dict:
    daily, monthly = _budgets(campaign, overrides)
    values = default_assumptions(campaign.platform, campaign.currency)
    sources = dict.fromkeys(values, "default")
    aov, aov_source = average_order_value(campaign)
    if aov is not None:
        values["average_order_value"], sources["average_order_value"] = aov, aov_source
    for origin, given in (("campaign", campaign.assumptions or {}), ("override", overrides)):
        for key in ASSUMPTION_KEYS:
            if key in given and given[key] not in (None, ""):
                values[key], sources[key] = _decimal(key, given[key]), origin
    for key in RATE_KEYS:
        if values[key] > 1:
            raise PlanError(key, _("A rate is a share between 0 and 1 (0.05 is 5 %)."))
    notes = []
    ctr, cpc = values["ctr"], values["cpc"]
    clicks = monthly / cpc if cpc else Decimal(0)
    volume = _cluster_volume(campaign)
    max_clicks = None if volume is None else Decimal(volume) * ctr
    limited = max_clicks is not None and clicks > max_clicks
    if limited:
        clicks = max_clicks
        notes.append(
            _("Search volume limits the clicks: the clusters' %(volume)s searches a month give at most "
              "%(clicks)s clicks, so not all the budget can be spent.")
            % {"volume": volume, "clicks": _q(max_clicks, TENTH)}
        )  # fmt: skip
    spend = clicks * cpc
    impressions = clicks / ctr if ctr else Decimal(0)
    leads = clicks * values["click_to_lead"]
    orders = leads * values["lead_to_order"]
    aov = values.get("average_order_value")
    revenue = None if aov is None else orders * aov
    if aov is None:
        notes.append(_("No orders or service prices: revenue cannot be estimated."))
    return {
        "platform": campaign.platform,
        "currency": campaign.currency,
        "daily_budget": _q(daily, CENT),
        "monthly_budget": _q(monthly, CENT),
        "assumptions": {
            key: _q(value, RATIO if key in RATE_KEYS else CENT) for key, value in values.items()
        },  # fmt: skip
        "sources": sources,
        "search_volume": volume,
        "max_clicks": _q(max_clicks, TENTH),
        "limited_by_volume": limited,
        "spend": _q(spend, CENT),
        "clicks": _q(clicks, TENTH),
        "impressions": _q(impressions, TENTH),
        "leads": _q(leads, TENTH),
        "orders": _q(orders, TENTH),
        "revenue": _q(revenue, CENT),
        "cpa": _q(spend / orders, CENT) if orders else None,
        "romi": _q((revenue - spend) / spend, RATIO) if revenue is not None and spend else None,
        "notes": notes,
    }


def what_if(campaign: Campaign, budgets: list) -> list[dict]:
    """plan() for each monthly budget, in the order given."""
    return [plan(campaign, {"monthly_budget": budget}) for budget in budgets]
