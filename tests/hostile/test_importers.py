"""The hostile CSV/XLSX corpus through every file importer, over HTTP as a person or a script sends it.

Each case must end in a clear answer: a 4xx naming the field, or a report naming each bad row. Never a
500, never a half-written import: the audience order import and the publishing plan import are
all-or-nothing (counted before and after), the others keep good rows and name the bad ones. Nothing that
PostgreSQL cannot store (NUL) may reach the database.
"""

from __future__ import annotations

from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.corpus import strings, tables
from tests.corpus.templates import TEMPLATES
from tests.hostile.conftest import assert_clear_refusal, unstorable_rows

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]


# Files no importer may take: not a table at all, or a workbook that unpacks to far more than it is.
MUST_REFUSE = {
    *("empty", "binary_garbage", "xlsx_not_a_zip", "xlsx_truncated", "xlsx_no_workbook"),
    *("xlsx_zip_bomb_sheet", "xlsx_zip_bomb_shared_strings", "xlsx_many_entries"),
}


def refuses(case: tables.Case, response, accepted: int) -> bool:
    """Whether the answer is a refusal; a case in MUST_REFUSE that is accepted fails here."""
    if response.status_code == accepted:
        assert case.name not in MUST_REFUSE, f"{case.name} was accepted"
        return False
    assert_clear_refusal(response)
    return True


@cache
def cases(name: str) -> list[tables.Case]:
    template = TEMPLATES[name]
    return template.csv_cases() + template.xlsx_cases()


def parametrize(name: str):
    return pytest.mark.parametrize("case", cases(name), ids=[case.name for case in cases(name)])


def upload(case: tables.Case) -> SimpleUploadedFile:
    return SimpleUploadedFile(case.filename, case.data)


def api(world, path: str) -> str:
    return f"/api/w/{world.cast.workspace.slug}/{path}"


def page(world, path: str) -> str:
    return f"/w/{world.cast.workspace.slug}/{path}"


@pytest.fixture(autouse=True)
def nothing_unstorable(db):
    yield
    assert unstorable_rows() == []


# --- audience orders: all or nothing ---------------------------------------------------------------------


@pytest.fixture
def services(world):
    from smmdesk.business.models import Service

    Service.objects.create(workspace=world.cast.workspace, name="Стрижка женская", price=1200)


@parametrize("audience_orders")
def test_audience_orders(owner, world, services, case):
    from smmdesk.audience import imports
    from smmdesk.audience.models import ImportJob, Order

    orders = Order.objects.filter(workspace=world.cast.workspace)
    before = orders.count()
    response = owner.post(api(world, "audience/imports"), {"file": upload(case)})
    if refuses(case, response, 201):
        assert orders.count() == before
        return
    job_id = response.json()["id"]
    ran = owner.post(api(world, f"audience/imports/{job_id}/run"))
    if ran.status_code != 202:
        assert_clear_refusal(ran)
        assert orders.count() == before
        return
    job = imports.execute(job_id)
    assert job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED), job.status
    if job.status == ImportJob.Status.FAILED:
        assert orders.count() == before, "a refused import wrote orders"
        assert job.errors and all(e["message"] and (e["row"] or e["field"]) for e in job.errors), job.errors
        report = owner.get(api(world, f"audience/imports/{job_id}/errors.csv"))
        assert report.status_code == 200
    else:
        assert orders.count() == before + job.created
    if case.name == "xlsx_good":
        assert (job.status, job.created) == (ImportJob.Status.DONE, 1)


# --- ads statistics: good rows kept, bad rows named ------------------------------------------------------


@parametrize("ads_stats")
def test_ads_stats(owner, world, case):
    from smmdesk.ads.models import StatsImport

    response = owner.post(api(world, "ads/stats"), {"platform": "yandex", "file": upload(case)})
    if refuses(case, response, 201):
        assert not StatsImport.objects.filter(workspace=world.cast.workspace).exists()
        return
    body = response.json()
    assert all(e["row"] and e["field"] and e["message"] for e in body["errors"]), body["errors"]
    assert body["rows"] == 0 or body["imported"] >= 1, body
    if case.name == "xlsx_good":
        assert (body["imported"], body["errors"]) == (1, [])


def test_ads_stats_form_refuses_a_zip_bomb(owner, world):
    bomb = next(case for case in cases("ads_stats") if case.name == "xlsx_zip_bomb_sheet")
    response = owner.post(page(world, "ads/stats/"), {"platform": "yandex", "file": upload(bomb)})
    assert response.status_code == 400
    assert "unpacks" in str(response.context["form"].errors)


# --- keyword volumes: good rows kept, bad rows named -----------------------------------------------------


@parametrize("keywords_volumes")
def test_keyword_volumes(owner, world, case):
    from smmdesk.keywords.models import Keyword

    keywords = Keyword.objects.filter(workspace=world.cast.workspace)
    before = keywords.count()
    response = owner.post(api(world, "keywords/volumes"), {"file": upload(case)})
    if refuses(case, response, 200):
        assert keywords.count() == before
        return
    body = response.json()
    assert all(e["row"] and e["field"] and e["message"] for e in body["errors"]), body["errors"]
    # A file of titles only holds no rows; any other readable file holds the good one.
    assert body["rows"] == 0 or body["matched"] + body["added"] >= 1, body
    if case.name == "xlsx_good":
        assert (body["rows"], body["matched"], body["errors"]) == (1, 1, [])


