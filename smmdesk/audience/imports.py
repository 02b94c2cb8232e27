"""Order import jobs: upload, column mapping with a preview, the all-or-nothing import, its progress and
its error report; service names the profile does not know, and mapping them.

A job goes UPLOADED (the file is stored and read: format, encoding, separator, headers, a guessed
mapping) -> QUEUED (run_import) -> RUNNING (the Huey task claimed it) -> DONE or FAILED. The task checks
every row and writes orders in chunks inside one transaction; after the first bad row it stops writing
but goes on checking, so the report lists every bad row, and at the end the transaction is rolled back:
a file is imported whole or not at all. Orders are keyed on (workspace, order id): a row whose order
exists is compared field by field and counted as updated or unchanged, so importing a file again
changes nothing. The stored file is deleted when the job finishes. A worker killed mid-run leaves its job
RUNNING with none of its orders written (the transaction died with it); resume_interrupted, every minute,
queues it again and it runs whole.

While a job runs its counters live in the Django cache (shared by web and workers through Redis; on the
one-machine default the embedded worker shares the web process's memory); the job row gets them at the
end, when its transaction is over.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import allowed
from smmdesk.audience import importer
from smmdesk.audience.importer import MAX_ROWS, ImportRefused, guess_mapping
from smmdesk.audience.models import ImportJob, Order, ServiceAlias
from smmdesk.audience.order_writer import OrderWriter
from smmdesk.audience.rows import (
    FIELD_NAMES,
    FIELDS,
    REQUIRED,
    ServiceIndex,
    cell_text,
    clean_order,
    service_key,
)
from smmdesk.audience.rows import excel_serial_date as _excel_serial_date
from smmdesk.core.column_mapping import mapping_errors
from smmdesk.inbox.reports import workspace_zone
from smmdesk.lib.spreadsheet import safe_cell
from smmdesk.lib.workers import dead_here, worker_name

__all__ = ["FIELDS", "ImportRefused", "InvalidMapping", "NotAllowed", "guess_mapping"]

log = logging.getLogger(__name__)

MAX_STORED_ERRORS = 10_000
PROGRESS_EVERY = 1_000
# A RUNNING job this old lost its worker (its transaction died with it, so nothing was written): it may
# be claimed again. A worker that died on this machine is known at once (resume_interrupted).
STALE_RUN = timedelta(minutes=30)
VALUE_CHARS = 200
ABANDONED = timedelta(days=1)


class NotAllowed(ImportRefused):
    """The member's role may not import orders, or the job belongs to another workspace."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("Your role may not import orders."), None)


