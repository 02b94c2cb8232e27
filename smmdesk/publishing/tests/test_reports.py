"""The performance table: figures per published variant from the latest readings, engagement rate only
where a reach is known, pooled totals, top posts, the daily series and the CSV export."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from smmdesk.publishing import reports
from smmdesk.publishing.models import Campaign, Post, Variant, VariantMetric
from smmdesk.publishing.tests.feeds import make_channel, make_post, published

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 5, 10, 7, 0, tzinfo=UTC)  # 12:00 in Orenburg's zone (UTC+5)


@pytest.fixture
def channels(cast):
    return make_channel(cast.workspace, "VK"), make_channel(cast.workspace, "Mastodon", stands_for="mastodon")


def period(cast, first=date(2026, 5, 1), last=date(2026, 5, 31)):
    return reports.day_range(cast.workspace, first, last)


def test_figures_rate_and_aliases():
    assert reports.figures({}) is None
    found = reports.figures({"views": 400, "likes": 20, "comments": 6, "reposts": 4})
    assert (found.reach, found.shares, found.engagement) == (400, 4, 30)
    assert found.rate == pytest.approx(30 / 400)
    no_reach = reports.figures({"likes": 5, "comments": 1})
    assert no_reach.reach is None and no_reach.rate is None and no_reach.engagement == 6
    assert reports.figures({"reach": 0, "likes": 3}).rate is None


def test_performance_rows_totals_and_top(cast, channels):
    vk, masto = channels
    strong = published(
        vk, DAY, {"reach": 1000, "likes": 80, "comments": 15, "shares": 5}, text="Свадебные причёски"
    )
    weak = published(vk, DAY + timedelta(days=1), {"reach": 4000, "likes": 70, "comments": 20, "shares": 10})
    counts = published(masto, DAY + timedelta(days=2), {"likes": 12, "comments": 3, "shares": 1})
    unmeasured = published(vk, DAY + timedelta(days=3), {})
    # Outside: before the period, another workspace, not published.
    published(vk, DAY - timedelta(days=30), {"reach": 10, "likes": 10})
    published(make_channel(cast.other, "VK"), DAY, {"reach": 10, "likes": 10})
    make_post(cast.workspace, [vk], state=Post.State.SCHEDULED, at=DAY)

    data = reports.performance(cast.workspace, *period(cast))
    rows = {row["variant_id"]: row for row in data["rows"]}
    assert list(rows) == [unmeasured.pk, counts.pk, weak.pk, strong.pk]  # newest first
    assert rows[strong.pk]["rate"] == pytest.approx(0.1)
    assert rows[strong.pk]["headline"] == "Свадебные причёски"
    assert rows[weak.pk]["rate"] == pytest.approx(0.025)
    assert rows[counts.pk]["reach"] is None and rows[counts.pk]["rate"] is None
    assert rows[counts.pk]["engagement"] == 16
    assert rows[unmeasured.pk]["measured"] is False
    totals = data["totals"]
    assert totals["variants"] == 4 and totals["measured"] == 3
    assert totals["reach"] == 5000
    assert totals["engagement"] == 100 + 100 + 16
    # Pooled: (100 + 100) / 5000, not the mean of 0.1 and 0.025.
    assert totals["rate"] == pytest.approx(0.04)
    assert [row["variant_id"] for row in data["top"]] == [strong.pk, weak.pk]


def test_latest_reading_wins(cast, channels):
    vk, _masto = channels
    variant = published(vk, DAY, {"reach": 100, "likes": 1})
    VariantMetric.objects.create(
        variant=variant, name="likes", value=50, measured_at=DAY + timedelta(hours=3)
    )
    VariantMetric.objects.create(
        variant=variant, name="reach", value=500, measured_at=DAY + timedelta(hours=3)
    )
    row = reports.performance(cast.workspace, *period(cast))["rows"][0]
    assert (row["reach"], row["likes"], row["rate"]) == (500, 50, pytest.approx(0.1))


def test_filters_by_channel_and_campaign(cast, channels):
    vk, masto = channels
    campaign = Campaign.objects.create(workspace=cast.workspace, name="Выпускной")
    in_campaign = published(vk, DAY, {"reach": 10, "likes": 1})
    Post.objects.filter(pk=in_campaign.post_id).update(campaign=campaign)
    published(masto, DAY, {"likes": 1})
    by_channel = reports.performance(cast.workspace, *period(cast), channel=masto.pk)["rows"]
    assert [row["channel"] for row in by_channel] == ["Mastodon"]
    by_campaign = reports.performance(cast.workspace, *period(cast), campaign=campaign.pk)["rows"]
    assert [row["variant_id"] for row in by_campaign] == [in_campaign.pk]


def test_daily_series_counts_local_days(cast, channels):
    vk, _masto = channels
    # 21:00 UTC on the 10th is 02:00 on the 11th in Orenburg.
    published(vk, datetime(2026, 5, 10, 21, 0, tzinfo=UTC), {"reach": 100, "likes": 10})
    daily = reports.performance(cast.workspace, *period(cast, date(2026, 5, 10), date(2026, 5, 12)))["daily"]
    assert [(d["day"], d["posts"], d["engagement"]) for d in daily] == [
        (date(2026, 5, 10), 0, 0),
        (date(2026, 5, 11), 1, 10),
        (date(2026, 5, 12), 0, 0),
    ]


def test_csv_export_is_safe_for_spreadsheets(cast, channels):
    vk, masto = channels
    published(vk, DAY, {"reach": 1000, "likes": 80, "comments": 15, "shares": 5}, text='=HYPERLINK("x")')
    published(masto, DAY + timedelta(hours=1), {"likes": 2})
    data = reports.performance(cast.workspace, *period(cast))
    rows = list(csv.reader(io.StringIO(reports.performance_csv(cast.workspace, data))))
    assert rows[0] == list(reports.CSV_COLUMNS)
    masto_row, vk_row = rows[1], rows[2]
    assert vk_row[0] == "2026-05-10 12:00"  # the business's clock
    assert vk_row[3].startswith("'=")  # a formula is shown as text, never run
    assert vk_row[5:] == ["1000", "80", "15", "5", "100", "0.1000"]
    assert masto_row[5] == "" and masto_row[-1] == ""


def test_post_figures_for_one_post(cast, channels):
    vk, _masto = channels
    variant = published(vk, DAY, {"reach": 200, "likes": 10})
    figures = reports.post_figures(variant.post)
    assert figures[variant.pk]["rate"] == pytest.approx(0.05)
    Variant.objects.filter(pk=variant.pk).update(state=Variant.State.FAILED)
    assert reports.post_figures(variant.post) == {}


def test_headline():
    assert reports.headline("  Акция  ", "text") == "Акция"
    assert reports.headline("", "раз два три") == "раз два три"
    assert reports.headline("", "1 2 3 4 5 6 7 8 9") == "1 2 3 4 5 6 7 8…"
    assert len(reports.headline("", "а" * 200)) == reports.HEADLINE_CHARS
