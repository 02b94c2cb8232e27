"""The effectiveness report and the CPA alerts, against figures worked out by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from smmdesk.ads import effectiveness
from smmdesk.ads.models import Platform, StatRow
from smmdesk.ads.tasks import cpa_alerts_task
from smmdesk.ads.tests.a2_fixtures import campaign, order, stat
from smmdesk.inbox.models import Notification

pytestmark = pytest.mark.django_db
D = Decimal
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def spring(cast):
    ws = cast.workspace
    search = campaign(ws, Platform.YANDEX_DIRECT, target_cpa=D("500"))
    stat(search, "2026-03-01", 1000, 50, "1000", 4, group="Мужские", keyword="стрижка мужская")
    stat(search, "2026-03-02", 1000, 30, "600", 1, group="Мужские", keyword="стрижка у дома")
    stat(search, "2026-04-01", 9999, 999, "9999")  # outside the period
    order(ws, date(2026, 3, 5), "1500", utm="spring-yandex")
    order(ws, date(2026, 3, 6), "2500", utm="spring-yandex", source="VK")  # a campaign's, not organic
    order(ws, date(2026, 4, 2), "9000", utm="spring-yandex")  # outside the period
    social = campaign(ws, Platform.VK_ADS)
    stat(social, "2026-03-03", 5000, 40, "300", group="Креатив 1")
    order(ws, date(2026, 3, 7), "700", utm="spring-vk")
    order(ws, date(2026, 3, 8), "1000", source="Instagram")  # organic
    order(ws, date(2026, 3, 9), "800", source="ВКонтакте")  # organic
    order(ws, date(2026, 3, 10), "600", source="Сарафанное радио")  # neither
    return search, social


def test_campaign_figures_and_attribution(cast, spring):
    search, social = spring
    result = effectiveness.report(cast.workspace, *MARCH)
    lines = {line["campaign"]: line for line in result["campaigns"]}
    line = lines[search]
    assert (line["impressions"], line["clicks"], line["cost"]) == (2000, 80, D("1600.00"))
    assert line["ctr"] == D("0.0400")  # 80 / 2000
    assert line["cpc"] == D("20.00")  # 1600 / 80
    assert line["orders"] == 2 and line["revenue"] == D("4000.00")  # 1500 + 2500, April's order left out
    assert line["cpa"] == D("800.00")  # 1600 / 2
    assert line["cpa_platform"] == D("320.00")  # 1600 / (4 + 1)
    assert line["conversion_rate"] == D("0.0250")  # 2 / 80
    assert line["romi"] == D("1.5000")  # (4000 − 1600) / 1600
    vk = lines[social]
    assert (vk["orders"], vk["cpa"], vk["romi"]) == (1, D("300.00"), D("1.3333"))  # (700 − 300) / 300


def test_ad_group_keyword_and_platform_lines(cast, spring):
    result = effectiveness.report(cast.workspace, *MARCH)
    keywords = {line["keyword"]: line for line in result["keywords"]}
    assert keywords["стрижка у дома"]["cpc"] == D("20.00")  # 600 / 30
    assert keywords["стрижка у дома"]["orders"] is None  # orders are only traced to campaigns
    groups = {line["ad_group"]: line for line in result["ad_groups"]}
    assert groups["Мужские"]["clicks"] == 80 and groups["Креатив 1"]["ctr"] == D("0.0080")  # 40 / 5000
    platforms = {line["platform"]: line for line in result["platforms"]}
    assert platforms["yandex"]["orders"] == 2 and platforms["vk"]["cost"] == D("300.00")
    total = result["total"]
    # cost 1600 + 300 = 1900, revenue 4000 + 700 = 4700, ROMI (4700 − 1900) / 1900 = 1.47368…
    assert (total["cost"], total["revenue"], total["romi"]) == (D("1900.00"), D("4700.00"), D("1.4737"))


def test_channel_comparison(cast, spring):
    channels = {line["channel"]: line for line in effectiveness.report(cast.workspace, *MARCH)["channels"]}
    assert (channels["contextual"]["orders"], channels["contextual"]["cost"]) == (2, D("1600.00"))
    assert (channels["targeting"]["orders"], channels["targeting"]["revenue"]) == (1, D("700.00"))
    assert (channels["organic"]["orders"], channels["organic"]["revenue"]) == (2, D("1800.00"))  # 1000 + 800
    assert channels["organic"]["romi"] is None  # no ad cost to set it against
    assert channels["contests"]["contests"] == 0 and channels["contests"]["orders"] is None


def test_unlinked_statistics_are_reported_by_name(cast):
    search = campaign(cast.workspace)
    stat(search, "2026-03-01", 100, 10, "50", name="Old campaign")
    StatRow.objects.update(campaign=None)  # as when the report names a campaign we do not have
    line = effectiveness.report(cast.workspace, *MARCH)["campaigns"][0]
    assert (line["campaign"], line["name"], line["orders"], line["cpc"]) == (
        None,
        "Old campaign",
        None,
        D("5.00"),
    )


def test_cpa_alerts_over_the_last_seven_days(cast):
    ws = cast.workspace
    over = campaign(ws, Platform.YANDEX_DIRECT, target_cpa=D("500"))
    stat(over, "2026-03-03", 100, 10, "5000")  # 8 days before the 10th: outside the window
    stat(over, "2026-03-04", 100, 10, "700")
    stat(over, "2026-03-10", 100, 10, "500")
    order(ws, date(2026, 3, 6), "900", utm=over.utm_campaign)
    under = campaign(ws, Platform.GOOGLE_ADS, target_cpa=D("500"))
    stat(under, "2026-03-09", 100, 10, "400")
    order(ws, date(2026, 3, 9), "900", utm=under.utm_campaign)
    silent = campaign(ws, Platform.VK_ADS, target_cpa=D("100"))
    stat(silent, "2026-03-09", 100, 10, "150")  # no order at all, and more than the target spent
    alerts = effectiveness.cpa_alerts(ws, date(2026, 3, 10))
    assert [(a["campaign"], a["cost"], a["cpa"]) for a in alerts] == [
        (over, D("1200.00"), D("1200.00")),  # (700 + 500) / 1 order
        (silent, D("150.00"), None),
    ]


def test_cpa_alert_notifies_owners_once_a_week(cast, time_machine):
    over = campaign(cast.workspace, target_cpa=D("100"))
    stat(over, "2026-03-09", 100, 10, "700")
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False)
    cpa_alerts_task.call_local()
    notes = Notification.objects.filter(kind="ads_cpa")
    assert [n.membership.user for n in notes.all()] == [cast.users["owner"]]
    assert over.name in notes.get().text
    cpa_alerts_task.call_local()  # run twice: nothing more
    time_machine.move_to(datetime(2026, 3, 11, 9, 0, tzinfo=UTC), tick=False)
    cpa_alerts_task.call_local()  # same ISO week
    assert notes.all().count() == 1
    stat(over, "2026-03-16", 100, 10, "700")
    time_machine.move_to(datetime(2026, 3, 16, 9, 0, tzinfo=UTC), tick=False)
    cpa_alerts_task.call_local()  # a new week, still over
    assert notes.all().count() == 2
