"""The Clusters tab: each cluster with its main query, total volume, intent, member queries and its
landing page; merge (select clusters), and on one cluster's page split (select queries → a new cluster),
move (select queries → another cluster), rename and set the main query. Every change marks the cluster
edited (clusters.py), so "Re-cluster" keeps it."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.keywords import clusters as cluster_actions
from smmdesk.keywords.forms import MainForm, MembersForm, MergeForm, RenameForm
from smmdesk.keywords.manual import KeywordError
from smmdesk.keywords.models import Cluster, Keyword
from smmdesk.keywords.views import MANAGE, VIEW, keywords_url, refused, render_page, workspace_clusters

MEMBERS_SHOWN = 8


def refusals() -> tuple[type[Exception], ...]:
    """What the keyword use cases refuse input with (ClusterError and the terms' errors are kinds of it)."""
    return (KeywordError,)


def page_url(request, cluster: Cluster) -> str | None:
    """The landing page built from the cluster, in the sites section, if there is one."""
    page = getattr(cluster, "page", None)
    if page is None:
        return None
    return reverse("sites:editor", kwargs={"slug": request.workspace.slug, "page_id": page.pk})


def _cluster(request, cluster_id) -> Cluster:
    return get_object_or_404(workspace_clusters(request.workspace), pk=cluster_id)


def _members(cluster: Cluster):
    return Keyword.objects.filter(workspace=cluster.workspace, cluster=cluster)


def _list_page(request, merge_form: MergeForm | None = None, status: int = 200):
    members = Keyword.objects.order_by("-volume", "query")
    found = (
        workspace_clusters(request.workspace)
        .select_related("page")
        .annotate(size=Count("keywords"))
        .prefetch_related(Prefetch("keywords", queryset=members, to_attr="members"))
    )
    rows = [
        {
            "cluster": cluster,
            "members": cluster.members[:MEMBERS_SHOWN],
            "more": max(0, cluster.size - MEMBERS_SHOWN),
            "page_url": page_url(request, cluster),
        }
        for cluster in found
    ]
    unclustered = Keyword.objects.filter(workspace=request.workspace, cluster__isnull=True, excluded=False)
    context = {
        "tab": "clusters",
        "rows": rows,
        "merge_form": merge_form,
        "unclustered": unclustered.count(),
    }
    return render_page(request, "keywords/clusters.html", context, status=status)


@workspace_view(VIEW)
@require_safe
def cluster_list(request):
    return _list_page(request)


def _done(request, cluster: Cluster, message: str):
    messages.success(request, message)
    return redirect(keywords_url(request, "cluster", cluster_id=cluster.pk))


@workspace_view(MANAGE)
@require_POST
def merge(request):
    form = MergeForm(request.POST, clusters=workspace_clusters(request.workspace))
    if form.is_valid():
        chosen = form.cleaned_data["clusters"]
        try:
            merged = cluster_actions.merge(request.membership, chosen)
        except refusals() as error:
            form.add_error(None, refused(error))
        else:
            return _done(
                request,
                merged,
                _("%(count)d clusters merged into “%(name)s”.") % {"count": len(chosen), "name": merged.name},
            )
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _list_page(request, form, status=400)


def _detail_page(request, cluster: Cluster, forms: dict | None = None, status: int = 200):
    members = _members(cluster)
    targets = workspace_clusters(request.workspace).exclude(pk=cluster.pk).order_by("name")
    forms = forms or {}
    context = {
        "tab": "clusters",
        "cluster": cluster,
        "members": members,
        "page_url": page_url(request, cluster),
        "members_form": forms.get("members")
        or MembersForm(members=members, targets=targets, auto_id="members_%s"),
        "rename_form": forms.get("rename") or RenameForm(initial={"name": cluster.name}, auto_id="rename_%s"),
        "main_form": forms.get("main")
        or MainForm(members=members, initial={"keyword": cluster.main_id}, auto_id="main_%s"),
    }
    return render_page(request, "keywords/cluster.html", context, status=status)


@workspace_view(VIEW)
@require_safe
def cluster_detail(request, cluster_id):
    return _detail_page(request, _cluster(request, cluster_id))


def _members_change(request, cluster_id, moving: bool):
    cluster = _cluster(request, cluster_id)
    targets = workspace_clusters(request.workspace).exclude(pk=cluster.pk) if moving else None
    form = MembersForm(request.POST, members=_members(cluster), targets=targets, auto_id="members_%s")
    if form.is_valid():
        chosen = list(form.cleaned_data["keywords"])
        try:
            if moving:
                target = form.cleaned_data["target"]
                result = cluster_actions.move(request.membership, chosen, target)
                message = _("%(count)d queries moved to “%(name)s”.")
            else:
                result = cluster_actions.split(request.membership, chosen, form.cleaned_data["name"] or None)
                message = _("%(count)d queries split off into “%(name)s”.")
        except refusals() as error:
            form.add_error(None, refused(error))
        else:
            result = result if isinstance(result, Cluster) else (target if moving else cluster)
            return _done(request, result, message % {"count": len(chosen), "name": result.name})
    return _detail_page(request, _cluster(request, cluster_id), {"members": form}, status=400)


@workspace_view(MANAGE)
@require_POST
def split(request, cluster_id):
    return _members_change(request, cluster_id, moving=False)


@workspace_view(MANAGE)
@require_POST
def move(request, cluster_id):
    return _members_change(request, cluster_id, moving=True)


@workspace_view(MANAGE)
@require_POST
def rename(request, cluster_id):
    cluster = _cluster(request, cluster_id)
    form = RenameForm(request.POST, auto_id="rename_%s")
    if form.is_valid():
        try:
            cluster_actions.rename(request.membership, cluster, form.cleaned_data["name"])
        except refusals() as error:
            form.add_error("name", refused(error))
        else:
            cluster.refresh_from_db()
            return _done(request, cluster, _("Cluster renamed to “%(name)s”.") % {"name": cluster.name})
    return _detail_page(request, _cluster(request, cluster_id), {"rename": form}, status=400)


@workspace_view(MANAGE)
@require_POST
def set_main(request, cluster_id):
    cluster = _cluster(request, cluster_id)
    form = MainForm(request.POST, members=_members(cluster), auto_id="main_%s")
    if form.is_valid():
        keyword = form.cleaned_data["keyword"]
        try:
            cluster_actions.set_main(request.membership, cluster, keyword)
        except refusals() as error:
            form.add_error("keyword", refused(error))
        else:
            return _done(request, cluster, _("“%(query)s” is now the main query.") % {"query": keyword.query})
    return _detail_page(request, _cluster(request, cluster_id), {"main": form}, status=400)


urlpatterns = [
    path("clusters/", cluster_list, name="clusters"),
    path("clusters/merge/", merge, name="merge"),
    path("clusters/<int:cluster_id>/", cluster_detail, name="cluster"),
    path("clusters/<int:cluster_id>/split/", split, name="split"),
    path("clusters/<int:cluster_id>/move/", move, name="move"),
    path("clusters/<int:cluster_id>/rename/", rename, name="rename"),
    path("clusters/<int:cluster_id>/main/", set_main, name="main"),
]
