"""Use cases on clusters: re-cluster a workspace's queries, and the hand edits (merge, split, move, rename,
set the main query).

Rules kept by every action:
- a cluster's volume is the sum of its members' volumes (unknown counts as 0);
- its main query is the one a person chose (set_main), else the member with the highest volume, else the
  shortest; a cluster that nobody renamed is named after its main query;
- its intent is the members' majority intent; re-clustering with embeddings first re-decides the free
  queries' intents with the model (intent.classify_many), so a bare service name follows what the
  workspace's other queries about it want instead of the commercial default;
- a hand edit marks every cluster it touches `edited`: re-clustering keeps those clusters and their members
  as they are, and only regroups the rest;
- a cluster left without members is deleted (its landing page, if any, loses its cluster).
Every action checks keywords.manage and that each object belongs to the member's workspace, and runs in a
transaction: a refusal writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from smmdesk.keywords import cluster as clustering
from smmdesk.keywords import intent as intents
from smmdesk.keywords.manual import KeywordError, check_manage, kind_of, profile_terms
from smmdesk.keywords.models import Cluster, Keyword

MAX_NAME = 200
# The column's top on every database: a cluster of many huge imported volumes stops there.
MAX_CLUSTER_VOLUME = 2**31 - 1


class ClusterError(KeywordError):
    pass


def _own(membership, objects: Iterable, field: str) -> list:
    objects = list(objects)
    if any(obj.workspace_id != membership.workspace_id for obj in objects):
        raise ClusterError(field, _("This belongs to another workspace."))
    return objects


def _main(members: list[Keyword]) -> Keyword | None:
    if not members:
        return None
    return min(members, key=lambda k: (-(k.volume or 0), len(k.query), k.query))


def _intent(members: list[Keyword]) -> str:
    counts = Counter(member.intent for member in members if member.intent)
    return counts.most_common(1)[0][0] if counts else ""


def _service(members: list[Keyword]):
    counts = Counter(member.service_id for member in members if member.service_id)
    return counts.most_common(1)[0][0] if counts else None


def refresh(cluster: Cluster, keep_main: bool = True, keep_name: bool | None = None) -> Cluster | None:
    """Recompute the cluster from its members; delete it when it has none. Returns it (or None)."""
    members = list(cluster.keywords.all())
    if not members:
        cluster.delete()
        return None
    main = cluster.main if keep_main and cluster.main_id in {m.pk for m in members} else _main(members)
    renamed = cluster.edited and cluster.main_id is not None and cluster.name != _name_of(cluster.main)
    keep_name = renamed if keep_name is None else keep_name
    cluster.main = main
    cluster.name = cluster.name if keep_name else main.query[:MAX_NAME]
    cluster.volume = min(sum(member.volume or 0 for member in members), MAX_CLUSTER_VOLUME)
    cluster.intent = _intent(members)
    cluster.service_id = _service(members) or cluster.service_id
    cluster.save()
    return cluster


def _name_of(keyword: Keyword | None) -> str:
    return keyword.query[:MAX_NAME] if keyword is not None else ""


def refresh_volumes(workspace) -> None:
    """After volumes changed: every cluster's sum, and the main query of clusters nobody edited."""
    sums = dict(
        Keyword.objects.filter(workspace=workspace, cluster__isnull=False)
        .values_list("cluster")
        .annotate(total=Sum("volume"))
        .values_list("cluster", "total")
    )
    for cluster in Cluster.objects.filter(workspace=workspace).select_related("main"):
        if cluster.edited:
            total = min(sums.get(cluster.pk) or 0, MAX_CLUSTER_VOLUME)
            if cluster.volume != total:
                cluster.volume = total
                cluster.save(update_fields=["volume"])
        else:
            refresh(cluster, keep_main=False, keep_name=False)


# --- re-clustering -----------------------------------------------------------------------------------


