"""Import jobs (imports.py): upload, mapping, preview, the all-or-nothing run, re-import, updates, unknown
services, progress, the error report, and 100,000 rows."""

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.audience import imports, order_writer
from smmdesk.audience.imports import ImportRefused, InvalidMapping, NotAllowed
from smmdesk.audience.models import ImportJob, Order, ServiceAlias
from smmdesk.audience.tests.fixtures.orders import (
    HEADER,
    csv_bytes,
    member,
    order_rows,
    salon,  # noqa: F401 (a fixture)
    upload,
    write_csv,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def owner(cast, clock, salon):  # noqa: F811
    return member(cast)


def start(owner, rows, name="orders.csv", delimiter=",", encoding="utf-8"):
    return imports.start_import(owner, upload(name, csv_bytes(rows, delimiter, encoding)))


def run(owner, job):
    """Queue the job and run its task body, as a worker would."""
    job = imports.run_import(owner, job)
    assert job.status == ImportJob.Status.QUEUED
    return imports.execute(job.pk)


def orders(workspace):
    return {order.order_id: order for order in Order.objects.filter(workspace=workspace)}


# --- upload, mapping, preview --------------------------------------------------------------------------


def test_upload_reads_the_file_and_guesses_the_mapping(owner):
    rows = [
        ["№ заказа", "Дата", "Услуга", "Сумма", "Пол"],
        ["1", "14.03.2026", "Стрижка мужская", "600", "м"],
    ]
    job = start(owner, rows, delimiter=";", encoding="cp1251")
    assert job.status == ImportJob.Status.UPLOADED and job.created_by == owner
    assert (job.file_format, job.encoding, job.delimiter, job.total_rows) == ("csv", "cp1251", ";", 1)
    assert job.headers == rows[0] and job.file_name == "orders.csv"
    assert job.mapping == {"order_id": 0, "date": 1, "service": 2, "price": 3, "gender": 4}
    assert os.path.isfile(job.file.path)


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_only_managers_may_import(cast, clock, role):
    with pytest.raises(NotAllowed):
        imports.start_import(member(cast, role), upload("o.csv", csv_bytes([HEADER])))
    assert not ImportJob.objects.exists()


def stored_files(settings) -> set[str]:
    return {
        os.path.join(folder, name)
        for folder, _dirs, names in os.walk(settings.MEDIA_ROOT / "imports")
        for name in names
    }


def test_a_refused_upload_keeps_nothing(owner, settings, monkeypatch):
    before = stored_files(settings)
    with pytest.raises(ImportRefused) as refused:
        imports.start_import(owner, upload("o.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 64))
    assert ".xls" in refused.value.message
    monkeypatch.setattr(imports.importer, "MAX_BYTES", 10)
    with pytest.raises(ImportRefused) as refused:
        start(owner, [HEADER, *order_rows(3)])
    assert "larger than" in refused.value.message
    assert not ImportJob.objects.exists()
    assert stored_files(settings) == before


def test_set_mapping_checks_every_choice(owner):
    job = start(owner, [["a", "b", "c", "d"], ["1", "2026-03-01", "Cut", "5"]])
    assert job.mapping == {}
    with pytest.raises(InvalidMapping) as invalid:
        imports.set_mapping(owner, job, {"order_id": 0, "date": 0, "price": 9, "colour": 1})
    assert sorted(invalid.value.errors) == sorted(
        [
            ("colour", "There is no field colour."),
            ("price", "No such column in the file."),
            ("service", "Choose the column with this field."),
            ("order_id", "This column is chosen for another field too."),
            ("date", "This column is chosen for another field too."),
        ]
    )
    job = imports.set_mapping(
        owner, job, {"order_id": 0, "date": "1", "service": 2, "price": None, "age": ""}
    )
    job.refresh_from_db()
    assert job.mapping == {"order_id": 0, "date": 1, "service": 2}


def test_mapping_belongs_to_the_workspace(owner, cast):
    job = start(owner, [HEADER, *order_rows(1)])
    from smmdesk.accounts.models import Membership

    outsider = Membership.objects.get(workspace=cast.other)
    with pytest.raises(NotAllowed):
        imports.set_mapping(outsider, job, job.mapping)
    with pytest.raises(NotAllowed):
        imports.run_import(outsider, job)


def test_preview_shows_values_and_problems(owner):
    rows = [HEADER, *order_rows(2), ["A9", "31.02.2026", "", "abc", "м", "", "", ""]]
    job = start(owner, rows)
    shown = imports.preview(job, limit=10)
    assert [row["row"] for row in shown] == [2, 3, 4]
    assert shown[0]["values"]["service"] == "Men's haircut" and shown[0]["errors"] == []
    assert {error["field"] for error in shown[2]["errors"]} == {"date", "service", "price"}
    assert len(imports.preview(job, limit=2)) == 2


# --- running -------------------------------------------------------------------------------------------


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_import_creates_orders_and_deletes_the_file(owner, cast, salon, django_capture_on_commit_callbacks):  # noqa: F811
    rows = [HEADER, ["1", "14.03.2026", "стрижка мужская", "1 200,50", "ж", "34", "Ленинский", "VK"]]
    job = start(owner, rows)
    path = job.file.path
    # The task is queued when the transaction commits; Huey in immediate mode runs it there and then.
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert imports.run_import(owner, job).status == ImportJob.Status.QUEUED
    finally:
        HUEY.immediate = False
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created, job.updated, job.unchanged, job.processed_rows, job.total_rows) == (1, 0, 0, 1, 1)
    assert not job.file and not os.path.exists(path)
    order = Order.objects.get(workspace=cast.workspace)
    assert (
        order.order_id == "1" and order.date == date(2026, 3, 14) and order.service == salon["Men's haircut"]
    )
    assert order.service_name == "стрижка мужская" and order.price == Decimal("1200.50")
    assert (order.gender, order.age, order.district, order.source) == ("female", 34, "Ленинский", "VK")
    assert order.import_job == job


def test_a_job_runs_once(owner, cast, django_capture_on_commit_callbacks):
    job = start(owner, [HEADER, *order_rows(3)])
    with django_capture_on_commit_callbacks() as callbacks:
        imports.run_import(owner, job)
        again = imports.run_import(owner, job)  # a double click
    assert again.status == ImportJob.Status.QUEUED and len(callbacks) == 1
    assert imports.execute(job.pk).status == ImportJob.Status.DONE
    Order.objects.filter(workspace=cast.workspace).update(price=1)
    second = imports.execute(job.pk)  # the task delivered twice
    assert second.status == ImportJob.Status.DONE and second.created == 3
    assert set(Order.objects.values_list("price", flat=True)) == {Decimal("1.00")}
    with pytest.raises(ImportRefused):
        imports.set_mapping(owner, second, second.mapping)


def test_a_claim_left_by_a_dead_worker_is_taken_again(owner, cast, clock):
    job = start(owner, [HEADER, *order_rows(2)])
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=NOW)
    assert imports.execute(job.pk).status == ImportJob.Status.RUNNING  # still someone's
    clock.move_to(NOW + imports.STALE_RUN + timedelta(seconds=1), tick=False)
    assert imports.execute(job.pk).status == ImportJob.Status.DONE
    assert Order.objects.filter(workspace=cast.workspace).count() == 2


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_malformed_rows_import_nothing_and_every_bad_row_is_reported(owner, cast, tmp_path, monkeypatch):
    # Small chunks, so good rows before the first bad one reach the database and must be rolled back.
    monkeypatch.setattr(order_writer, "CHUNK", 2)
    imports.import_path(cast.workspace, write_csv(tmp_path / "first.csv", [HEADER, *order_rows(2)]))
    before = {o.order_id: (o.price, o.age) for o in Order.objects.all()}
    rows = [
        HEADER,
        [
            "A1",
            "2026-03-02",
            "Men's haircut",
            "999",
            "m",
            "30",
            "Leninsky",
            "vk",
        ],  # an update: must not apply
        ["A3", "2026-03-02", "Men's haircut", "600", "m", "30", "Leninsky", "vk"],
        ["A4", "2026-02-30", "Men's haircut", "600", "m", "30", "Leninsky", "vk"],
        ["", "2026-03-02", "", "600", "q", "30", "Leninsky", "vk"],
        ["A6", "2026-03-02", "Men's haircut", "600", "m", "300", "Leninsky", "vk"],
        ["A3", "2026-03-02", "Men's haircut", "600", "m", "30", "Leninsky", "vk"],
        *order_rows(5, start=10),
    ]
    job = run(owner, start(owner, rows))
    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["field"]) for e in job.errors] == [
        (4, "date"),
        (5, "order_id"),
        (5, "service"),
        (5, "gender"),
        (6, "age"),
        (7, "order_id"),
    ]
    assert job.errors[2]["message"] == "The service is missing."
    assert job.errors[5]["message"] == "The order id A3 is also in row 3."
    assert job.errors[0]["value"] == "2026-02-30" and job.error_count == 6
    assert (job.created, job.updated, job.unchanged, job.processed_rows) == (0, 0, 0, 11)
    assert {o.order_id: (o.price, o.age) for o in Order.objects.all()} == before
    assert not job.file


