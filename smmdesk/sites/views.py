"""The sites section: the list of landing pages with their audit scores, the copy editor (with live
length counters over HTMX), the preview, the audit's to-do list, publishing and the static export."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.sites import actions
from smmdesk.sites.audit import DESCRIPTION_MAX, TITLE_MAX, audit
from smmdesk.sites.export import export_zip
from smmdesk.sites.forms import editor_data, editor_rows
from smmdesk.sites.models import Page
from smmdesk.sites.render import Links, public_base, render_page

VIEW, EDIT, MANAGE = "sites.view", "sites.edit", "sites.manage"
COUNTED = {"title": TITLE_MAX, "description": DESCRIPTION_MAX}


def _pages(request) -> list[Page]:
    return list(
        Page.objects.filter(workspace=request.workspace).select_related(
            "workspace__profile", "cluster__service", "cluster__main"
        )
    )


def _page(request, page_id) -> Page:
    return get_object_or_404(
        Page.objects.select_related("workspace__profile", "cluster__service", "cluster__main"),
        pk=page_id,
        workspace=request.workspace,
    )


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"active_section": "sites", **context}, status=status)


@workspace_view(VIEW)
@require_safe
def page_list(request):
    pages = _pages(request)
    rows = [(page, audit(page, pages).score) for page in pages]
    return _render(request, "sites/list.html", {"rows": rows, "site_url": f"/site/{request.workspace.slug}/"})


@workspace_view(MANAGE)
@require_POST
def build(request):
    counts = actions.build_pages(request.membership)
    messages.success(
        request,
        _("Pages: %(created)d new, %(updated)d regenerated, %(kept)d edited pages kept.") % counts,
    )
    return redirect("sites:list", slug=request.workspace.slug)


@workspace_view(MANAGE)
@require_safe
def export(request):
    data = export_zip(request.workspace, public_base(request))
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-site.zip"'
    return response


@workspace_view(VIEW, write=EDIT)
def editor(request, page_id):
    page = _page(request, page_id)
    error = None
    if request.method == "POST":
        try:
            page = actions.update_page(request.membership, page, editor_data(request.POST, page))
        except actions.PageError as exc:
            error = exc
        else:
            messages.success(request, _("Saved."))
            return redirect("sites:editor", slug=request.workspace.slug, page_id=page.pk)
    values = editor_rows(request.POST if error else None, page)
    status = 422 if error else 200
    return _render(
        request,
        "sites/editor.html",
        {
            "page": page,
            "form": values,
            "error": error,
            "limits": COUNTED,
            "audit": audit(page, _pages(request)),
        },
        status=status,
    )


@workspace_view(VIEW)
@require_safe
def counter(request, page_id):
    """The live length counter of one field, asked by the editor as the member types."""
    _page(request, page_id)
    name = request.GET.get("field", "")
    if name not in COUNTED:
        return HttpResponse(status=400)
    length = len(request.GET.get(name, "").strip())
    return _render(request, "sites/_counter.html", {"name": name, "length": length, "limit": COUNTED[name]})


@workspace_view(VIEW)
@require_safe
def preview(request, page_id):
    page = _page(request, page_id)
    return HttpResponse(render_page(page, Links(public_base(request)), _pages(request)))


@workspace_view(VIEW)
@require_safe
def audit_page(request, page_id):
    page = _page(request, page_id)
    return _render(request, "sites/audit.html", {"page": page, "audit": audit(page, _pages(request))})


@workspace_view(MANAGE)
@require_POST
def publish(request, page_id):
    page = _page(request, page_id)
    actions.set_published(request.membership, page, request.POST.get("published") == "1")
    if request.POST.get("next") == "editor":
        return redirect("sites:editor", slug=request.workspace.slug, page_id=page.pk)
    return redirect("sites:list", slug=request.workspace.slug)