class InvalidMapping(ImportRefused):
    """The mapping cannot be used: (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors[0][1], errors[0][0])
        self.errors = errors


def _require(membership: Membership | None, job: ImportJob | None = None) -> None:
    if membership is None or not allowed(membership.role, "audience.manage"):
        raise NotAllowed()
    if job is not None and job.workspace_id != membership.workspace_id:
        raise NotAllowed(_("This import belongs to another workspace."))


# --- upload and mapping --------------------------------------------------------------------------------


def start_import(membership: Membership, upload) -> ImportJob:
    """Store an uploaded file (a Django UploadedFile) and read what it is; the job waits for its mapping.
    Raises ImportRefused (nothing is kept) when the file cannot be imported at all."""
    _require(membership)
    if upload is None:
        raise ImportRefused(_("Choose a file to import."))
    if upload.size is not None and upload.size > importer.MAX_BYTES:
        raise ImportRefused(
            _("The file is larger than %(limit)s MB; split it into smaller files.")
            % {"limit": importer.MAX_BYTES // (1024 * 1024)}
        )
    name = os.path.basename(upload.name or "orders")[:255] or "orders"
    job = ImportJob(workspace=membership.workspace, created_by=membership, file_name=name)
    job.file.save(name, upload, save=False)
    try:
        info = importer.sniff(Path(job.file.path))
    except BaseException:
        job.file.delete(save=False)
        raise
    _describe(job, info)
    job.mapping = guess_mapping(info.headers)
    job.save()
    return job


def _describe(job: ImportJob, info: importer.FileInfo) -> None:
    job.file_format, job.encoding, job.delimiter = info.format, info.encoding, info.delimiter
    job.headers = info.headers
    job.total_rows = info.total_rows


def check_mapping(headers: list[str], mapping: dict) -> dict[str, int]:
    """A mapping as stored (field -> column index, unmapped fields left out); InvalidMapping otherwise."""
    clean, errors = mapping_errors(headers, mapping, FIELD_NAMES, REQUIRED)
    if errors:
        raise InvalidMapping(errors)
    return clean


def set_mapping(membership: Membership, job: ImportJob, mapping: dict[str, int | None]) -> ImportJob:
    _require(membership, job)
    if job.status != ImportJob.Status.UPLOADED:
        raise ImportRefused(_("This import has already started."), None)
    job.mapping = check_mapping(job.headers, mapping)
    job.save(update_fields=["mapping"])
    return job


def _values(cells, mapping: dict[str, int], mac_epoch: bool = False) -> dict[str, object]:
    values = {field: cells[index] if index < len(cells) else None for field, index in mapping.items()}
    moment = values.get("date")
    if mac_epoch and isinstance(moment, int | float) and not isinstance(moment, bool):
        try:
            values["date"] = _excel_serial_date(moment, mac=True)
        except ValueError:
            pass  # left as the number: clean_order reports it
    return values


def _today(workspace: Workspace):
    return timezone.now().astimezone(workspace_zone(workspace)).date()


def preview(job: ImportJob, limit: int = 10) -> list[dict]:
    """The first rows as the mapping reads them, each with its problems: [{"row", "values", "errors"}]."""
    if not job.file or not os.path.exists(job.file.path):
        return []
    services = ServiceIndex.for_workspace(job.workspace)
    today = _today(job.workspace)
    shown = []
    with importer.open_table(Path(job.file.path), job.file_format, job.encoding, job.delimiter) as table:
        for number, cells in table:
            if len(shown) >= limit:
                break
            values = _values(cells, job.mapping, table.mac_epoch)
            _cleaned, errors = clean_order(values, today=today, services=services)
            shown.append(
                {
                    "row": number,
                    "values": {field: cell_text(value) for field, value in values.items()},
                    "errors": [{"field": field, "message": message} for field, message in errors],
                }
            )
    return shown


# --- running -------------------------------------------------------------------------------------------


def run_import(membership: Membership, job: ImportJob) -> ImportJob:
    """Queue the import; a job already queued, running or finished is returned as it is."""
    _require(membership, job)
    check_mapping(job.headers, job.mapping)
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.UPLOADED).update(
            status=ImportJob.Status.QUEUED
        )
        if claimed:
            from smmdesk.audience.tasks import import_orders_task

            job_id = job.pk
            transaction.on_commit(lambda: import_orders_task(job_id))
    job.refresh_from_db()
    return job


def execute(job_id: int) -> ImportJob:
    """The task's body: claims the job (QUEUED -> RUNNING), imports it all or nothing, deletes the file."""
    now, me = timezone.now(), worker_name()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=now, claimed_by=me
    ) or ImportJob.objects.filter(
        pk=job_id, status=ImportJob.Status.RUNNING, started_at__lt=now - STALE_RUN
    ).update(started_at=now, claimed_by=me)
    job = ImportJob.objects.select_related("workspace", "created_by__user").filter(pk=job_id).first()
    if not claimed or job is None:
        return job
    path = Path(job.file.path) if job.file else None
    return _run(job, path)


def import_path(workspace: Workspace, path, mapping: dict | None = None, membership=None) -> ImportJob:
    """Import a file synchronously (the CLI, the benchmark). `mapping`: field -> header name or column
    index, over the guessed one (None unmaps). Raises ImportRefused/InvalidMapping for an unusable file
    or mapping, before any job exists; row problems give a FAILED job."""
    if membership is not None:
        _require(membership)
        if membership.workspace_id != workspace.pk:
            raise NotAllowed(_("This import belongs to another workspace."))
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(_("No such file: %(path)s") % {"path": path})
    info = importer.sniff(path)
    job = ImportJob(workspace=workspace, created_by=membership, file_name=path.name[:255])
    _describe(job, info)
    job.mapping = check_mapping(info.headers, _merge_mapping(info.headers, mapping or {}))
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.claimed_by = worker_name()
    job.save()
    return _run(job, path)


def _merge_mapping(headers: list[str], given: dict) -> dict:
    if not isinstance(given, dict):
        raise InvalidMapping([("mapping", _("The mapping must be field: column pairs."))])
    errors: list[tuple[str, str]] = []
    chosen: dict[str, int | None] = {}
    for field, column in given.items():
        if isinstance(column, str) and not column.strip().isdigit():
            found = importer.find_header(headers, column)
            if found is None:
                errors.append((str(field), _("There is no column %(name)s.") % {"name": column}))
                continue
            column = found
        chosen[field] = column
    if errors:
        raise InvalidMapping(errors)
    taken = {int(column) for column in chosen.values() if column is not None and str(column).isdigit()}
    merged = {f: c for f, c in guess_mapping(headers).items() if f not in chosen and c not in taken}
    merged.update(chosen)
    return merged


