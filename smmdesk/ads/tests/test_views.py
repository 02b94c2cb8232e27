"""The ads pages through the test client: creating both kinds of campaign, the campaign page with its
limit warnings and planner, an export download, the stats upload with a bad row, and effectiveness with
its ROMI chart. Permissions for every route are covered by tests/test_permissions.py."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.ads.models import Campaign, StatRow
from smmdesk.ads.tests.a3_fixtures import *  # noqa: F403
from smmdesk.audience.models import Order

pytestmark = pytest.mark.django_db


def url(cast, tail=""):
    return f"/w/{cast.workspace.slug}/ads/{tail}"


@pytest.fixture
def manager(client, built):
    client.force_login(built["cast"].users["smm_manager"])
    return client


def make_contextual(client, built, name="Стрижки", platform="google"):
    response = client.post(
        url(built["cast"], "new/contextual/"),
        {
            "name": name,
            "platform": platform,
            "clusters": [c.pk for c in built["clusters"]],
            "monthly_budget": "9000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Campaign.objects.get(workspace=built["workspace"], name=name)


def test_contextual_campaign_from_clusters_then_its_page(manager, built):
    campaign = make_contextual(manager, built)
    assert campaign.ad_groups.count() == 2
    page = manager.get(url(built["cast"], f"{campaign.pk}/")).content.decode()
    assert 'data-testid="what-if"' in page and 'data-testid="export-google-ads-editor"' in page
    assert "data-limit=" in page  # the live counters have their limits
    listing = manager.get(url(built["cast"])).content.decode()
    assert f'data-campaign="{campaign.name}"' in listing


def test_a_too_long_headline_is_listed_as_a_limit_warning(manager, built):
    campaign = make_contextual(manager, built)
    ad = campaign.ads.first()
    ad.headlines = ["Очень длинный заголовок, который точно не влезет"]
    ad.save()
    page = manager.get(url(built["cast"], f"{campaign.pk}/")).content.decode()
    assert 'data-testid="limit-warning"' in page and "the limit is 30" in page


def test_refused_input_comes_back_on_its_field_not_a_500(manager, built):
    response = manager.post(url(built["cast"], "new/contextual/"), {"name": "", "platform": "vk"})
    assert response.status_code == 400
    assert 'data-testid="error-name"' in response.content.decode()
    make_contextual(manager, built)
    again = manager.post(
        url(built["cast"], "new/contextual/"),
        {"name": "Стрижки", "platform": "google", "clusters": [built["clusters"][0].pk]},
    )
    assert again.status_code == 400 and "already a campaign" in again.content.decode()


def test_planner_what_if_and_a_bad_assumption(manager, built):
    campaign = make_contextual(manager, built)
    page = manager.get(url(built["cast"], f"{campaign.pk}/"), {"budgets": "1000; 2000; 4000", "cpc": "20"})
    assert page.content.decode().count('data-testid="what-if-row"') == 3
    bad = manager.get(url(built["cast"], f"{campaign.pk}/"), {"budgets": "lots"})
    assert bad.status_code == 200 and "is not a number" in bad.content.decode()


def test_export_downloads_and_unknown_format_is_400(manager, built):
    campaign = make_contextual(manager, built)
    response = manager.get(url(built["cast"], f"{campaign.pk}/export/"), {"format": "google-ads-editor"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert manager.get(url(built["cast"], f"{campaign.pk}/export/"), {"format": "vk"}).status_code == 400
    assert manager.get(url(built["cast"], f"{campaign.pk}/export/"), {"format": "nope"}).status_code == 400


def test_ad_edit_saves_and_refuses(manager, built):
    campaign = make_contextual(manager, built)
    ad = campaign.ads.first()
    response = manager.post(
        url(built["cast"], f"{campaign.pk}/ads/{ad.pk}/"),
        {
            "headlines": "Стрижка рядом\nЖенская стрижка\nЗапись онлайн",
            "descriptions": "Мастера рядом с домом.\nЗапись онлайн.",
        },
    )
    assert response.status_code == 302
    ad.refresh_from_db()
    assert ad.headlines[0] == "Стрижка рядом"


def stats_file(campaign_name: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Day", "Campaign", "Ad group", "Keyword", "Impressions", "Clicks", "Cost", "Conversions"]
    )
    writer.writerow(["2026-03-10", campaign_name, "", "", "1000", "50", "1000", "2"])
    writer.writerow(["2026-03-11", campaign_name, "", "", "many", "5", "10", "0"])
    return out.getvalue().encode()


def test_stats_upload_shows_row_errors_and_effectiveness_draws_the_chart(manager, built):
    campaign = make_contextual(manager, built)
    upload = SimpleUploadedFile("report.csv", stats_file(campaign.name), content_type="text/csv")
    response = manager.post(url(built["cast"], "stats/"), {"platform": "google", "file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    mapping = manager.get(response["Location"]).content.decode()
    assert 'data-testid="preview-row" data-row="3"' in mapping  # the bad row, before importing
    columns = {"date": 0, "campaign": 1, "ad_group": 2, "keyword": 3, "impressions": 4, "clicks": 5}
    response = manager.post(response["Location"], {**columns, "cost": 6, "conversions": 7, "step": "import"})
    assert response.status_code == 302 and response["Location"].endswith("/stats/")
    page = manager.get(url(built["cast"], "stats/")).content.decode()
    assert 'data-testid="stats-error" data-row="3"' in page
    assert StatRow.objects.filter(campaign=campaign).count() == 1
    Order.objects.create(
        workspace=built["workspace"], order_id="X1", date=date(2026, 3, 12), price=3000,
        utm_campaign=campaign.utm_campaign,
    )  # fmt: skip
    report = manager.get(
        url(built["cast"], "effectiveness/"), {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}
    )
    body = report.content.decode()
    assert '<svg class="romi"' in body and 'role="img"' in body
    assert "200,0 %" in body or "200.0 %" in body  # (3000 - 1000) / 1000


def test_content_manager_reads_but_may_not_create(client, built):
    client.force_login(built["cast"].users["content_manager"])
    assert client.get(url(built["cast"])).status_code == 200
    response = client.post(url(built["cast"], "new/contextual/"), {"name": "x", "platform": "google"})
    assert response.status_code == 403
