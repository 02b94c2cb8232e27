"""The budget planner against figures worked out by hand (the arithmetic is in the comments)."""

from datetime import date
from decimal import Decimal

import pytest

from smmdesk.ads import planner
from smmdesk.ads.models import Platform
from smmdesk.ads.tests.a2_fixtures import campaign, cluster_group, order, service
from smmdesk.audience.models import Segment

pytestmark = pytest.mark.django_db
D = Decimal


def test_contextual_defaults_and_average_order_from_orders(cast):
    ws = cast.workspace
    men = service(ws, "Мужская стрижка", "900")
    spring = campaign(ws, Platform.YANDEX_DIRECT, monthly_budget=D("15000"))
    cluster_group(spring, "мужская стрижка", 20000, men)
    order(ws, date(2026, 3, 1), "1000", service=men)
    order(ws, date(2026, 3, 2), "1400", service=men)
    order(ws, date(2026, 3, 3), "5000")  # another service's order: not in the average
    result = planner.plan(spring)
    # clicks 15000 / 25 = 600; impressions 600 / 0.05 = 12000; cap 20000 × 0.05 = 1000 > 600
    assert result["clicks"] == D("600.0")
    assert result["impressions"] == D("12000.0")
    assert result["limited_by_volume"] is False
    assert result["max_clicks"] == D("1000.0")
    # leads 600 × 0.08 = 48; orders 48 × 0.3 = 14.4
    assert result["leads"] == D("48.0")
    assert result["orders"] == D("14.4")
    # average order (1000 + 1400) / 2 = 1200; revenue 14.4 × 1200 = 17280
    assert result["assumptions"]["average_order_value"] == D("1200.00")
    assert result["sources"]["average_order_value"] == "orders"
    assert result["revenue"] == D("17280.00")
    # CPA 15000 / 14.4 = 1041.666…; ROMI (17280 − 15000) / 15000 = 0.152
    assert result["cpa"] == D("1041.67")
    assert result["romi"] == D("0.1520")
    assert result["daily_budget"] == D("500.00")  # 15000 / 30


def test_search_volume_caps_the_clicks_and_says_so(cast):
    spring = campaign(cast.workspace, Platform.GOOGLE_ADS, daily_budget=D("500"))
    cluster_group(spring, "стрижка", 3000)
    cluster_group(spring, "стрижка ленинский", 1000)
    result = planner.plan(spring)
    # budget 500 × 30 = 15000 → 600 clicks wanted; volume 3000 + 1000 = 4000 × 0.05 = 200 clicks at most
    assert result["search_volume"] == 4000
    assert result["limited_by_volume"] is True
    assert result["clicks"] == D("200.0")
    assert result["spend"] == D("5000.00")  # 200 × 25
    assert result["impressions"] == D("4000.0")  # 200 / 0.05
    assert result["orders"] == D("4.8")  # 200 × 0.08 × 0.3
    assert any("4000" in note for note in result["notes"])
    assert result["revenue"] is None  # no orders, no services


def test_targeting_in_euro_with_campaign_assumptions_and_profile_prices(cast):
    ws = cast.workspace
    kids, women = service(ws, "Детская", "30"), service(ws, "Женская", "50")
    service(ws, "Свадебная", "200")  # not in the segment
    segment = Segment.objects.create(workspace=ws, name="Мамы")
    segment.services.set([kids, women])
    ad = campaign(ws, Platform.VK_ADS, currency="EUR", daily_budget=D("10"), segment=segment,
                  assumptions={"cpc": "0.5"})  # fmt: skip
    result = planner.plan(ad)
    # monthly 10 × 30 = 300; clicks 300 / 0.5 = 600; impressions 600 / 0.008 = 75000
    assert result["clicks"] == D("600.0")
    assert result["impressions"] == D("75000.0")
    assert result["sources"]["cpc"] == "campaign"
    assert result["sources"]["ctr"] == "default"
    # no orders: average of the segment's prices (30 + 50) / 2 = 40; orders 600 × 0.08 × 0.3 = 14.4
    assert result["sources"]["average_order_value"] == "prices"
    assert result["revenue"] == D("576.00")  # 14.4 × 40
    assert result["romi"] == D("0.9200")  # (576 − 300) / 300
    assert result["search_volume"] is None


def test_euro_default_cpc_and_overrides_win(cast):
    ad = campaign(cast.workspace, Platform.GOOGLE_ADS, currency="EUR", monthly_budget=D("120"),
                  assumptions={"ctr": "0.1"})  # fmt: skip
    assert planner.plan(ad)["clicks"] == D("300.0")  # 120 / 0.40
    result = planner.plan(ad, {"ctr": "0.02", "average_order_value": "25"})
    assert result["sources"]["ctr"] == "override"
    assert result["impressions"] == D("15000.0")  # 300 / 0.02
    assert result["revenue"] == D("180.00")  # 300 × 0.08 × 0.3 = 7.2 orders × 25


def test_what_if_gives_the_same_figures_per_budget(cast):
    ad = campaign(cast.workspace, Platform.YANDEX_DIRECT, daily_budget=D("100"))
    first, second = planner.what_if(ad, [3000, "6000"])
    assert (first["monthly_budget"], first["clicks"]) == (D("3000.00"), D("120.0"))  # 3000 / 25
    assert (second["monthly_budget"], second["clicks"]) == (D("6000.00"), D("240.0"))
    assert second == planner.plan(ad, {"monthly_budget": 6000})


@pytest.mark.parametrize(("key", "value"), [("ctr", "1.5"), ("cpc", "-1"), ("lead_to_order", "abc")])
def test_bad_assumptions_are_refused_naming_the_field(cast, key, value):
    ad = campaign(cast.workspace, monthly_budget=D("1000"))
    with pytest.raises(planner.PlanError) as error:
        planner.plan(ad, {key: value})
    assert error.value.field == key


def test_no_budget_plans_nothing(cast):
    result = planner.plan(campaign(cast.workspace))
    assert (result["clicks"], result["spend"], result["cpa"], result["romi"]) == (
        D("0.0"),
        D("0.00"),
        None,
        None,
    )
