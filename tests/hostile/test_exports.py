"""Every CSV/XLSX export, fed formula-injection text (`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`, `+`, `-`,
`@`, tab and CR first) through the data it is made of, must come out with no cell a spreadsheet would run.

A cell starting with "=", "+", "-", "@", a tab or a CR must carry the apostrophe of lib.spreadsheet
safe_cell; XLSX cells must be strings, never formulas. The ads platforms' keyword columns keep their
"+"/"-" operators, but not with characters only a formula has (safe_operator_cell).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from smmdesk.lib.spreadsheet import FORMULA_CHARACTERS
from tests.corpus.strings import FORMULAS, is_formula

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]

# Headlines and names have platform length limits: the short ones fit everywhere.
SHORT = ["=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|'/C calc'!A0", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


@pytest.fixture
def client(db, world):
    client = Client(raise_request_exception=True)
    client.force_login(world.cast.users["owner"])
    return client


def csv_cells(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def assert_safe(rows: list[list[str]], operator_columns: frozenset[int] = frozenset()) -> None:
    for number, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            if column in operator_columns and cell.startswith(("+", "-")):
                assert not FORMULA_CHARACTERS.intersection(cell), (number, column, cell)
            else:
                assert not is_formula(cell), (number, column, cell)


def assert_planted(rows: list[list[str]], *values: str) -> None:
    """The hostile values reached the file (neutralised): the test saw what it meant to test."""
    cells = {cell for row in rows for cell in row}
    for value in values:
        assert any(value.strip() in cell for cell in cells), (value, sorted(cells)[:40])


def test_inbox_report_csv(client, world):
    from smmdesk.business.models import Department
    from smmdesk.channels.models import Channel

    Department.objects.filter(pk=world.mine["department"]).update(name=FORMULAS[0])
    Department.objects.filter(pk=world.mine["department"] - 1).update(name=FORMULAS[1])
    Channel.objects.filter(pk=world.mine["channel"]).update(name=FORMULAS[2])
    owner = world.cast.users["owner"]
    owner.name = FORMULAS[3]
    owner.save(update_fields=["name"])
    response = client.get(f"/w/{world.cast.workspace.slug}/inbox/reports/csv/")
    assert response.status_code == 200
    rows = csv_cells(response.content.decode())
    assert_safe(rows)
    assert_planted(rows, FORMULAS[2])


def test_publishing_performance_csv(client, world):
    from smmdesk.channels.models import Channel
    from smmdesk.publishing.models import Post, Variant

    Channel.objects.filter(pk=world.mine["channel"]).update(name=FORMULAS[4])
    Post.objects.filter(pk=world.mine["post"]).update(title=FORMULAS[5])
    Variant.objects.filter(pk=world.mine["variant"]).update(
        state=Variant.State.PUBLISHED, published_at=timezone.now() - timedelta(hours=1), url=FORMULAS[6]
    )
    for url in (f"/w/{world.cast.workspace.slug}/publishing/performance/?format=csv",
                f"/api/w/{world.cast.workspace.slug}/publishing/performance.csv"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        rows = csv_cells(response.content.decode())
        assert_safe(rows)
        assert_planted(rows, FORMULAS[4], FORMULAS[5])


def test_publishing_plan_template_and_its_reimport(client, world):
    from smmdesk.channels.models import Channel
    from smmdesk.publishing import importer

    # A name without ";" or "|": those separate channel names in the plan.
    Channel.objects.filter(pk=world.mine["channel"]).update(name=FORMULAS[1])
    response = client.get(f"/w/{world.cast.workspace.slug}/publishing/import/template.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = csv_cells(text)
    assert_safe(rows)
    assert_planted(rows, FORMULAS[1])
    # The neutralised name still names the channel when the filled-in template comes back.
    plan = importer.read_plan(world.cast.workspace, text)
    assert not [e for e in plan.errors if e.column == "channels"], plan.errors


def test_audience_report_csv_and_xlsx(client, world):
    from smmdesk.audience.models import Order
    from smmdesk.business.models import Service

    service = Service.objects.create(workspace=world.cast.workspace, name=FORMULAS[1], price=100)
    for index, formula in enumerate(FORMULAS):
        Order.objects.create(
            workspace=world.cast.workspace,
            order_id=f"F-{index}",
            date=timezone.localdate() - timedelta(days=1),
            service=service,
            service_name=formula,
            district=formula,
            source=formula,
        )
    base = f"/w/{world.cast.workspace.slug}/audience/report"
    rows = csv_cells(client.get(base + ".csv").content.decode())
    assert_safe(rows)
    assert_planted(rows, FORMULAS[1], FORMULAS[2])
    assert_xlsx_safe(client.get(base + ".xlsx").content)


def assert_xlsx_safe(data: bytes) -> None:
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_audience_import_error_report(client, world):
    from smmdesk.audience.models import ImportJob

    errors = [{"row": 2 + i, "field": "district", "value": f, "message": f} for i, f in enumerate(FORMULAS)]
    ImportJob.objects.filter(pk=world.mine["job"]).update(status="failed", errors=errors, error_count=7)
    for url in (f"/w/{world.cast.workspace.slug}/audience/import/{world.mine['job']}/errors.csv",
                f"/api/w/{world.cast.workspace.slug}/audience/imports/{world.mine['job']}/errors.csv"):  # fmt: skip
        rows = csv_cells(client.get(url).content.decode())
        assert_safe(rows)
        assert_planted(rows, FORMULAS[0])


def hostile_campaign(workspace, platform):
    from smmdesk.ads.models import MatchType
    from smmdesk.ads.tests import builders

    campaign = builders.campaign(workspace, platform, name=SHORT[0], city=SHORT[3])
    group = builders.group(campaign, name=SHORT[1], negatives=("бесплатно", "cmd|' /C calc'!A0"))
    builders.keyword(group, "=cmd|' /C calc'!A0", MatchType.BROAD)
    builders.keyword(group, "+cmd|' /C calc'!A0", MatchType.BROAD)
    builders.keyword(group, "+на дому", MatchType.BROAD)  # Direct's fixed stop word: stays as it is
    links = [{"text": SHORT[2], "description": SHORT[3], "url": "https://example.test/a"}] * 2
    if platform == "google":
        # Google takes both description lines of a sitelink or neither.
        links = [{**link, "description2": SHORT[4]} for link in links]
    else:
        # Direct refuses ! ? [ ] in a sitelink's text; this formula has none of them.
        links = [{**link, "text": SHORT[3]} for link in links]
    if platform == "google":
        builders.ad(campaign, group, headlines=[SHORT[0], SHORT[2], SHORT[4]], descriptions=SHORT[3:5],
                    path1="-x", sitelinks=links)  # fmt: skip
    else:
        builders.ad(campaign, group, headlines=[SHORT[0], SHORT[5]], descriptions=[SHORT[2]], sitelinks=links)
    return campaign


def test_google_ads_editor_csv(client, world):
    from smmdesk.ads.exports import google_ads_editor as google

    campaign = hostile_campaign(world.cast.workspace, "google")
    response = client.get(
        f"/w/{world.cast.workspace.slug}/ads/{campaign.pk}/export/?format=google-ads-editor"
    )
    assert response.status_code == 200, response.content[:300]
    text = response.content[len(google.BOM) :].decode("utf-16-le")
    rows = csv_cells(text, google.SEPARATOR)
    assert_safe(rows, frozenset({google.HEADERS.index("Keyword")}))
    assert_planted(rows, SHORT[0], SHORT[1])


@pytest.mark.parametrize("fmt", ["direct-commander-tsv", "direct-commander-xlsx"])
def test_direct_commander(client, world, fmt):
    from smmdesk.ads import parsers
    from smmdesk.ads.exports import direct_commander as direct

    campaign = hostile_campaign(world.cast.workspace, "yandex")
    response = client.get(f"/w/{world.cast.workspace.slug}/ads/{campaign.pk}/export/?format={fmt}")
    assert response.status_code == 200, response.content[:300]
    if fmt.endswith("xlsx"):
        assert_xlsx_safe(response.content)
        return
    rows = [line.split(direct.SEPARATOR) for line in response.content.decode().split("\r\n") if line]
    operators = {"Доп. объявление группы", "Фраза (с минус-словами)", "Минус-фразы на группу"}
    assert_safe(rows, frozenset(direct.HEADERS.index(name) for name in operators))
    assert_planted(rows, SHORT[0], SHORT[1])
    phrases = [row["Фраза (с минус-словами)"] for row in parsers.read_direct_tsv(response.content)]
    assert "+на дому" in phrases and "=cmd|' /C calc'!A0" in phrases  # read back as they were typed


def test_keywords_export(world, db):
    from smmdesk.keywords.exports import write_csv
    from smmdesk.keywords.models import Cluster, Keyword

    Keyword.objects.filter(pk=world.mine["keyword"]).update(query=FORMULAS[0])
    Cluster.objects.filter(pk=world.mine["cluster"]).update(name=FORMULAS[1])
    out = io.StringIO()
    write_csv(world.cast.workspace, out)
    rows = csv_cells(out.getvalue())
    assert_safe(rows)
    assert_planted(rows, FORMULAS[0], FORMULAS[1])


def test_contest_entrant_list(db, world):
    from smmdesk.contests import listing
    from smmdesk.contests.models import Contest

    lines = [
        listing.line(mode, "salt", "vk", f"{i}", f) for i, f in enumerate(FORMULAS) for mode in listing.MODES
    ]
    text = listing.canonical_text(lines)
    Contest.objects.filter(pk=world.mine["contest"]).update(status=Contest.Status.CLOSED, entrant_list=text)
    token = Contest.objects.get(pk=world.mine["contest"]).proof_token
    response = Client(raise_request_exception=True).get(f"/contests/proof/{token}/entrants.txt")
    assert response.status_code == 200
    # A .txt opens in a spreadsheet one line a cell (tabs are cleaned out): no line may start a formula.
    for line in response.content.decode().splitlines():
        assert not is_formula(line) and "\t" not in line, line
