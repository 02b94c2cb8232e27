"""An import whose process died mid-run (imports.resume_interrupted, every minute): taken up again at once
when the process was on this machine, after STALE_RUN otherwise; a live run is left alone. The real
SIGKILL of a worker, `smmdesk serve` and the command is in tests/reliability/test_crash.py."""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from smmdesk.audience import imports
from smmdesk.audience.models import ImportJob, Order
from smmdesk.audience.tests.fixtures.orders import (
    HEADER,
    csv_bytes,
    member,
    order_rows,
    salon,  # noqa: F401 (a fixture)
    upload,
    write_csv,
)
from smmdesk.lib.workers import worker_name

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def owner(cast, salon, time_machine):  # noqa: F811 (salon: the fixture)
    time_machine.move_to(NOW, tick=False)
    return member(cast)


def dead_process() -> str:
    """The claim a process of this machine that has exited would have left."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return f"{worker_name().rpartition(':')[0]}:{gone.pid}"


def running(owner, rows: int, claimed_by: str) -> ImportJob:
    """A queued upload whose run was claimed (as execute does) by `claimed_by`."""
    job = imports.run_import(owner, imports.start_import(owner, upload("orders.csv", csv_bytes(rows))))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=NOW, claimed_by=claimed_by
    )
    return job


def test_a_dead_workers_import_is_queued_again_and_runs_whole(
    owner, cast, django_capture_on_commit_callbacks
):
    job = running(owner, [HEADER, *order_rows(3)], dead_process())
    with django_capture_on_commit_callbacks() as queued:
        assert imports.resume_interrupted() == 1
    assert len(queued) == 1  # its task
    job.refresh_from_db()
    assert (job.status, job.claimed_by) == (ImportJob.Status.QUEUED, "")
    assert imports.execute(job.pk).status == ImportJob.Status.DONE
    assert Order.objects.filter(workspace=cast.workspace).count() == 3
    job.refresh_from_db()
    assert job.created == 3 and job.claimed_by == "" and not job.file


def test_a_live_run_is_left_alone_until_it_is_stale(owner, time_machine, django_capture_on_commit_callbacks):
    mine = running(owner, [HEADER, *order_rows(1)], worker_name())
    elsewhere = running(owner, [HEADER, *order_rows(1)], "another-machine:4242")
    with django_capture_on_commit_callbacks() as queued:
        assert imports.resume_interrupted() == 0
    assert queued == []
    time_machine.move_to(NOW + imports.STALE_RUN + timedelta(seconds=1), tick=False)
    # Another machine's process cannot be looked up: after STALE_RUN its run is taken as dead.
    with django_capture_on_commit_callbacks() as queued:
        assert imports.resume_interrupted() == 2
    assert len(queued) == 2
    statuses = ImportJob.objects.filter(pk__in=[mine.pk, elsewhere.pk]).values_list("status", flat=True)
    assert set(statuses) == {ImportJob.Status.QUEUED}


def test_a_killed_command_line_import_is_closed_to_be_run_again(owner, cast, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(2)])
    job = imports.import_path(cast.workspace, path)
    assert job.status == ImportJob.Status.DONE
    # As the command leaves it when killed mid-file: running, claimed by its process, no stored file.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, claimed_by=dead_process(), created=0
    )
    assert imports.resume_interrupted() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.error_count == 1
    assert job.errors[0]["field"] == "file" and "Run it again" in job.errors[0]["message"]
    again = imports.import_path(cast.workspace, path)
    assert (again.status, again.unchanged) == (ImportJob.Status.DONE, 2)


def test_a_claim_names_the_process_while_it_runs_and_is_cleared_after(owner, monkeypatch):
    job = imports.run_import(
        owner, imports.start_import(owner, upload("orders.csv", csv_bytes([HEADER, *order_rows(1)])))
    )
    seen = []
    original = imports._import_rows

    def watching(job, *args):
        seen.append(ImportJob.objects.get(pk=job.pk).claimed_by)
        return original(job, *args)

    monkeypatch.setattr(imports, "_import_rows", watching)
    assert imports.execute(job.pk).status == ImportJob.Status.DONE
    assert seen == [worker_name()]
    assert ImportJob.objects.get(pk=job.pk).claimed_by == ""
