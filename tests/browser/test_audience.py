"""Audience in the served product, with the demo's data: the owner imports a CRM export (Windows-1251,
semicolons, Russian headers) whose one bad row gets the whole file refused with a downloadable report
naming the row and the field; the corrected file, with one column mapped by hand, is imported by the
server's worker while the progress bar follows it. Then the report with its charts, in English, Russian
and Slovak: the headings in each language, the same numbers in all three.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_product import ORENBURG, demo_email, label, log_in, switch_language

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Yekaterinburg")  # the demo hairdresser's time zone
HEADERS = ["№ заказа", "Дата", "Услуга", "Сумма", "Пол", "Возраст", "Район", "Откуда пришёл"]
# No header the import knows means "source": the person maps that column by hand.
HAND_MAPPED = "Откуда пришёл"
IMPORT_TIMEOUT = 60_000  # ms: the embedded worker takes the job within a second or two


def crm_export(marker: str, bad_date: bool) -> bytes:
    day = (datetime.now(UTC).astimezone(ZONE) - timedelta(days=3)).strftime("%d.%m.%Y")
    rows = [
        [f"{marker}-1", day, "Мужская стрижка", "600", "м", "34", "Ленинский", "ВКонтакте"],
        [f"{marker}-2", day, "Женская стрижка", "1 200", "ж", "28", "Центральный", "2ГИС"],
        [
            f"{marker}-3",
            "32.13.2026" if bad_date else day,
            "Детская стрижка",
            "450",
            "ж",
            "7",
            "Ленинский",
            "Вывеска",
        ],
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([HEADERS, *rows])
    return out.getvalue().encode("cp1251")


def upload(page: Page, marker: str, bad_date: bool) -> None:
    page.goto(f"/w/{ORENBURG}/audience/import/")
    form = page.get_by_test_id("upload-form")
    form.get_by_label("File").set_input_files(
        {"name": f"{marker}.csv", "mimeType": "text/csv", "buffer": crm_export(marker, bad_date)}
    )
    form.get_by_test_id("upload").click()
    expect(page.get_by_test_id("mapping-form")).to_be_visible()


def test_import_refused_then_corrected_with_a_column_mapped_by_hand(page: Page):
    marker = f"b{uuid.uuid4().hex[:6]}"
    log_in(page, demo_email("owner"))
    page.locator("nav.sidenav").get_by_role("link", name="Audience", exact=True).click()
    page.get_by_test_id("audience-tabs").get_by_role("link", name="Import", exact=True).click()
    upload(page, marker, bad_date=True)

    # The mapping step: the file read as cp1251 with semicolons, its headers recognised.
    expect(page.get_by_test_id("import-file")).to_contain_text("cp1251")
    for field, column in {
        "order_id": 0,
        "date": 1,
        "service": 2,
        "price": 3,
        "gender": 4,
        "age": 5,
        "district": 6,
    }.items():
        expect(page.get_by_test_id(f"map-{field}").locator("select")).to_have_value(str(column))
    source = page.get_by_test_id("map-source").locator("select")
    expect(source).to_have_value("")
    expect(source.locator("option", has_text=HAND_MAPPED)).to_have_count(1)
    preview = page.get_by_test_id("preview-row")
    expect(preview).to_have_count(3)
    expect(page.locator('[data-testid="preview-row"][data-row="4"]')).to_contain_text("Date")
    expect(page.locator('[data-testid="preview-row"][data-row="2"]')).to_contain_text("OK")

    # Import anyway: the worker refuses the whole file.
    page.get_by_test_id("mapping-import").click()
    refused = page.get_by_test_id("import-refused")
    expect(refused).to_be_visible(timeout=IMPORT_TIMEOUT)
    expect(page.locator('[data-testid="import-error"][data-row="4"]')).to_contain_text("32.13.2026")
    with page.expect_download() as download:
        page.get_by_test_id("import-error-report").click()
    lines = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert lines[0] == ["row", "field", "value", "message"]
    assert [line[:3] for line in lines[1:]] == [["4", "date", "32.13.2026"]], lines

    # The corrected file; the source column chosen by hand; imported with the progress bar.
    page.get_by_test_id("import-again").click()
    upload(page, marker, bad_date=False)
    page.get_by_test_id("map-source").locator("select").select_option(label=HAND_MAPPED)
    page.get_by_test_id("mapping-import").click()
    done = page.get_by_test_id("import-done")
    expect(done).to_be_visible(timeout=IMPORT_TIMEOUT)
    expect(done).to_contain_text("3 orders imported: 3 new, 0 updated, 0 unchanged.")

    # The orders are there, with the hand-mapped source.
    page.get_by_test_id("audience-tabs").get_by_role("link", name="Orders", exact=True).click()
    row = page.locator(f'[data-testid="order-row"][data-order="{marker}-3"]')
    expect(row).to_contain_text("Детская стрижка")
    expect(row).to_contain_text("Вывеска")


def digits(text: str) -> str:
    """A number as its digits: "1,234", "1 234" and "1 234" are the same; so are "38.1 %" and "38,1 %"."""
    return re.sub(r"\D", "", text)


def read_report(page: Page) -> dict:
    table = {}
    rows = page.get_by_test_id("service-row")
    for n in range(rows.count()):
        row = rows.nth(n)
        table[row.get_attribute("data-service")] = (
            digits(row.get_by_test_id("service-orders").inner_text()),
            digits(row.get_by_test_id("service-share").inner_text()),
        )
    return {
        "orders": digits(page.get_by_test_id("total-orders").inner_text()),
        "revenue": digits(page.get_by_test_id("total-revenue").inner_text()),
        "clients": digits(page.get_by_test_id("total-clients").inner_text()),
        "services": table,
    }


HEADINGS = ["Audience report", "By service", "Who the clients are", "Each service"]


def test_report_with_its_charts_in_three_languages(page: Page):
    log_in(page, demo_email("content_manager"))
    page.goto(f"/w/{ORENBURG}/audience/")
    seen = {}
    try:
        for language in ("en", "ru", "sk"):
            if language != "en":
                switch_language(page, language)
            main = page.locator("main")
            expect(main.get_by_role("heading", level=1)).to_have_text(label(language, "Audience report"))
            for msgid in HEADINGS[1:]:
                expect(
                    main.get_by_role("heading", level=2, name=label(language, msgid), exact=True)
                ).to_be_visible()
            tabs = page.get_by_test_id("audience-tabs")
            for msgid in ("Report", "Orders", "Import", "Segments"):
                expect(tabs.get_by_role("link", name=label(language, msgid), exact=True)).to_be_visible()

            report = read_report(page)
            services = len(report["services"])
            assert services >= 4, report  # the demo's four services, and the CRM's own name
            # One SVG per chart: six for the business, gender and ages for each service; each has a name.
            charts = page.locator("figure.aud-chart svg")
            expect(charts).to_have_count(6 + 2 * services)
            for n in range(charts.count()):
                chart = charts.nth(n)
                title = chart.locator("title").first.text_content() or ""
                assert title.strip() and chart.get_attribute("aria-label") == title, (language, n)
                assert chart.get_attribute("role") == "img"
                assert chart.locator("rect.bar").count() >= 2
            orders_chart = page.get_by_test_id("chart-orders-by-service").locator("svg")
            expect(orders_chart).to_have_attribute("aria-label", label(language, "Orders by service"))
            seen[language] = report
        assert seen["ru"] == seen["en"] and seen["sk"] == seen["en"], seen
        assert int(seen["en"]["orders"]) == sum(
            int(orders) for orders, _share in seen["en"]["services"].values()
        )
    finally:
        if page.locator("html").get_attribute("lang") != "en":
            switch_language(page, "en")