def recluster(membership, use_embeddings: bool | None = None) -> dict:
    """Regroup every query not in an edited cluster. Returns {"clusters", "kept", "queries"}."""
    check_manage(membership)
    workspace = membership.workspace
    with transaction.atomic():
        free = (
            Keyword.objects.filter(workspace=workspace, excluded=False)
            .filter(Q(cluster__isnull=True) | Q(cluster__edited=False))
            .order_by("-volume", "query", "pk")
        )
        # Queries about different services of the business never share a page (a children's haircut is
        # not a women's one, however alike the words): they are clustered within their service; queries
        # of no known service (imported) are clustered among themselves.
        free = list(free)
        _redecide_intents(workspace, free, use_embeddings)
        by_language: dict[tuple[str, int | None], list[Keyword]] = {}
        for keyword in free:
            by_language.setdefault((keyword.language, keyword.service_id), []).append(keyword)
        old = {
            c.pk: c for c in Cluster.objects.filter(workspace=workspace, edited=False).select_related("main")
        }
        # Excluded queries never sit in a cluster.
        Keyword.objects.filter(workspace=workspace, excluded=True, cluster__edited=False).update(cluster=None)
        claimed: set[int] = set()
        made = 0
        for (language, _service_id), keywords in by_language.items():
            labels = clustering.cluster_queries([k.query for k in keywords], language, use_embeddings)
            groups: dict[int, list[Keyword]] = {}
            for keyword, label in zip(keywords, labels, strict=True):
                groups.setdefault(label, []).append(keyword)
            for members in groups.values():
                cluster = _reuse(old, claimed, members) or Cluster(workspace=workspace, language=language)
                cluster.language = language
                cluster.save()
                Keyword.objects.filter(pk__in=[m.pk for m in members]).update(cluster=cluster)
                refresh(cluster, keep_main=False, keep_name=False)
                made += 1
        for pk, cluster in old.items():
            if pk not in claimed:
                cluster.delete()
        kept = Cluster.objects.filter(workspace=workspace, edited=True).count()
    return {"clusters": made + kept, "kept": kept, "queries": sum(map(len, by_language.values()))}


def _redecide_intents(workspace, keywords: list[Keyword], use_embeddings: bool | None) -> None:
    """Each language's queries classified as one batch: the rules, then the model trained on the batch
    for what they leave undecided. Only when embeddings are in use and the batch is within the limit of
    clustering's precise path (cluster.embeds): the model needs an e5 vector per query, which the fast
    path and the lemma-only demo are there to avoid; they keep the rules and the commercial default.
    The intents follow from the queries and the profile alone, so running it again changes nothing."""
    by_language: dict[str, list[Keyword]] = {}
    for keyword in keywords:
        by_language.setdefault(keyword.language, []).append(keyword)
    brand, places = profile_terms(workspace)
    changed = []
    for language, members in by_language.items():
        texts = [clustering.spelled(keyword.query) for keyword in members]
        if not clustering.embeds(len(set(texts)), use_embeddings):
            continue
        found = intents.classify_many(texts, language, brand=brand, places=places)
        for keyword, intent in zip(members, found, strict=True):
            if keyword.intent == intent:
                continue
            keyword.intent = intent
            # A generated query's kind comes from its template; the others' from their intent.
            if keyword.source != Keyword.Source.GENERATED:
                keyword.kind = kind_of(intent)
            changed.append(keyword)
    Keyword.objects.bulk_update(changed, ["intent", "kind"], batch_size=500)


def _reuse(old: dict[int, Cluster], claimed: set[int], members: list[Keyword]) -> Cluster | None:
    """The old automatic cluster whose main query is in this group: its landing page stays linked."""
    for member in members:
        pk = member.cluster_id
        if pk in old and pk not in claimed and old[pk].main_id in {m.pk for m in members}:
            claimed.add(pk)
            return old[pk]
    return None


# --- hand edits --------------------------------------------------------------------------------------


