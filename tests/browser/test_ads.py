"""Ads in the served product, on the demo: the SMM manager builds contextual campaigns from the demo's
keyword clusters (one for Google Ads, one for Yandex Direct), sees the platform limits warnings and makes
a headline too long in the ad editor (its live counter turns red, and saving names the field), downloads
the Google Ads Editor and Direct Commander files and reads them back with our parsers, imports a stats
report written here with one bad row, and sees the ROMI chart on the Effectiveness page.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from smmdesk.ads import parsers
from tests.browser.test_product import ORENBURG, demo_email, log_in

pytestmark = pytest.mark.browser

TOO_LONG = "Стрижка в Ленинском районе Оренбурга недорого"  # 45 characters; Google allows 30


def build_contextual(page: Page, name: str, platform: str) -> None:
    page.goto(f"/w/{ORENBURG}/ads/")
    form = page.get_by_test_id("contextual-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Platform").select_option(label=platform)
    boxes = form.locator('input[name="clusters"]')
    assert boxes.count() >= 2, "the demo has keyword clusters"
    for n in range(3):  # a few of the demo's clusters, each one ad group
        boxes.nth(n).check()
    form.get_by_label("Monthly budget").fill("9000")
    form.get_by_test_id("create-contextual").click()
    expect(page.locator("main .errorlist")).to_have_text([])  # a refusal shows its reason here
    expect(page.locator("main h1")).to_have_text(name)


def download(page: Page, fmt: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_test_id(f"export-{fmt}").click()
    return Path(info.value.path()).read_bytes()


def stats_report(campaign: str) -> bytes:
    day = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Day", "Campaign", "Ad group", "Keyword", "Impressions", "Clicks", "Cost", "Conversions"]
    )
    writer.writerow([day, campaign, "", "", "2000", "80", "1600", "3"])
    writer.writerow([day, campaign, "", "", "lots", "1", "1", "0"])
    return out.getvalue().encode()


def test_contextual_campaign_exports_stats_and_romi(page: Page):
    marker = uuid.uuid4().hex[:6]
    google, yandex = f"Google {marker}", f"Yandex {marker}"
    log_in(page, demo_email("smm_manager"))
    page.locator("nav.sidenav").get_by_role("link", name="Ads", exact=True).click()
    expect(page.get_by_test_id("ads-tabs")).to_be_visible()

    build_contextual(page, google, "Google Ads")
    expect(page.get_by_test_id("limits")).to_be_visible()
    editor = page.get_by_test_id("ad-form").first
    headlines = editor.get_by_label("Headlines")
    counter = editor.locator(f'[data-counter-for="{headlines.get_attribute("id")}"]')
    headlines.fill(TOO_LONG)
    expect(counter).to_have_attribute("data-over", "1")
    expect(counter).to_contain_text("/ 30")
    editor.get_by_test_id("save-ad").click()
    expect(page.get_by_test_id("error-headlines")).to_contain_text("30")

    campaign = parsers.google_campaign(parsers.read_google_ads_editor(download(page, "google-ads-editor")))
    assert campaign["name"] == google
    assert len(campaign["ad_groups"]) == 3 and all(g["keywords"] for g in campaign["ad_groups"])

    build_contextual(page, yandex, "Yandex Direct")
    direct = parsers.direct_campaign(parsers.read_direct_xlsx(download(page, "direct-commander-xlsx")))
    assert len(direct["ad_groups"]) == 3
    tsv = parsers.direct_campaign(parsers.read_direct_tsv(download(page, "direct-commander-tsv")))
    assert [g["name"] for g in tsv["ad_groups"]] == [g["name"] for g in direct["ad_groups"]]

    page.get_by_test_id("ads-tabs").get_by_role("link", name="Stats", exact=True).click()
    form = page.get_by_test_id("stats-form")
    form.get_by_label("Platform").select_option(label="Google Ads")
    form.get_by_label("Report file").set_input_files(
        {"name": f"google-{marker}.csv", "mimeType": "text/csv", "buffer": stats_report(google)}
    )
    form.get_by_test_id("stats-upload").click()
    item = page.locator(f'[data-testid="stats-import"][data-file="google-{marker}.csv"]')
    expect(item).to_contain_text("1 of 2 rows imported")
    expect(item.locator('[data-testid="stats-error"][data-row="3"]')).to_be_visible()

    page.get_by_test_id("ads-tabs").get_by_role("link", name="Effectiveness", exact=True).click()
    chart = page.get_by_test_id("romi-chart").locator("svg")
    expect(chart).to_have_attribute("role", "img")
    expect(chart).to_have_attribute("aria-label", "ROMI by campaign")
    expect(chart.locator("text.label", has_text=google)).to_have_count(1)
    expect(page.locator(f'[data-testid="campaigns-row"][data-name="{google}"]')).to_be_visible()