def test_stored_errors_are_capped_but_all_counted(owner, cast, monkeypatch, tmp_path):
    monkeypatch.setattr(imports, "MAX_STORED_ERRORS", 5)
    rows = [HEADER, *[[f"B{n}", "someday", "Cut", "", "", "", "", ""] for n in range(12)]]
    job = imports.import_path(cast.workspace, write_csv(tmp_path / "bad.csv", rows))
    assert job.status == ImportJob.Status.FAILED
    assert len(job.errors) == 5 and job.error_count == 12
    report = list(csv.reader(io.StringIO(imports.error_report_csv(job))))
    assert report[0] == ["row", "field", "value", "message"] and len(report) == 1 + 5 + 1
    assert report[-1][3] == "7 more errors are not listed."


def test_error_report_is_safe_to_open_in_a_spreadsheet(owner, cast, tmp_path):
    rows = [
        HEADER,
        ['=HYPERLINK("http://evil")', "2026-03-02", "Cut", "+1+1", "@SUM(A1)", "-2", "", ""],
        ["C2", "=1+1", "Cut", "", "", "", "", ""],
    ]
    job = imports.import_path(cast.workspace, write_csv(tmp_path / "evil.csv", rows))
    assert job.status == ImportJob.Status.FAILED
    report = list(csv.reader(io.StringIO(imports.error_report_csv(job))))
    values = {(row[0], row[1]): row[2] for row in report[1:]}
    assert values == {
        ("2", "price"): "'+1+1",
        ("2", "gender"): "'@SUM(A1)",
        ("2", "age"): "'-2",
        ("3", "date"): "'=1+1",
    }
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in report for cell in row)


