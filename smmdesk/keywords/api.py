"""The keywords section over the HTTP API: queries (list with the pages' filters, add by hand),
generation from the profile, re-clustering, clusters (list, one with its queries, merge, split, move,
rename, main query), the volume import with its per-row report, negative keywords and landmarks.

Role checks are the pages' ("keywords.view" to read, "keywords.manage" to change). Refused input is a
422 naming the field, in the pages' words; another workspace's id is a 404.
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from ninja import File, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from smmdesk.api import InvalidOut, requires
from smmdesk.keywords import clusters as cluster_actions
from smmdesk.keywords import generate, manual, terms, volumes
from smmdesk.keywords.api_schemas import (
    ClusterDetailOut,
    ClusterOut,
    GenerateOut,
    KeywordOut,
    KeywordPage,
    KeywordsIn,
    LandmarkIn,
    LandmarkOut,
    MainIn,
    MergeIn,
    NegativeIn,
    NegativeOut,
    QueriesIn,
    QueryIn,
    RenameIn,
    VolumesOut,
)
from smmdesk.keywords.cluster_views import refusals
from smmdesk.keywords.forms import FORMATS, QueryFilterForm
from smmdesk.keywords.models import Cluster, Keyword, Landmark, NegativeKeyword
from smmdesk.keywords.term_views import volume_refusals

router = Router(tags=["keywords"])

VIEW, MANAGE = "keywords.view", "keywords.manage"
KEYWORD_FIELDS = (
    *("id", "query", "normalized", "language", "kind", "intent", "source", "volume", "service_id"),
    *("cluster_id", "excluded", "created_at"),
)


def invalid(*errors: tuple[str, str], status: int = 422):
    return Status(
        status, {"detail": "invalid input", "errors": [{"field": f, "message": str(m)} for f, m in errors]}
    )


def refusal(error: Exception, subject: str = "body"):
    """403 for the role, else a 422 naming the field the use case named."""
    if isinstance(error, manual.NotAllowed) or type(error).__name__ == "NotAllowed":
        raise HttpError(403, str(getattr(error, "message", error)))
    return invalid((getattr(error, "field", None) or subject, getattr(error, "message", None) or str(error)))


def _keyword_out(keyword: Keyword) -> dict:
    return {name: getattr(keyword, name) for name in KEYWORD_FIELDS}


def _clusters(request):
    return (
        Cluster.objects.filter(workspace=request.workspace)
        .select_related("main", "page")
        .annotate(size=Count("keywords"))
    )


def _cluster_out(cluster: Cluster) -> dict:
    names = ("id", "name", "language", "service_id", "main_id", "volume", "intent", "edited", "created_at")
    page = getattr(cluster, "page", None)
    return {
        **{name: getattr(cluster, name) for name in names},
        "main": cluster.main.query if cluster.main_id else None,
        "size": getattr(cluster, "size", 0),
        "page_id": page.pk if page is not None else None,
    }


def _cluster_detail(request, cluster_id) -> dict:
    cluster = get_object_or_404(_clusters(request), pk=cluster_id)
    members = Keyword.objects.filter(workspace=request.workspace, cluster=cluster)
    return {**_cluster_out(cluster), "keywords": [_keyword_out(k) for k in members]}


def _ids(values, field: str) -> tuple[list[int] | None, object]:
    """Whole-number ids, or the 422 that names the field."""
    if not values:
        return None, invalid((field, "required: a list of ids"))
    ids = []
    for value in values:
        text = str(value).strip()
        if not text.isdigit() or len(text) > 18:
            return None, invalid((field, f"not an id: {str(value)[:40]}"))
        ids.append(int(text))
    return sorted(set(ids)), None


def _found(queryset, ids: list[int], field: str):
    rows = list(queryset.filter(pk__in=ids))
    if len(rows) != len(ids):
        missing = sorted(set(ids) - {row.pk for row in rows})
        return None, invalid((field, f"not found here: {', '.join(map(str, missing[:10]))}"))
    return rows, None


# --- queries -------------------------------------------------------------------------------------------


@router.get("/w/{slug}/keywords/queries", response={200: KeywordPage, 422: InvalidOut})
@requires(VIEW)
def list_queries(request, slug: str, filters: Query[QueriesIn]):
    """Queries, the highest volume first, filtered as on the Queries tab."""
    clusters = Cluster.objects.filter(workspace=request.workspace)
    data = {k: v for k, v in filters.model_dump().items() if k not in ("offset", "limit") and v is not None}
    form = QueryFilterForm(data, clusters=clusters)
    if not form.is_valid():
        return invalid(*((field, " ".join(messages)) for field, messages in form.errors.items()))
    keywords = form.apply(Keyword.objects.filter(workspace=request.workspace))
    page = keywords[filters.offset : filters.offset + filters.limit]
    return {
        "count": keywords.count(),
        "offset": filters.offset,
        "limit": filters.limit,
        "items": [_keyword_out(k) for k in page],
    }


@router.post("/w/{slug}/keywords/queries", response={201: KeywordOut, 422: InvalidOut})
@requires(MANAGE)
def add_query(request, slug: str, payload: QueryIn):
    """A query added by hand (source "manual"); one that differs from a known one only in word order or
    forms is a 422."""
    try:
        keyword = manual.add_query(request.membership, payload.query, payload.language)
    except manual.KeywordError as error:
        return refusal(error, "query")
    return Status(201, _keyword_out(keyword))


@router.post("/w/{slug}/keywords/generate", response={200: GenerateOut})
@requires(MANAGE)
def generate_queries(request, slug: str):
    """Generate queries from the business profile; running it again adds only what is new and keeps
    imported volumes."""
    result = generate.run(request.membership)
    return {name: int(result.get(name, 0)) for name in ("candidates", "created", "unique", "excluded")}


@router.post("/w/{slug}/keywords/recluster", response={200: dict})
@requires(MANAGE)
def recluster(request, slug: str):
    """Cluster the queries again; clusters edited by a person are kept as they are."""
    return cluster_actions.recluster(request.membership)


# --- clusters ------------------------------------------------------------------------------------------


@router.get("/w/{slug}/keywords/clusters", response=list[ClusterOut])
@requires(VIEW)
def list_clusters(request, slug: str):
    """Clusters, the highest total volume first."""
    return [_cluster_out(cluster) for cluster in _clusters(request)]


@router.post("/w/{slug}/keywords/clusters/merge", response={200: ClusterDetailOut, 422: InvalidOut})
@requires(MANAGE)
def merge_clusters(request, slug: str, payload: MergeIn):
    """Merge two or more clusters into one."""
    ids, refused = _ids(payload.clusters, "clusters")
    if refused:
        return refused
    if len(ids) < 2:
        return invalid(("clusters", "select at least two clusters to merge"))
    chosen, refused = _found(Cluster.objects.filter(workspace=request.workspace), ids, "clusters")
    if refused:
        return refused
    try:
        merged = cluster_actions.merge(request.membership, chosen)
    except refusals() as error:
        return refusal(error, "clusters")
    return _cluster_detail(request, merged.pk)


# Declared after "clusters/merge" so that its path is matched first.
@router.get("/w/{slug}/keywords/clusters/{cluster_id}", response=ClusterDetailOut)
@requires(VIEW)
def get_cluster(request, slug: str, cluster_id: int):
    return _cluster_detail(request, cluster_id)


def _members_payload(request, cluster_id: int, payload: KeywordsIn):
    cluster = get_object_or_404(Cluster, pk=cluster_id, workspace=request.workspace)
    ids, refused = _ids(payload.keywords, "keywords")
    if refused:
        return cluster, None, refused
    members = Keyword.objects.filter(workspace=request.workspace, cluster=cluster)
    chosen, refused = _found(members, ids, "keywords")
    return cluster, chosen, refused


@router.post(
    "/w/{slug}/keywords/clusters/{cluster_id}/split", response={201: ClusterDetailOut, 422: InvalidOut}
)
@requires(MANAGE)
def split_cluster(request, slug: str, cluster_id: int, payload: KeywordsIn):
    """Take the given queries of this cluster out into a new cluster; answers the new one."""
    _cluster, chosen, refused = _members_payload(request, cluster_id, payload)
    if refused:
        return refused
    try:
        created = cluster_actions.split(request.membership, chosen, (payload.name or "").strip() or None)
    except refusals() as error:
        return refusal(error, "keywords")
    return Status(201, _cluster_detail(request, created.pk))


@router.post(
    "/w/{slug}/keywords/clusters/{cluster_id}/move", response={200: ClusterDetailOut, 422: InvalidOut}
)
@requires(MANAGE)
def move_queries(request, slug: str, cluster_id: int, payload: KeywordsIn):
    """Move the given queries (of any cluster, or none) into this cluster; answers this cluster."""
    target = get_object_or_404(Cluster, pk=cluster_id, workspace=request.workspace)
    ids, refused = _ids(payload.keywords, "keywords")
    if refused:
        return refused
    chosen, refused = _found(Keyword.objects.filter(workspace=request.workspace), ids, "keywords")
    if refused:
        return refused
    try:
        cluster_actions.move(request.membership, chosen, target)
    except refusals() as error:
        return refusal(error, "keywords")
    return _cluster_detail(request, target.pk)


@router.put(
    "/w/{slug}/keywords/clusters/{cluster_id}/name", response={200: ClusterDetailOut, 422: InvalidOut}
)
@requires(MANAGE)
def rename_cluster(request, slug: str, cluster_id: int, payload: RenameIn):
    cluster = get_object_or_404(Cluster, pk=cluster_id, workspace=request.workspace)
    name = (payload.name or "").strip()
    if not name:
        return invalid(("name", "required"))
    try:
        cluster_actions.rename(request.membership, cluster, name)
    except refusals() as error:
        return refusal(error, "name")
    return _cluster_detail(request, cluster.pk)


@router.put(
    "/w/{slug}/keywords/clusters/{cluster_id}/main", response={200: ClusterDetailOut, 422: InvalidOut}
)
@requires(MANAGE)
def set_main(request, slug: str, cluster_id: int, payload: MainIn):
    """Make one of the cluster's queries its main query (the page is built around it)."""
    cluster = get_object_or_404(Cluster, pk=cluster_id, workspace=request.workspace)
    ids, refused = _ids([payload.keyword_id] if payload.keyword_id is not None else None, "keyword_id")
    if refused:
        return refused
    members = Keyword.objects.filter(workspace=request.workspace, cluster=cluster)
    chosen, refused = _found(members, ids, "keyword_id")
    if refused:
        return refused
    try:
        cluster_actions.set_main(request.membership, cluster, chosen[0])
    except refusals() as error:
        return refusal(error, "keyword_id")
    return _cluster_detail(request, cluster.pk)