def _members(membership, keywords: Iterable[Keyword]) -> list[Keyword]:
    keywords = _own(membership, keywords, "keywords")
    if not keywords:
        raise ClusterError("keywords", _("Select at least one query."))
    if any(keyword.excluded for keyword in keywords):
        raise ClusterError("keywords", _("Queries excluded by a negative keyword cannot join a cluster."))
    return keywords


def _same_language(language: str, keywords: list[Keyword]) -> None:
    if any(keyword.language != language for keyword in keywords):
        raise ClusterError("keywords", _("A cluster holds queries of one language."))


def merge(membership, clusters: Iterable[Cluster]) -> Cluster:
    """Merge into the first cluster (the biggest when they come from the list): its name and main stay."""
    check_manage(membership)
    clusters = _own(membership, clusters, "clusters")
    if len({c.pk for c in clusters}) < 2:
        raise ClusterError("clusters", _("Select at least two clusters to merge."))
    if len({c.language for c in clusters}) > 1:
        raise ClusterError("clusters", _("Clusters of different languages cannot be merged."))
    target, *others = clusters
    with transaction.atomic():
        Keyword.objects.filter(cluster__in=[c.pk for c in others]).update(cluster=target)
        Cluster.objects.filter(pk__in=[c.pk for c in others if c.pk != target.pk]).delete()
        target.edited = True
        return refresh(target, keep_main=True, keep_name=True)


def split(membership, keywords: Iterable[Keyword], name: str | None = None) -> Cluster:
    """Take the selected queries out of their cluster into a new one."""
    check_manage(membership)
    keywords = _members(membership, keywords)
    sources = {keyword.cluster_id for keyword in keywords}
    if len(sources) != 1 or None in sources:
        raise ClusterError("keywords", _("Select queries of one cluster."))
    source = Cluster.objects.get(pk=sources.pop())
    if source.keywords.count() == len({k.pk for k in keywords}):
        raise ClusterError("keywords", _("Leave at least one query in the cluster."))
    name = _clean_name(name) if name else None
    with transaction.atomic():
        new = Cluster.objects.create(
            workspace=source.workspace, language=source.language, name=name or "", edited=True
        )
        Keyword.objects.filter(pk__in=[k.pk for k in keywords]).update(cluster=new)
        source.edited = True
        refresh(source)
        return refresh(new, keep_main=False, keep_name=bool(name))


def move(membership, keywords: Iterable[Keyword], target: Cluster) -> Cluster:
    check_manage(membership)
    keywords = _members(membership, keywords)
    _own(membership, [target], "target")
    _same_language(target.language, keywords)
    with transaction.atomic():
        sources = set(Cluster.objects.filter(pk__in={k.cluster_id for k in keywords} - {target.pk}))
        Keyword.objects.filter(pk__in=[k.pk for k in keywords]).update(cluster=target)
        for source in sources:
            source.edited = True
            refresh(source)
        target.edited = True
        return refresh(target)


def _clean_name(name) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise ClusterError("name", _("Enter a name."))
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ClusterError("name", _("Enter at most %(count)d characters.") % {"count": MAX_NAME})
    return name


def rename(membership, cluster: Cluster, name: str) -> Cluster:
    check_manage(membership)
    _own(membership, [cluster], "cluster")
    cluster.name = _clean_name(name)
    cluster.edited = True
    cluster.save(update_fields=["name", "edited"])
    return cluster


def set_main(membership, cluster: Cluster, keyword: Keyword) -> Cluster:
    check_manage(membership)
    _own(membership, [cluster, keyword], "keyword")
    if keyword.cluster_id != cluster.pk:
        raise ClusterError("keyword", _("The main query must be one of the cluster's queries."))
    renamed = cluster.edited and cluster.name != _name_of(cluster.main)
    with transaction.atomic():
        cluster.main = keyword
        cluster.edited = True
        if not renamed:
            cluster.name = _name_of(keyword)
        cluster.save(update_fields=["main", "name", "edited"])
    return cluster