def test_a_file_too_long_fails_as_a_whole(owner, cast, monkeypatch):
    job = start(owner, [HEADER, *order_rows(4)])
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    job = run(owner, job)
    assert job.status == ImportJob.Status.FAILED and job.errors[0]["row"] is None
    assert "more than" in job.errors[0]["message"] and not Order.objects.exists()


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_reimport_changes_nothing(owner, cast, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(20)])
    first = imports.import_path(cast.workspace, path)
    assert (first.status, first.created) == (ImportJob.Status.DONE, 20)
    snapshot = list(Order.objects.order_by("pk").values())
    second = imports.import_path(cast.workspace, path, membership=owner)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 20)
    assert list(Order.objects.order_by("pk").values()) == snapshot


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_reimport_updates_what_changed(owner, cast, salon, tmp_path):  # noqa: F811
    path = write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(5)])
    imports.import_path(cast.workspace, path)
    rows = [HEADER, *order_rows(5), *order_rows(1, start=6)]
    rows[2] = ["A2", "03.03.2026", "Стрижка женская", "1 250", "ж", "29", "Central", "telegram"]
    job = imports.import_path(cast.workspace, write_csv(path, rows))
    assert (job.created, job.updated, job.unchanged) == (1, 1, 4)
    changed = orders(cast.workspace)["A2"]
    assert changed.date == date(2026, 3, 3) and changed.service == salon["Women's haircut"]
    assert (changed.price, changed.gender, changed.age) == (Decimal("1250.00"), "female", 29)
    assert (changed.district, changed.source, changed.import_job) == ("Central", "telegram", job)