# --- volumes -------------------------------------------------------------------------------------------


@router.post("/w/{slug}/keywords/volumes", response={200: VolumesOut, 422: InvalidOut})
@requires(MANAGE)
def import_volumes(request, slug: str, file: File[UploadedFile] = None, fmt: str = "auto"):
    """Upload a Wordstat export, a Keyword Planner CSV or any CSV (multipart, field `file`; `fmt` one of
    auto, wordstat, planner, generic). Good rows are kept; `errors` names each bad row and field."""
    if file is None:
        return invalid(("file", "required: a CSV file sent as multipart form data"))
    if fmt not in {code for code, _label in FORMATS}:
        return invalid(("fmt", f"one of: {', '.join(code for code, _label in FORMATS)}"))
    try:
        report = volumes.import_volumes(request.membership, file, fmt=fmt)
    except volume_refusals() as error:
        return refusal(error, "file")
    return {
        **{name: int(report.get(name, 0)) for name in ("rows", "matched", "added")},
        "errors": [
            {"row": row, "field": str(field), "message": str(message)}
            for row, field, message in report.get("errors", [])
        ],
    }


# --- negative keywords and landmarks -------------------------------------------------------------------


@router.get("/w/{slug}/keywords/negatives", response=list[NegativeOut])
@requires(VIEW)
def list_negatives(request, slug: str):
    """The workspace's own negative keywords (the language's usual ones apply too)."""
    return list(NegativeKeyword.objects.filter(workspace=request.workspace).values("id", "phrase"))


