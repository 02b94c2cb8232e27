"""The import pages: upload, the mapping step (selects preselected from the headers, a preview of the
first rows with their errors), the progress that htmx polls, the result (the counts, or the refusal
with every bad row and field and the CSV report), and the list of past imports.

The Huey worker is played by calling imports.execute, as the task does.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.audience import imports
from smmdesk.audience.models import ImportJob, Order
from smmdesk.audience.tests import test_views as shared
from smmdesk.business.models import Service

pytestmark = pytest.mark.django_db

clock = shared.clock

HEADER = "№ заказа;Дата;Услуга;Сумма;Пол;Возраст;Район;Откуда пришёл"
GOOD_ROWS = [
    "1001;14.03.2026;Мужская стрижка;600;м;34;Ленинский;ВКонтакте",
    "1002;15.03.2026;Женская стрижка;1 200;ж;28;Центральный;Instagram",
]
BAD_ROW = "1003;32.03.2026;Детская стрижка;450;ж;7;Ленинский;Сарафан"
FIXED_ROW = "1003;16.03.2026;Детская стрижка;450;ж;7;Ленинский;Сарафан"
# "Откуда пришёл" (where they came from) is no header the import knows: it is mapped by hand.
SOURCE_COLUMN = 7


def cp1251_file(rows: list[str], name: str = "orders.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\r\n".join([HEADER, *rows]).encode("cp1251"), content_type="text/csv")


@pytest.fixture
def salon(cast, clock):
    for name, price in (("Мужская стрижка", 600), ("Женская стрижка", 1200), ("Детская стрижка", 450)):
        Service.objects.create(workspace=cast.workspace, name=name, price=price)
    return cast


def upload(client, rows: list[str]) -> ImportJob:
    response = client.post("/w/salon/audience/import/", {"file": cp1251_file(rows)})
    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == f"/w/salon/audience/import/{job.pk}/"
    return job


def job_url(job: ImportJob, tail: str = "") -> str:
    return f"/w/salon/audience/import/{job.pk}/{tail}"


def selected(body: str, field: str) -> str:
    """The value of the option selected in the field's select ("" if none)."""
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', body, re.S)
    assert select, field
    found = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return found.group(1) if found else ""


def mapping_post(job: ImportJob, step: str, **changes) -> dict:
    data = {field: "" if column is None else str(column) for field, column in job.mapping.items()}
    for name, _label, _required in imports.FIELDS:
        data.setdefault(name, "")
    data.update({field: str(column) for field, column in changes.items()})
    return {**data, "step": step}


def progress(client, job: ImportJob) -> str:
    response = client.get(job_url(job, "progress/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_refused_then_corrected_file(salon, login):
    client = login(salon.users["owner"])
    job = upload(client, [*GOOD_ROWS, BAD_ROW])
    assert (job.encoding, job.delimiter, job.total_rows) == ("cp1251", ";", 3)

    # The mapping step: every recognised header preselected, the unknown one left for a person.
    page = client.get(job_url(job))
    body = page.content.decode()
    assert page.status_code == 200
    for field, column in {"order_id": 0, "date": 1, "service": 2, "price": 3, "gender": 4, "age": 5}.items():
        assert selected(body, field) == str(column), field
    assert selected(body, "district") == "6" and selected(body, "source") == ""
    assert "Откуда пришёл" in body  # offered by its header
    preview = page.context["preview"]
    assert [row["row"] for row in preview["rows"]] == [2, 3, 4]
    assert [row["errors"] for row in preview["rows"][:2]] == [[], []]
    assert [error["field"] for error in preview["rows"][2]["errors"]] == ["Date"]

    # Import anyway: the worker refuses the whole file, naming the row and the field.
    assert client.post(job_url(job), mapping_post(job, "import")).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    queued = progress(client, job)
    assert 'hx-trigger="every 1s"' in queued and "<progress" in queued
    imports.execute(job.pk)
    result = progress(client, job)
    assert "hx-trigger" not in result  # finished: the polling stops
    assert 'data-testid="import-refused"' in result
    assert re.search(
        r'data-testid="import-error" data-row="4"><td>4</td><td>Date</td><td>32\.03\.2026</td>', result
    )
    assert not Order.objects.exists()
    report = client.get(job_url(job, "errors.csv"))
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode())))
    assert lines[0] == ["row", "field", "value", "message"]
    assert [line[:3] for line in lines[1:]] == [["4", "date", "32.03.2026"]]

    # The corrected file; the source column is chosen by hand, checked, then imported.
    job = upload(client, [*GOOD_ROWS, FIXED_ROW])
    assert client.post(job_url(job), mapping_post(job, "check", source=SOURCE_COLUMN)).status_code == 302
    job.refresh_from_db()
    assert job.mapping["source"] == SOURCE_COLUMN and job.status == ImportJob.Status.UPLOADED
    body = client.get(job_url(job)).content.decode()
    assert selected(body, "source") == str(SOURCE_COLUMN)
    assert client.post(job_url(job), mapping_post(job, "import")).status_code == 302
    imports.execute(job.pk)
    result = progress(client, job)
    assert (
        'data-testid="import-done"' in result
        and "3 orders imported: 3 new, 0 updated, 0 unchanged." in result
    )
    assert sorted(Order.objects.values_list("source", flat=True)) == ["Instagram", "ВКонтакте", "Сарафан"]
    # The page itself shows the same result, and the list of imports both jobs.
    assert 'data-testid="import-done"' in client.get(job_url(job)).content.decode()
    statuses = re.findall(
        r'data-testid="import-job" data-status="(\w+)"',
        client.get("/w/salon/audience/import/").content.decode(),
    )
    assert statuses == ["done", "failed"]


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"service": 0}, "service"),  # the order id's column chosen twice
        ({"date": ""}, "date"),  # a required field without a column
        ({"age": 42}, "age"),  # no such column
    ],
)
def test_a_bad_mapping_is_named_next_to_its_field(salon, login, changes, field):
    client = login(salon.users["smm_manager"])
    job = upload(client, GOOD_ROWS)
    response = client.post(job_url(job), mapping_post(job, "import", **changes))
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED and job.mapping == imports.guess_mapping(job.headers)


