"""The published landing pages, their index, sitemap.xml and robots.txt: public, no login.

Unknown workspaces and unpublished pages are a plain 404, so nobody can learn what is in preparation.
The default Content-Security-Policy fits these pages as they are: the stylesheet and the chat widget
come from this server ('self'), and JSON-LD blocks are data, not scripts a browser runs.
"""

from __future__ import annotations

from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import public_view
from smmdesk.accounts.models import Workspace
from smmdesk.sites.models import Page
from smmdesk.sites.render import Links, index_path, public_base, render_index, render_page
from smmdesk.sites.sitemaps import PagesSitemap


def _workspace(slug: str) -> Workspace:
    return get_object_or_404(Workspace.objects.select_related("profile"), slug=slug)


def _published(workspace) -> list[Page]:
    return list(
        Page.objects.filter(workspace=workspace, published=True)
        .select_related("workspace", "cluster__service")
        .order_by("slug")
    )


def _html(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/html; charset=utf-8")


@public_view
@require_safe
def index(request, slug):
    workspace = _workspace(slug)
    pages = _published(workspace)
    if not pages:
        raise Http404("no published pages")
    return _html(render_index(workspace, pages, Links(public_base(request))))


@public_view
@require_safe
def page(request, slug, page):
    workspace = _workspace(slug)
    pages = _published(workspace)
    current = next((p for p in pages if p.slug == page), None)
    if current is None:
        raise Http404("no such page")
    return _html(render_page(current, Links(public_base(request)), pages))


@public_view
@require_safe
def sitemap(request, slug):
    workspace = _workspace(slug)
    return sitemap_view(request, {"pages": PagesSitemap(workspace, public_base(request))})


def robots_text(workspace, base: str) -> str:
    return (
        f"User-agent: *\nAllow: {index_path(workspace)}\nSitemap: {base}{index_path(workspace)}sitemap.xml\n"
    )


@public_view
@require_safe
def robots(request, slug):
    workspace = _workspace(slug)
    return HttpResponse(
        robots_text(workspace, public_base(request)), content_type="text/plain; charset=utf-8"
    )
