"""Importing Yandex Direct, Google Ads and VK Ads statistics reports."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from smmdesk.ads import stats
from smmdesk.ads.models import Platform, StatRow, StatsImport
from smmdesk.ads.tests.a2_fixtures import campaign, member

pytestmark = pytest.mark.django_db
D = Decimal

YANDEX = (
    "Статистика по кампаниям с 01.03.2026 по 02.03.2026\n"
    "Дата;Кампания;Группа;Условие показа;Показы;Клики;Расход (руб.);Конверсии\n"
    "01.03.2026;Весна yandex;Мужские стрижки;стрижка мужская;1 200;36;900,50;2\n"
    "02.03.2026;Весна yandex;Мужские стрижки;стрижка мужская;800;20;500;-\n"
    "32.03.2026;Весна yandex;Мужские стрижки;стрижка мужская;800;abc;500;1\n"
    "Итого;;;;2000;56;1400,50;2\n"
)

GOOGLE = (
    "Keyword report\n"
    "March 1, 2026 - March 31, 2026\n"
    "Day\tCampaign\tAd group\tKeyword\tImpr.\tClicks\tCost\tConversions\n"
    "2026-03-01\tspring-google\tKids\tdetskaya strizhka\t1,234\t40\t12.50\t--\n"
    "Mar 2, 2026\tspring-google\tKids\tdetskaya strizhka\t100\t5\t1.25\t1.00\n"
    "2026-03-03\t\tKids\tdetskaya strizhka\t100\t5\t1.25\t0\n"
    "Total: Account\t\t\t\t1434\t50\t15.00\t1\n"
)


def vk_xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["Дата", "Кампания", "Объявление", "Показы", "Клики", "Потрачено, ₽"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_yandex_cp1251_semicolons_title_line_bad_rows_and_reimport(cast, tmp_path):
    spring = campaign(cast.workspace, Platform.YANDEX_DIRECT)
    path = tmp_path / "direct.csv"
    path.write_bytes(YANDEX.encode("cp1251"))
    job = stats.import_stats(member(cast), path, "yandex")
    assert (job.rows, job.imported) == (3, 2)
    assert {(e["row"], e["field"]) for e in job.errors} == {(5, "date"), (5, "clicks")}
    first = StatRow.objects.get(date=date(2026, 3, 1))
    assert (first.impressions, first.clicks, first.cost, first.conversions) == (1200, 36, D("900.50"), D("2"))
    assert first.campaign == spring and first.keyword == "стрижка мужская" and first.platform == "yandex"
    assert StatRow.objects.get(date=date(2026, 3, 2)).conversions == 0  # "-" is none
    before = list(StatRow.objects.values())
    again = stats.import_stats(member(cast), path, "yandex")
    assert again.imported == 2
    assert list(StatRow.objects.values()) == before  # same report again: nothing changes


def test_reimport_with_corrected_figures_replaces_not_adds(cast, tmp_path):
    path = tmp_path / "direct.csv"
    path.write_text(YANDEX, encoding="utf-8")
    stats.import_stats(member(cast), path, "yandex")
    path.write_text(YANDEX.replace(";36;900,50;", ";40;1000;"), encoding="utf-8")
    job = stats.import_stats(member(cast), path, "yandex")
    row = StatRow.objects.get(date=date(2026, 3, 1))
    assert (row.clicks, row.cost, row.imported_by) == (40, D("1000"), job)
    assert StatRow.objects.count() == 2
    assert row.campaign is None  # no campaign of that name here


def test_google_utf16_tabs_two_title_lines_linked_by_utm(cast):
    spring = campaign(cast.workspace, Platform.GOOGLE_ADS, name="Spring kids")
    upload = SimpleUploadedFile("report.csv", GOOGLE.encode("utf-16"))
    job = stats.import_stats(member(cast), upload, "google")
    assert job.file_name == "report.csv"
    assert job.imported == 2
    assert job.errors == [{"row": 6, "field": "campaign", "message": "The campaign is missing."}]
    rows = {row.date: row for row in StatRow.objects.all()}
    assert rows[date(2026, 3, 1)].impressions == 1234
    assert rows[date(2026, 3, 1)].conversions == 0  # "--"
    assert rows[date(2026, 3, 2)].cost == D("1.25")  # "Mar 2, 2026"
    assert {row.campaign for row in rows.values()} == {spring}


def test_vk_xlsx_rows_of_one_key_are_added_up(cast):
    content = vk_xlsx([
        [date(2026, 3, 5), "Весна vk", "Креатив 1", 1000, 10, 150.5],
        [date(2026, 3, 5), "Весна vk", "Креатив 1", 500, 5, 49.5],
        ["2026-03-06", "Весна vk", "Креатив 1", 100, -3, 10],
    ])  # fmt: skip
    job = stats.import_stats(member(cast, "smm_manager"), SimpleUploadedFile("vk.xlsx", content), "vk")
    assert job.imported == 2
    assert job.errors == [{"row": 4, "field": "clicks", "message": "Cannot be negative."}]
    row = StatRow.objects.get()
    assert (row.ad_group_name, row.impressions, row.clicks, row.cost) == ("Креатив 1", 1500, 15, D("200.00"))
    stats.import_stats(member(cast), SimpleUploadedFile("vk.xlsx", content), "vk")
    assert StatRow.objects.get().clicks == 15  # not 30


def test_unrecognised_header_needs_a_mapping(cast, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when,what,seen,spent\n2026-03-01,Весна,100,50\n", encoding="utf-8")
    with pytest.raises(stats.StatsRefused) as refused:
        stats.import_stats(member(cast), path, "yandex")
    assert refused.value.field == "mapping"
    assert StatsImport.objects.count() == 0
    job = stats.import_stats(
        member(cast),
        path,
        "yandex",
        mapping={"date": "when", "campaign": 1, "impressions": "seen", "cost": "spent"},
    )
    assert job.imported == 1
    assert StatRow.objects.get().cost == D("50")


@pytest.mark.parametrize(
    ("content", "platform", "field"),
    [
        (b"", "yandex", "file"),
        (b"\x00\x01\x02binary", "yandex", "file"),
        (b"PK\x03\x04not really a zip", "vk", "file"),
        (YANDEX.encode(), "meta", "platform"),
    ],
)
def test_unusable_input_is_refused_before_anything_is_written(cast, content, platform, field):
    with pytest.raises(stats.StatsRefused) as refused:
        stats.import_stats(member(cast), SimpleUploadedFile("x.csv", content), platform)
    assert refused.value.field == field
    assert not StatsImport.objects.exists() and not StatRow.objects.exists()


def test_roles_without_ads_manage_may_not_import(cast):
    with pytest.raises(stats.NotAllowed):
        stats.import_stats(
            member(cast, "content_manager"), SimpleUploadedFile("x.csv", YANDEX.encode()), "yandex"
        )
