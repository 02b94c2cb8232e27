"""Ads in the served product, on the demo: the SMM manager builds contextual campaigns from the demo's
keyword clusters (one for Google Ads, one for Yandex Direct), sees the platform limits warnings and makes
a headline and a sitelink too long in the ad editor (their live counters turn red, and saving names the
fields), saves the planner's assumptions, downloads the Google Ads Editor and Direct Commander files and
reads them back with our parsers, uploads a stats report written here with one bad row, checks its
columns on the mapping step (recognised, with the bad row marked in the preview) and imports it, and
sees the ROMI chart on the Effectiveness page.
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
    first_link = editor.get_by_test_id("sitelink").first.get_by_label("Text")
    link_counter = editor.locator(f'[data-counter-for="{first_link.get_attribute("id")}"]')
    first_link.fill("Стрижки и укладки в Оренбурге")  # 29 characters; Google allows 25
    expect(link_counter).to_have_attribute("data-over", "1")
    expect(link_counter).to_contain_text("29 / 25")
    editor.get_by_test_id("save-ad").click()
    expect(page.get_by_test_id("error-headlines")).to_contain_text("30")
    expect(page.get_by_test_id("error-sitelink_0_text")).to_contain_text("the limit is 25")

    planner = page.get_by_test_id("plan-form")
    planner.get_by_label("CTR, %").fill("3.5")
    planner.get_by_test_id("plan-save").click()
    expect(page.get_by_text("Assumptions saved.")).to_be_visible()
    expect(page.get_by_test_id("plan-form").get_by_label("CTR, %")).to_have_value("3.5")

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
    mapping = page.get_by_test_id("mapping-form")
    for field, column in (("date", "Day"), ("campaign", "Campaign"), ("cost", "Cost"), ("clicks", "Clicks")):
        expect(mapping.locator(f'select[name="{field}"] option:checked')).to_have_text(column)
    expect(mapping.locator('[data-testid="preview-row"][data-row="2"]')).to_have_class("row-ok")
    bad = mapping.locator('[data-testid="preview-row"][data-row="3"]')
    expect(bad).to_have_class("row-bad")
    expect(bad).to_contain_text("Impressions: Not a number.")
    mapping.get_by_test_id("mapping-import").click()
    item = page.locator(f'[data-testid="stats-import"][data-file="google-{marker}.csv"]')
    expect(item).to_contain_text("1 of 2 rows imported")
    expect(item.locator('[data-testid="stats-error"][data-row="3"]')).to_be_visible()

    page.get_by_test_id("ads-tabs").get_by_role("link", name="Effectiveness", exact=True).click()
    chart = page.get_by_test_id("romi-chart").locator("svg")
    expect(chart).to_have_attribute("role", "img")
    expect(chart).to_have_attribute("aria-label", "ROMI by campaign")
    expect(chart.locator("text.label", has_text=google)).to_have_count(1)
    expect(page.locator(f'[data-testid="campaigns-row"][data-name="{google}"]')).to_be_visible()