@router.post("/w/{slug}/keywords/negatives", response={201: NegativeOut, 422: InvalidOut})
@requires(MANAGE)
def add_negative(request, slug: str, payload: NegativeIn):
    try:
        negative = terms.add_negative(request.membership, payload.phrase)
    except refusals() as error:
        return refusal(error, "phrase")
    return Status(201, {"id": negative.pk, "phrase": negative.phrase})


@router.delete("/w/{slug}/keywords/negatives/{negative_id}", response={204: None, 422: InvalidOut})
@requires(MANAGE)
def remove_negative(request, slug: str, negative_id: int):
    negative = get_object_or_404(NegativeKeyword, pk=negative_id, workspace=request.workspace)
    try:
        terms.remove_negative(request.membership, negative)
    except refusals() as error:
        return refusal(error, "negative_id")
    return Status(204, None)


@router.get("/w/{slug}/keywords/landmarks", response=list[LandmarkOut])
@requires(VIEW)
def list_landmarks(request, slug: str):
    return list(Landmark.objects.filter(workspace=request.workspace).values("id", "name", "language"))


@router.post("/w/{slug}/keywords/landmarks", response={201: LandmarkOut, 422: InvalidOut})
@requires(MANAGE)
def add_landmark(request, slug: str, payload: LandmarkIn):
    try:
        landmark = terms.add_landmark(request.membership, payload.name, payload.language)
    except refusals() as error:
        return refusal(error, "name")
    return Status(201, {"id": landmark.pk, "name": landmark.name, "language": landmark.language})


@router.delete("/w/{slug}/keywords/landmarks/{landmark_id}", response={204: None, 422: InvalidOut})
@requires(MANAGE)
def remove_landmark(request, slug: str, landmark_id: int):
    landmark = get_object_or_404(Landmark, pk=landmark_id, workspace=request.workspace)
    try:
        terms.remove_landmark(request.membership, landmark)
    except refusals() as error:
        return refusal(error, "landmark_id")
    return Status(204, None)
