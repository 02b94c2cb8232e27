"""The bulk plan import page: upload a CSV, see every row checked (errors by row and column), then import.

Two steps, like importer.py: the preview writes nothing and shows the file's rows with their errors;
the import button sends the same file back (kept in the page, not on the server) with the preview's
fingerprint, so what is created is exactly what the person saw.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.publishing import importer, scheduling, workflow
from smmdesk.publishing.views import publishing_url, render_page

DRAFT = "publishing.draft"


def _page(request, plan=None, content: str = "", errors=(), status=200):
    zone = scheduling.workspace_zone(request.workspace)
    rows = []
    if plan is not None:
        for row in plan.rows:
            rows.append(
                {
                    "row": row.row,
                    "when": scheduling.to_local(row.when, zone) if row.when else None,
                    "channels": ", ".join(channel.name for channel in row.channels),
                    "text": row.text,
                    "media_url": row.media_url,
                    "errors": row.errors,
                    "ok": row.ok,
                }
            )
    return render_page(
        request,
        "publishing/import.html",
        {
            "tab": "import",
            "plan": plan,
            "rows": rows,
            "file_errors": list(plan.file_errors) if plan is not None else [],
            "content": content,
            "errors": list(errors),
            "max_kb": importer.MAX_BYTES // 1024,
            "max_rows": importer.MAX_ROWS,
            "zone": zone.key,
        },
        status=status,
    )


def _read_upload(request) -> tuple[str | None, str]:
    """(the file's text, an error)."""
    upload = request.FILES.get("file")
    if upload is None:
        return None, _("File: choose a CSV file to check.")
    if upload.size > importer.MAX_BYTES:
        return None, _("File: the file is larger than %(limit)d KB; split the plan into several files.") % {
            "limit": importer.MAX_BYTES // 1024
        }
    return importer.decode(upload.read()), ""


@workspace_view(DRAFT)
def plan_import(request):
    if request.method != "POST":
        return _page(request)
    if request.POST.get("step") == "import":
        content = request.POST.get("content", "")
        try:
            done = importer.import_plan(
                request.membership,
                content,
                confirm=request.POST.get("digest", ""),
                skip_bad=request.POST.get("skip_bad") == "1",
                as_drafts=request.POST.get("as_drafts") == "1",
            )
        except importer.PlanRefused as refused:
            plan = importer.read_plan(request.workspace, content)
            return _page(request, plan, content, errors=refused.errors, status=400)
        except workflow.PublishingError as refused:
            return _page(request, errors=[importer.RowError(0, "file", refused.message)], status=403)
        messages.success(
            request,
            ngettext(
                "%(count)d post imported: %(scheduled)d scheduled, %(drafts)d drafts.",
                "%(count)d posts imported: %(scheduled)d scheduled, %(drafts)d drafts.",
                len(done.posts),
            )
            % {"count": len(done.posts), "scheduled": done.scheduled, "drafts": done.drafts},
        )
        return redirect(publishing_url(request, "calendar_list"))
    content, error = _read_upload(request)
    if content is None:
        return _page(request, errors=[importer.RowError(0, "file", error)], status=400)
    plan = importer.read_plan(request.workspace, content)
    return _page(request, plan, content, status=200 if not plan.file_errors else 400)


@workspace_view(DRAFT)
@require_safe
def plan_template(request):
    response = HttpResponse(importer.template_csv(request.workspace), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="publishing-plan.csv"'
    return response


urlpatterns = [
    path("import/", plan_import, name="import"),
    path("import/template.csv", plan_template, name="import_template"),
]
