"""A statistics report imported from the Stats page in two steps, as the order import does: the upload is
stored and its header read, with each field's column pre-selected from the recognised headers
(stats_read.HEADER_NAMES: en/ru/sk and the platforms' own report titles); the person checks or changes
the mapping against the first rows as it reads them, with each row's problems; then the report is
imported (stats.import_file: the good rows in, the bad ones listed with row, field and reason).

The stored file is the business's figures, so it lives only as long as the step: it is deleted when the
report is imported, and an upload nobody imports is deleted after ABANDONED (a daily task). Importing
takes the upload row away inside the import's transaction, so two clicks on "Import" import it once.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.ads import stats
from smmdesk.ads.models import StatsImport, StatsUpload
from smmdesk.ads.stats_read import (
    FIELD_LABELS,
    FIELDS,
    MEASURES,
    REQUIRED,
    StatsRefused,
    read_source,
    read_table,
)
from smmdesk.audience.rows import cell_text
from smmdesk.core.column_mapping import mapping_errors

PREVIEW_ROWS = 10
ABANDONED = timedelta(days=1)
# (name, label, required) per field, as the mapping form takes them.
MAPPING_FIELDS = tuple((name, FIELD_LABELS[name], name in REQUIRED) for name in FIELDS)


class InvalidMapping(StatsRefused):
    """The chosen columns cannot be used: (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors[0][1], field=errors[0][0])
        self.errors = errors


def _require(membership: Membership | None, upload: StatsUpload | None = None) -> None:
    stats.require_manage(membership)
    if upload is not None and upload.workspace_id != membership.workspace_id:
        raise stats.NotAllowed(_("This upload belongs to another workspace."))


def _content(upload: StatsUpload) -> bytes:
    try:
        with upload.file.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError) as exc:
        raise StatsRefused(_("The uploaded file is gone; upload it again.")) from exc


def start(membership: Membership, source, platform: str) -> StatsUpload:
    """Store an uploaded report and read its header; StatsRefused (nothing kept) when it cannot be read."""
    _require(membership)
    platform = stats.check_platform(platform)
    content, file_name = read_source(source)
    headers, _rows, recognised = read_table(content)
    upload = StatsUpload(
        workspace=membership.workspace,
        platform=platform,
        file_name=file_name[:255],
        headers=headers,
        mapping=recognised,
        created_by=membership,
    )
    # The stored name is ours (file_name keeps the person's): theirs may be anything a browser sends.
    upload.file.save("report", ContentFile(content), save=False)
    upload.save()
    return upload


def check_mapping(headers: list[str], mapping) -> dict[str, int]:
    """The mapping as stored (field -> column index); InvalidMapping naming each field otherwise."""
    clean, errors = mapping_errors(headers, mapping, FIELDS, REQUIRED)
    if not errors and not any(field in clean for field in MEASURES):
        errors.append(("impressions", _("Choose the column of impressions, clicks or cost.")))
    if errors:
        raise InvalidMapping(errors)
    return clean


def set_mapping(membership: Membership, upload: StatsUpload, mapping) -> StatsUpload:
    _require(membership, upload)
    upload.mapping = check_mapping(upload.headers, mapping)
    upload.save(update_fields=["mapping"])
    return upload


def preview(upload: StatsUpload, limit: int = PREVIEW_ROWS) -> list[dict]:
    """The first rows as the mapping reads them: [{"row", "values": {field: text}, "errors"}]. Summary
    rows ("Итого", "Total") are left out, as the import leaves them out."""
    _headers, rows, _recognised = read_table(_content(upload))
    mapping = upload.mapping if isinstance(upload.mapping, dict) else {}
    today = timezone.localdate()
    shown = []
    for number, cells in rows:
        if len(shown) >= limit:
            break
        out, problems = stats.clean_row(cells, mapping, today)
        if out is None:
            continue
        values = {
            field: cell_text(cells[index]) if index < len(cells) else "" for field, index in mapping.items()
        }
        shown.append(
            {
                "row": number,
                "values": values,
                "errors": [{"field": field, "message": message} for field, message in problems],
            }
        )
    return shown


def run(membership: Membership, upload: StatsUpload) -> StatsImport:
    """Import the report with its mapping; the upload and its file go."""
    _require(membership, upload)
    mapping = check_mapping(upload.headers, upload.mapping)
    content = _content(upload)
    # A field left out of the mapping stays out: the recognised headers must not bring it back.
    chosen = {field: mapping.get(field) for field in FIELDS}
    with transaction.atomic():
        taken, _kinds = StatsUpload.objects.filter(pk=upload.pk).delete()
        if not taken:
            raise StatsRefused(_("This report has already been imported."), field="upload")
        job = stats.import_file(
            upload.workspace,
            ContentFile(content, name=upload.file_name),
            upload.platform,
            chosen,
            membership=membership,
        )
        _delete_file_after_commit(upload)
    return job


def _delete_file_after_commit(upload: StatsUpload) -> None:
    storage, name = upload.file.storage, upload.file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def discard_abandoned(now=None) -> int:
    """Uploads older than ABANDONED, with their files. Returns how many."""
    now = now or timezone.now()
    count = 0
    for upload in StatsUpload.objects.filter(created_at__lt=now - ABANDONED):
        with transaction.atomic():
            taken, _kinds = StatsUpload.objects.filter(pk=upload.pk).delete()
            if taken:
                _delete_file_after_commit(upload)
                count += 1
    return count