def test_order_ids_are_per_workspace(owner, cast, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(3)])
    imports.import_path(cast.other, path)
    job = imports.import_path(cast.workspace, path)
    assert job.created == 3 and Order.objects.count() == 6


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_xlsx_import_with_datetimes_serials_and_numbers(owner, cast, tmp_path):
    rows = [
        ["Order ID", "Date", "Service", "Price", "Age"],
        [1001, datetime(2026, 3, 14, 10, 30), "Men's haircut", 600, 30],
        [1002, 46095, "Men's haircut", 1200.5, 41.0],
    ]
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx_bytes(rows, formats={1: "General"}))
    job = imports.import_path(cast.workspace, path)
    assert job.status == ImportJob.Status.DONE, job.errors
    found = orders(cast.workspace)
    assert set(found) == {"1001", "1002"}
    assert found["1001"].date == found["1002"].date == date(2026, 3, 14)
    assert found["1002"].price == Decimal("1200.50") and found["1002"].age == 41


def test_xlsx_1904_serials(owner, cast, tmp_path):
    path = tmp_path / "mac.xlsx"
    path.write_bytes(xlsx_bytes([["order_id", "date", "service"], ["M1", 44633, "Cut"]], date1904=True))
    job = imports.import_path(cast.workspace, path)
    assert job.status == ImportJob.Status.DONE and orders(cast.workspace)["M1"].date == date(2026, 3, 14)


# --- unknown services ----------------------------------------------------------------------------------


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_unknown_services_are_counted_and_can_be_mapped(owner, cast, salon, tmp_path):  # noqa: F811
    rows = [HEADER, *order_rows(2), *order_rows(3, start=3, service="Окрашивание")]
    rows += order_rows(1, start=6, service="  ОКРАШИВАНИЕ ")
    rows += order_rows(1, start=7, service="Укладка")
    job = imports.import_path(cast.workspace, write_csv(tmp_path / "o.csv", rows))
    assert job.status == ImportJob.Status.DONE and job.created == 7
    assert job.unknown_services == {"Окрашивание": 3, "ОКРАШИВАНИЕ": 1, "Укладка": 1}
    assert imports.unknown_services(cast.workspace) == [
        ("Окрашивание", 3),
        ("ОКРАШИВАНИЕ", 1),
        ("Укладка", 1),
    ]
    women = salon["Women's haircut"]
    assert imports.map_service(owner, "окрашивание", women) == 4
    assert ServiceAlias.objects.get(workspace=cast.workspace).name == "окрашивание"
    assert imports.unknown_services(cast.workspace) == [("Укладка", 1)]
    assert Order.objects.filter(service=women).count() == 4
    # The mapping holds for the next file, and the import does not undo it.
    rows = [
        HEADER,
        *order_rows(3, start=3, service="Окрашивание"),
        *order_rows(1, start=8, service="окрашивание"),
    ]
    again = imports.import_path(cast.workspace, write_csv(tmp_path / "o.csv", rows))
    assert (again.created, again.updated, again.unchanged) == (1, 0, 3) and again.unknown_services == {}
    assert Order.objects.filter(service=women).count() == 5


def test_map_service_checks_role_and_workspace(owner, cast, salon):  # noqa: F811
    from smmdesk.business.models import Service

    theirs = Service.objects.create(workspace=cast.other, name="Cut", price=1)
    with pytest.raises(NotAllowed):
        imports.map_service(member(cast, "content_manager"), "x", salon["Men's haircut"])
    with pytest.raises(NotAllowed):
        imports.map_service(owner, "x", theirs)
    with pytest.raises(ImportRefused):
        imports.map_service(owner, "   ", salon["Men's haircut"])
    assert not ServiceAlias.objects.exists()


# --- mapping by name (CLI), progress, many rows --------------------------------------------------------