def test_upload_without_a_file_or_with_an_unreadable_one(salon, login):
    client = login(salon.users["owner"])
    response = client.post("/w/salon/audience/import/", {})
    assert response.status_code == 400 and 'data-testid="error-file"' in response.content.decode()
    junk = SimpleUploadedFile(
        "orders.xlsx", b"PK\x03\x04 not really a workbook", content_type="application/zip"
    )
    response = client.post("/w/salon/audience/import/", {"file": junk})
    assert response.status_code == 400 and 'data-testid="error-file"' in response.content.decode()
    assert not ImportJob.objects.exists()


def test_readers_follow_imports_but_cannot_upload_or_run_them(salon, login):
    job = upload(login(salon.users["owner"]), GOOD_ROWS)
    client = login(salon.users["content_manager"])
    page = client.get("/w/salon/audience/import/").content.decode()
    assert 'data-testid="upload-form"' not in page and "orders.csv" in page
    body = client.get(job_url(job)).content.decode()
    assert 'data-testid="mapping-form"' in body and 'data-testid="mapping-import"' not in body
    assert client.post(job_url(job), mapping_post(job, "import")).status_code == 403
    assert client.post("/w/salon/audience/import/", {"file": cp1251_file(GOOD_ROWS)}).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


def test_a_finished_job_is_not_run_again(salon, login):
    client = login(salon.users["owner"])
    job = upload(client, GOOD_ROWS)
    client.post(job_url(job), mapping_post(job, "import"))
    imports.execute(job.pk)
    response = client.post(job_url(job), mapping_post(job, "import"))
    assert response.status_code == 302
    assert Order.objects.count() == 2
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


def test_progress_without_htmx_goes_to_the_page(salon, login):
    client = login(salon.users["owner"])
    job = upload(client, GOOD_ROWS)
    response = client.get(job_url(job, "progress/"))
    assert response.status_code == 302 and response["Location"] == job_url(job)


def test_another_workspaces_import_is_not_found(salon, login):
    theirs = ImportJob.objects.create(workspace=salon.other, file_name="theirs.csv", file_format="csv")
    client = login(salon.users["owner"])
    for tail in ("", "progress/", "errors.csv"):
        assert client.get(job_url(theirs, tail), HTTP_HX_REQUEST="true").status_code == 404, tail


def test_unknown_services_of_an_import_are_offered_for_mapping(salon, login):
    client = login(salon.users["owner"])
    job = upload(client, [*GOOD_ROWS, "1004;16.03.2026;Стрижка машинкой;400;м;40;Ленинский;ВКонтакте"])
    client.post(job_url(job), mapping_post(job, "import"))
    imports.execute(job.pk)
    result = progress(client, job)
    assert "Стрижка машинкой (1)" in result and "/w/salon/audience/services/" in result
    rows = client.get("/w/salon/audience/services/").context["rows"]
    assert [(row["name"], row["orders"]) for row in rows] == [("Стрижка машинкой", 1)]