def planner_file(query: str) -> bytes:
    """Keyword Planner's export: UTF-16 LE with a BOM, tab-separated, two title lines."""
    lines = [
        "Keyword Stats 2026-03-20 at 09_00_00",
        "All locations",
        "Keyword\tCurrency\tAvg. monthly searches\tThree month change",
        "women's haircut\tEUR\t1K – 10K\t0%",
        f"{query}\tEUR\t100\t0%",
    ]
    return b"\xff\xfe" + "\r\n".join(lines).encode("utf-16-le")


@pytest.mark.parametrize("name", [*strings.TEXTS, "truncated"])
def test_keyword_planner_utf16(owner, world, name):
    data = planner_file(strings.TEXTS.get(name, "x").replace("\ud800", "?"))
    if name == "truncated":
        data = data[:-1]
    response = owner.post(
        api(world, "keywords/volumes"), {"fmt": "planner", "file": SimpleUploadedFile("planner.csv", data)}
    )
    if response.status_code != 200:
        assert_clear_refusal(response)
        return
    body = response.json()
    assert body["added"] + body["matched"] >= 1, body
    assert all(e["row"] and e["field"] and e["message"] for e in body["errors"]), body["errors"]


# --- the publishing plan: all or nothing -----------------------------------------------------------------


@parametrize("publishing_plan")
def test_publishing_plan(owner, world, case):
    from smmdesk.publishing.models import Post

    posts = Post.objects.filter(workspace=world.cast.workspace)
    before = posts.count()
    preview = owner.post(page(world, "publishing/import/"), {"file": upload(case)})
    assert preview.status_code in (200, 400), preview.status_code
    plan = preview.context["plan"]
    if preview.status_code == 400:
        assert preview.context["errors"] or (plan and plan.file_errors)
        assert posts.count() == before
        return
    assert case.name not in MUST_REFUSE and not case.filename.endswith(".xlsx"), case
    assert plan.rows and all(row.ok or row.errors for row in plan.rows)
    step = {"step": "import", "content": preview.context["content"], "digest": plan.digest}
    done = owner.post(page(world, "publishing/import/"), step)
    if done.status_code == 400:
        assert done.context["errors"]
        assert posts.count() == before, "a refused plan created posts"
    else:
        assert done.status_code == 302
        assert posts.count() == before + len(plan.rows)


@pytest.mark.parametrize("name", list(strings.TEXTS))
def test_publishing_plan_api(owner, world, name):
    from smmdesk.publishing.models import Post

    template = TEMPLATES["publishing_plan"]
    row = list(template.good)
    row[template.text_column] = strings.TEXTS[name]
    content = tables.csv_text([template.header, template.good, row])
    posts = Post.objects.filter(workspace=world.cast.workspace)
    before = posts.count()
    preview = owner.post(api(world, "publishing/imports/preview"), {"csv": content}, "application/json")
    if preview.status_code != 200:
        assert_clear_refusal(preview)
        return
    body = preview.json()
    assert all(e["row"] and e["column"] and e["message"] for e in body["errors"]), body["errors"]
    done = owner.post(
        api(world, "publishing/imports"), {"csv": content, "confirm": body["digest"]}, "application/json"
    )
    if done.status_code == 201:
        assert posts.count() == before + 2
    else:
        assert_clear_refusal(done)
        assert posts.count() == before, "a refused plan created posts"


# --- site positions and visits: good rows kept, bad rows named -------------------------------------------


@pytest.mark.parametrize("kind", ["positions", "visits"])
@pytest.mark.parametrize(
    "case", cases("sites_positions"), ids=[case.name for case in cases("sites_positions")]
)
def test_site_data(owner, world, kind, case):
    if kind == "visits":
        case = next(c for c in cases("sites_visits") if c.name == case.name)
    response = owner.post(page(world, f"sites/funnel/{kind}/"), {"file": upload(case)})
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert response.context["form"].errors["file"]
        return
    assert case.name not in MUST_REFUSE and not case.filename.endswith(".xlsx"), case
    report = response.context["report"]
    assert all(e["row"] and e["field"] and e["message"] for e in report["errors"]), report["errors"]
    assert report["rows"] == 0 or report["imported"] >= 1, report


def test_the_nul_scan_sees_a_stored_nul(world, db):
    """The check every test here ends with can fail: on SQLite, a NUL that got stored is found."""
    from django.db import connection

    from smmdesk.business.models import Department

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses NUL at the INSERT itself")
    Department.objects.filter(pk=world.mine["department"]).update(name=strings.NUL)
    assert (Department._meta.db_table, "name", world.mine["department"]) in unstorable_rows()
    Department.objects.filter(pk=world.mine["department"]).update(name="Quality")
