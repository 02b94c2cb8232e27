"""The order import: upload a CSV or XLSX file, map its columns to the order fields (each select
preselected by imports.guess_mapping) with a preview of the first rows and their errors, import, watch
the progress, and read the result: the counts, or the refusal with every bad row and field and a CSV
report of them. Below the upload form, the past imports.

A file is imported whole or not at all (imports.execute); the page only shows what the job says. The
progress bar is a <progress> element that htmx refreshes every second while the job waits or runs; the
answer that finds it finished is the result itself, so the polling stops on its own. Without scripts
the page offers a link to look again.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.audience import imports
from smmdesk.audience.forms import MappingForm, UploadForm, add_errors
from smmdesk.audience.models import ImportJob
from smmdesk.audience.views import MANAGE, VIEW, audience_url, refused, render_page
from smmdesk.core.column_mapping import preview_table

JOBS_SHOWN = 20
PREVIEW_ROWS = 10
ERRORS_SHOWN = 100  # on the page; the CSV report has every one that was stored
Status = ImportJob.Status
WORKING = (Status.QUEUED, Status.RUNNING)
DELIMITERS = {",": gettext_lazy("commas"), ";": gettext_lazy("semicolons"), "\t": gettext_lazy("tabs")}


def field_labels() -> dict[str, str]:
    return {name: str(label) for name, label, _required in imports.FIELDS}


# Upload and the list of past imports


def _imports_page(request, form: UploadForm, status: int = 200):
    jobs = ImportJob.objects.filter(workspace=request.workspace)[:JOBS_SHOWN]
    context = {"tab": "import", "form": form, "jobs": jobs}
    return render_page(request, "audience/import.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def upload(request):
    if request.method != "POST":
        return _imports_page(request, UploadForm(auto_id="upload_%s"))
    form = UploadForm(request.POST, request.FILES, auto_id="upload_%s")
    if form.is_valid():
        try:
            job = imports.start_import(request.membership, form.cleaned_data["file"])
        except imports.ImportRefused as error:
            form.add_error("file", refused(error))
        else:
            return redirect(audience_url(request, "import_job", job_id=job.pk))
    return _imports_page(request, form, status=400)


# One import: mapping and preview, progress, result


def _job(request, job_id) -> ImportJob:
    return get_object_or_404(ImportJob, pk=job_id, workspace=request.workspace)


def _preview(job: ImportJob, labels: dict[str, str]) -> dict:
    """The first rows as the current mapping reads them, with their errors; or why they cannot be read."""
    try:
        found = imports.preview(job, limit=PREVIEW_ROWS)
    except imports.ImportRefused as error:
        return {"columns": [], "rows": [], "error": refused(error)}
    return preview_table(labels, job.mapping, found)


def _result(job: ImportJob, labels: dict[str, str]) -> dict:
    errors = job.errors if isinstance(job.errors, list) else []
    shown = [
        {
            "row": error.get("row"),
            "field": labels.get(error.get("field") or "", error.get("field") or ""),
            "value": error.get("value", ""),
            "message": error.get("message", ""),
        }
        for error in errors[:ERRORS_SHOWN]
    ]
    unknown = job.unknown_services if isinstance(job.unknown_services, dict) else {}
    return {
        "errors": shown,
        "more_errors": max(job.error_count, len(errors)) - len(shown),
        "unknown_services": sorted(unknown.items(), key=lambda item: (-item[1], item[0])),
        "imported": job.created + job.updated + job.unchanged,
    }


def _job_context(request, job: ImportJob, form: MappingForm | None = None) -> dict:
    labels = field_labels()
    context = {
        "tab": "import",
        "job": job,
        "working": job.status in WORKING,
        "delimiter_label": DELIMITERS.get(job.delimiter, job.delimiter),
    }
    if job.status == Status.UPLOADED:
        mapping = job.mapping if isinstance(job.mapping, dict) else {}
        context["form"] = form or MappingForm(
            fields=imports.FIELDS, headers=job.headers, mapping=mapping, auto_id="map_%s"
        )
        context["preview"] = _preview(job, labels)
    elif job.status in WORKING:
        context["progress"] = imports.progress(job)
    else:
        context["result"] = _result(job, labels)
    return context


@workspace_view(VIEW, write=MANAGE)
def import_job(request, job_id):
    job = _job(request, job_id)
    if request.method != "POST":
        return render_page(request, "audience/import_job.html", _job_context(request, job))
    if job.status != Status.UPLOADED:
        messages.error(
            request, _("This file has already been imported or refused; upload it again to retry.")
        )
        return redirect(audience_url(request, "import_job", job_id=job.pk))
    form = MappingForm(request.POST, fields=imports.FIELDS, headers=job.headers, auto_id="map_%s")
    if form.is_valid():
        try:
            job = imports.set_mapping(request.membership, job, form.mapping())
            if request.POST.get("step") == "import":
                job = imports.run_import(request.membership, job)
                return redirect(audience_url(request, "import_job", job_id=job.pk))
        except imports.InvalidMapping as error:
            add_errors(form, error.errors)
        except imports.ImportRefused as error:
            form.add_error(error.field if error.field in form.fields else None, refused(error))
        else:
            return redirect(audience_url(request, "import_job", job_id=job.pk))
    job = _job(request, job_id)  # as stored: a refused mapping is not kept
    return render_page(request, "audience/import_job.html", _job_context(request, job, form), status=400)


@workspace_view(VIEW)
@require_safe
def import_progress(request, job_id):
    job = _job(request, job_id)
    if not request.htmx:
        return redirect(audience_url(request, "import_job", job_id=job.pk))
    return render_page(request, "audience/_job_state.html", _job_context(request, job))


@workspace_view(VIEW)
@require_safe
def import_errors(request, job_id):
    job = _job(request, job_id)
    response = HttpResponse(imports.error_report_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


urlpatterns = [
    path("import/", upload, name="import"),
    path("import/<int:job_id>/", import_job, name="import_job"),
    path("import/<int:job_id>/progress/", import_progress, name="import_progress"),
    path("import/<int:job_id>/errors.csv", import_errors, name="import_errors"),
]