def test_import_path_mapping_by_header_name_or_index(owner, cast, tmp_path):
    rows = [["Номер", "Когда", "Что", "Сколько"], ["Z1", "01.03.2026", "Cut", "100"]]
    path = write_csv(tmp_path / "odd.csv", rows)
    with pytest.raises(InvalidMapping) as invalid:
        imports.import_path(cast.workspace, path)
    assert {field for field, _m in invalid.value.errors} == {"date", "service"}
    with pytest.raises(InvalidMapping) as invalid:
        imports.import_path(cast.workspace, path, {"date": "Дата", "service": 2})
    assert invalid.value.errors == [("date", "There is no column Дата.")]
    job = imports.import_path(cast.workspace, path, {"date": "когда", "service": 2, "price": "Сколько"})
    assert job.status == ImportJob.Status.DONE and job.mapping == {
        "order_id": 0,
        "date": 1,
        "service": 2,
        "price": 3,
    }
    assert orders(cast.workspace)["Z1"].price == Decimal("100.00")
    # A column given to another field leaves the guess.
    job = imports.import_path(
        cast.workspace, path, {"client_id": "Номер", "order_id": 3, "date": 1, "service": 2}
    )
    assert job.mapping == {"client_id": 0, "order_id": 3, "date": 1, "service": 2}
    assert not ImportJob.objects.filter(status=ImportJob.Status.RUNNING).exists()


@pytest.mark.dbqueue  # raw SQL writes: checked on PostgreSQL too
def test_progress_is_visible_while_running(owner, cast, monkeypatch):
    job = start(owner, [HEADER, *order_rows(25)])
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 10)
    assert imports.progress(job) == {"status": "uploaded", "processed": 0, "total": 25, "percent": 0}
    seen = []
    clean = imports.clean_order

    def watching(values, **kwargs):
        if values["order_id"] in ("A12", "A22"):
            seen.append(imports.progress(ImportJob.objects.get(pk=job.pk)))
        return clean(values, **kwargs)

    monkeypatch.setattr(imports, "clean_order", watching)
    done = run(owner, job)
    assert seen == [
        {"status": "running", "processed": 10, "total": 25, "percent": 40},
        {"status": "running", "processed": 20, "total": 25, "percent": 80},
    ]
    assert imports.progress(done) == {"status": "done", "processed": 25, "total": 25, "percent": 100}


def test_100000_rows(owner, cast, salon, tmp_path):  # noqa: F811
    services = list(salon)
    rows = [HEADER] + [
        [f"N{n}", f"{1 + n % 28:02d}.02.2026", services[n % 4], f"{400 + n % 7 * 100},00", "мж"[n % 2], 18 + n % 50,
         "Ленинский", "vk"]
        for n in range(100_000)
    ]  # fmt: skip
    path = write_csv(tmp_path / "big.csv", rows, delimiter=";")
    # How fast is measured by `smmdesk bench import`, not here: a shared CI machine makes times noisy.
    job = imports.import_path(cast.workspace, path)
    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert job.created == 100_000 and Order.objects.filter(workspace=cast.workspace).count() == 100_000
    assert Order.objects.filter(service__isnull=True).count() == 0


def test_abandoned_uploads_are_discarded_after_a_day(owner, cast, clock, settings):
    waiting = start(owner, [HEADER, *order_rows(1)])
    queued = imports.run_import(owner, start(owner, [HEADER, *order_rows(1)]))
    path = waiting.file.path
    assert imports.discard_abandoned() == 0
    clock.move_to(NOW + imports.ABANDONED + timedelta(minutes=1), tick=False)
    assert imports.discard_abandoned() == 1
    waiting.refresh_from_db()
    assert waiting.status == ImportJob.Status.FAILED and not waiting.file and not os.path.exists(path)
    assert waiting.errors[0]["field"] == "file" and waiting.error_count == 1
    queued.refresh_from_db()
    assert queued.status == ImportJob.Status.QUEUED and os.path.exists(queued.file.path)
    assert imports.execute(queued.pk).status == ImportJob.Status.DONE