def progress_key(job_id: int) -> str:
    return f"audience:import:{job_id}:processed"


def progress(job: ImportJob) -> dict:
    """{"status", "processed", "total", "percent"}; the row counts of a running job come from the cache."""
    job.refresh_from_db(fields=["status", "processed_rows", "total_rows"])
    processed = job.processed_rows
    if job.status == ImportJob.Status.RUNNING:
        processed = cache.get(progress_key(job.pk), processed)
    total = max(job.total_rows, processed)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        percent = 100
    else:
        percent = min(99, processed * 100 // total) if total else 0
    return {"status": job.status, "processed": processed, "total": total, "percent": percent}


class _Outcome:
    """What a run found: rows read, every problem counted (the first MAX_STORED_ERRORS kept), the service
    names no profile service matched."""

    def __init__(self):
        self.rows = 0
        self.errors: list[dict] = []
        self.error_count = 0
        self.unknown: Counter = Counter()

    def error(self, row: int | None, field: str, value, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            text = cell_text(value)
            self.errors.append({"row": row, "field": field, "value": text[:VALUE_CHARS], "message": message})


def _language(job: ImportJob) -> str:
    user = job.created_by.user if job.created_by_id else None
    return user.language if user is not None and user.language else translation.get_language()


def _run(job: ImportJob, path: Path | None) -> ImportJob:
    outcome, writer = _Outcome(), OrderWriter(job)
    stored = job.file.name if job.file else ""
    # The orders and the job's outcome commit together: a crash leaves the job RUNNING with none of its
    # orders written, never DONE-looking orders under a job that still says it is running.
    with transaction.atomic(), translation.override(_language(job)):
        try:
            _import_rows(job, path, outcome, writer)
        except ImportRefused as refusal:
            outcome.error(None, "file", "", refusal.message)
        except Exception:
            log.exception("order import %s stopped", job.pk)
            outcome.error(
                None, "file", "", _("The import stopped on an internal error; nothing was imported.")
            )
        job.processed_rows = outcome.rows
        job.total_rows = max(job.total_rows, outcome.rows) if outcome.error_count else outcome.rows
        job.errors, job.error_count = outcome.errors, outcome.error_count
        job.unknown_services = dict(outcome.unknown.most_common())
        if outcome.error_count:
            job.status, job.created, job.updated, job.unchanged = ImportJob.Status.FAILED, 0, 0, 0
        else:
            job.status = ImportJob.Status.DONE
            job.created, job.updated, job.unchanged = writer.created, writer.updated, writer.unchanged
        job.finished_at = timezone.now()
        job.claimed_by = ""
        job.file = None
        job.save()
    # Only once the outcome is committed: a crash before it leaves the file for the run taken up again.
    if stored:
        ImportJob._meta.get_field("file").storage.delete(stored)
    cache.delete(progress_key(job.pk))
    return job


def _import_rows(job: ImportJob, path: Path | None, outcome: _Outcome, writer: OrderWriter) -> None:
    if path is None or not path.is_file():
        raise ImportRefused(_("The uploaded file is gone; upload it again."))
    services = ServiceIndex.for_workspace(job.workspace)
    today = _today(job.workspace)
    first_row: dict[str, int] = {}
    key = progress_key(job.pk)
    with transaction.atomic():
        with importer.open_table(path, job.file_format, job.encoding, job.delimiter) as table:
            for number, cells in table:
                outcome.rows += 1
                if outcome.rows > MAX_ROWS:
                    raise ImportRefused(importer.too_many_rows())
                values = _values(cells, job.mapping, table.mac_epoch)
                fields, errors = clean_order(values, today=today, services=services)
                order_id = fields.get("order_id")
                if order_id and first_row.setdefault(order_id, number) != number:
                    message = _("The order id %(id)s is also in row %(row)s.")
                    errors.append(("order_id", message % {"id": order_id, "row": first_row[order_id]}))
                for field, message in errors:
                    outcome.error(number, field, values.get(field), message)
                if "service_name" in fields and fields["service"] is None:
                    outcome.unknown[fields["service_name"]] += 1
                # After the first bad row nothing more is written: it will all be rolled back anyway.
                if not outcome.error_count:
                    writer.add(fields)
                if outcome.rows % PROGRESS_EVERY == 0:
                    cache.set(key, outcome.rows, timeout=24 * 3600)
        if outcome.error_count:
            transaction.set_rollback(True)
        else:
            writer.flush()


def resume_interrupted(now=None) -> int:
    """RUNNING jobs whose process died (on this machine; elsewhere, after STALE_RUN): the run's transaction
    died with it, so none of its orders were written. A job whose file is still stored is queued again
    and runs whole; a file given on the command line is not the worker's to read, so that job is closed
    as failed and the command can be run again. Returns how many were taken up."""
    now = now or timezone.now()
    count = 0
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).select_related("created_by__user")
    for job in running:
        if not (job.started_at is None or job.started_at < now - STALE_RUN or dead_here(job.claimed_by)):
            continue
        # The claim as it was read: a run that took the job meanwhile is left alone.
        same = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.RUNNING, claimed_by=job.claimed_by, started_at=job.started_at
        )
        if job.file:
            with transaction.atomic():
                if same.update(status=ImportJob.Status.QUEUED, claimed_by=""):
                    from smmdesk.audience.tasks import import_orders_task

                    transaction.on_commit(partial(import_orders_task, job.pk))
                    count += 1
            continue
        with translation.override(_language(job)):
            message = _("The import stopped before it finished; nothing was imported. Run it again.")
        error = {"row": None, "field": "file", "value": "", "message": message}
        if same.update(
            status=ImportJob.Status.FAILED, errors=[error], error_count=1, finished_at=now, claimed_by=""
        ):
            cache.delete(progress_key(job.pk))
            count += 1
    if count:
        log.warning("order imports: %s interrupted runs taken up", count)
    return count


