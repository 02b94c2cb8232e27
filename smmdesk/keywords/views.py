"""The keywords section's pages, by tab: Queries (here: the list with its filters, a query added by hand,
"Generate from the profile" and "Re-cluster"), Clusters (cluster_views.py: merge, split, move, rename,
main query), Import volumes and Negative keywords and landmarks (term_views.py). Mounted at
/w/<slug>/keywords/.

Every member who may read keywords (keywords.view) sees every tab; the owner and SMM managers
(keywords.manage) change things. Each view parses, calls one use case and redirects or renders; rows are
looked up inside the workspace from the URL, so another workspace's id is not found.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import can, workspace_view
from smmdesk.keywords import clusters as cluster_actions
from smmdesk.keywords import generate, manual
from smmdesk.keywords.forms import QueryFilterForm, QueryForm, add_errors
from smmdesk.keywords.models import Cluster, Keyword

VIEW, MANAGE = "keywords.view", "keywords.manage"
QUERIES_PER_PAGE = 100


def keywords_url(request, name: str, **kwargs) -> str:
    return reverse(f"keywords:{name}", kwargs={"slug": request.workspace.slug, **kwargs})


def render_page(request, template: str, context: dict, status: int = 200):
    context = {"active_section": "keywords", "can_manage": can(request, MANAGE), **context}
    return render(request, template, context, status=status)


def refused(error) -> str:
    """A refused use case in one line; a role that may not is a 403, never a message."""
    if isinstance(error, manual.NotAllowed) or type(error).__name__ == "NotAllowed":
        raise PermissionDenied(str(getattr(error, "message", error)))
    return str(getattr(error, "message", "") or error)


def workspace_clusters(workspace):
    return Cluster.objects.filter(workspace=workspace).select_related("main")


def _queries_page(request, form: QueryForm, status: int = 200):
    clusters = list(workspace_clusters(request.workspace).order_by("name"))
    filters = QueryFilterForm(request.GET or None, clusters=clusters, auto_id="filter_%s")
    keywords = Keyword.objects.filter(workspace=request.workspace).select_related("cluster")
    if filters.is_bound and filters.is_valid():
        keywords = filters.apply(keywords)
    page = Paginator(keywords, QUERIES_PER_PAGE).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {
        "tab": "queries",
        "filters": filters,
        "form": form,
        "page": page,
        "total": Keyword.objects.filter(workspace=request.workspace).count(),
        "filter_query": query_string.urlencode(),
    }
    return render_page(request, "keywords/queries.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def queries(request):
    """The list; a POST adds a query by hand."""
    if request.method != "POST":
        return _queries_page(request, QueryForm(auto_id="query_%s"))
    form = QueryForm(request.POST, auto_id="query_%s")
    if form.is_valid():
        try:
            keyword = manual.add_query(
                request.membership, form.cleaned_data["query"], form.cleaned_data["language"]
            )
        except manual.KeywordError as error:
            add_errors(form, type(error)(error.field, refused(error)))
        else:
            messages.success(request, _("Query “%(query)s” added.") % {"query": keyword.query})
            return redirect(keywords_url(request, "list"))
    return _queries_page(request, form, status=400)


@workspace_view(MANAGE)
@require_POST
def generate_view(request):
    result = generate.run(request.membership)
    messages.success(
        request,
        _(
            "%(candidates)d candidates generated from the profile: %(unique)d unique queries, "
            "%(created)d of them new, %(excluded)d excluded by negative keywords."
        )
        % {name: int(result.get(name, 0)) for name in ("candidates", "unique", "created", "excluded")},
    )
    return redirect(keywords_url(request, "list"))


@workspace_view(MANAGE)
@require_POST
def recluster_view(request):
    result = cluster_actions.recluster(request.membership)
    messages.success(
        request,
        _("Queries clustered: %(clusters)d clusters (clusters edited by hand were kept).")
        % {"clusters": int(result.get("clusters", 0))},
    )
    return redirect(keywords_url(request, "clusters"))


urlpatterns = [
    path("", queries, name="list"),
    path("generate/", generate_view, name="generate"),
    path("recluster/", recluster_view, name="recluster"),
]
