"""Landing pages over the HTTP API: list, get, update the copy, publish, audit and the static export.
Roles as on the pages (sites.view to read, sites.edit to change the copy, sites.manage to publish);
refused input is a 422 naming the field; another workspace's page is a 404."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError

from smmdesk.api import requires
from smmdesk.sites import actions
from smmdesk.sites.audit import audit
from smmdesk.sites.export import export_zip
from smmdesk.sites.models import Page
from smmdesk.sites.render import public_base

router = Router(tags=["sites"])

VIEW, EDIT, MANAGE = "sites.view", "sites.edit", "sites.manage"


class PageIn(Schema):
    """Any of the copy fields; those left out keep their value. Images take their alt texts in order."""

    title: str | None = None
    description: str | None = None
    h1: str | None = None
    intro: str | None = None
    sections: list[dict] | None = None
    faq: list[dict] | None = None
    images: list[str] | None = None


class PublishIn(Schema):
    # Optional in the schema so the role and the page are checked before the body: a 403/404 first.
    published: bool | None = None


def _out(page: Page) -> dict:
    names = ("id", "slug", "language", "title", "description", "h1", "intro", "sections", "faq", "images")
    return {
        **{name: getattr(page, name) for name in names},
        "published": page.published,
        "edited": page.edited,
        "cluster_id": page.cluster_id,
        "url": f"/site/{page.workspace.slug}/{page.slug}/",
    }


def _page(request, page_id: int) -> Page:
    return get_object_or_404(
        Page.objects.select_related("workspace"), pk=page_id, workspace=request.workspace
    )


def _refuse(error: Exception):
    if isinstance(error, actions.NotAllowed):
        raise HttpError(403, error.message)
    raise HttpError(422, f"{error.field}: {error.message}")


@router.get("/w/{slug}/sites/pages")
@requires(VIEW)
def list_pages(request, slug: str):
    return [_out(p) for p in Page.objects.filter(workspace=request.workspace).select_related("workspace")]


@router.get("/w/{slug}/sites/pages/{page_id}")
@requires(VIEW)
def get_page(request, slug: str, page_id: int):
    return _out(_page(request, page_id))


@router.patch("/w/{slug}/sites/pages/{page_id}")
@requires(EDIT)
def update_page(request, slug: str, page_id: int, data: PageIn):
    changes = data.dict(exclude_unset=True)
    try:
        return _out(actions.update_page(request.membership, _page(request, page_id), changes))
    except (actions.PageError, actions.NotAllowed) as error:
        _refuse(error)


@router.post("/w/{slug}/sites/pages/{page_id}/publish")
@requires(MANAGE)
def publish_page(request, slug: str, page_id: int, data: PublishIn | None = None):
    page = _page(request, page_id)  # another workspace's page is a 404 whatever the body
    if data is None or data.published is None:
        raise HttpError(422, "published: field required")
    try:
        return _out(actions.set_published(request.membership, page, data.published))
    except actions.NotAllowed as error:
        _refuse(error)


@router.post("/w/{slug}/sites/build")
@requires(MANAGE)
def build_pages(request, slug: str):
    return actions.build_pages(request.membership)


@router.get("/w/{slug}/sites/pages/{page_id}/audit")
@requires(VIEW)
def audit_page(request, slug: str, page_id: int):
    page = _page(request, page_id)
    siblings = list(
        Page.objects.filter(workspace=request.workspace).select_related(
            "workspace__profile", "cluster__service", "cluster__main"
        )
    )
    result = audit(page, siblings)
    return {
        "score": result.score,
        "items": [{"check": i.code, "ok": i.ok, "message": i.message} for i in result.items],
    }


@router.get("/w/{slug}/sites/export")
@requires(MANAGE)
def export(request, slug: str):
    response = HttpResponse(
        export_zip(request.workspace, public_base(request)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-site.zip"'
    return response