def discard_abandoned(now=None) -> int:
    """Uploads nobody imported within ABANDONED: their file (the clients' data) is deleted and the job
    refused. Returns how many."""
    now = now or timezone.now()
    count = 0
    stale = ImportJob.objects.filter(status=ImportJob.Status.UPLOADED, created_at__lt=now - ABANDONED)
    for job in stale.select_related("created_by__user"):
        with translation.override(_language(job)):
            message = _("The file was not imported within a day and has been deleted; upload it again.")
        error = {"row": None, "field": "file", "value": "", "message": message}
        # The same claim as run_import's: a job queued meanwhile is left to its task.
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.UPLOADED).update(
            status=ImportJob.Status.FAILED, errors=[error], error_count=1, finished_at=now, file=""
        )
        if claimed and job.file:
            job.file.delete(save=False)
        count += claimed
    return count


# --- the error report, unknown services ----------------------------------------------------------------


def error_report_csv(job: ImportJob) -> str:
    """The refused rows as CSV (row, field, value, message); every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "field", "value", "message"])
    for error in job.errors:
        row = error.get("row")
        cells = ["" if row is None else row, error.get("field"), error.get("value"), error.get("message")]
        writer.writerow([safe_cell(cell) for cell in cells])
    hidden = job.error_count - len(job.errors)
    if hidden > 0:
        note = _("%(count)s more errors are not listed.") % {"count": hidden}
        writer.writerow(["", "", "", safe_cell(note)])
    return out.getvalue()


def unknown_services(workspace: Workspace) -> list[tuple[str, int]]:
    """Service names of orders that match no profile service, with their order counts, most first."""
    rows = (
        Order.objects.filter(workspace=workspace, service__isnull=True)
        .values("service_name")
        .annotate(orders=Count("pk"))
        .order_by("-orders", "service_name")
    )
    return [(row["service_name"], row["orders"]) for row in rows]


def map_service(membership: Membership, name: str, service) -> int:
    """From now on `name` (as any CRM writes it, compared case- and space-insensitively) means `service`;
    the workspace's orders with that name are moved to it. Returns how many orders were updated."""
    _require(membership)
    if service is None or service.workspace_id != membership.workspace_id:
        raise NotAllowed(_("This service belongs to another workspace."))
    key = service_key(name or "")
    if not key:
        raise ImportRefused(_("The service name is empty."), "name")
    with transaction.atomic():
        ServiceAlias.objects.update_or_create(
            workspace_id=membership.workspace_id, name=key, defaults={"service": service}
        )
        names = (
            Order.objects.filter(workspace_id=membership.workspace_id)
            .order_by()
            .values_list("service_name", flat=True)
            .distinct()
        )
        same = [written for written in names if service_key(written) == key]
        return Order.objects.filter(workspace_id=membership.workspace_id, service_name__in=same).update(
            service=service
        )
