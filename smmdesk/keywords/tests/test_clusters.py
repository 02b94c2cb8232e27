import pytest

from smmdesk.accounts.models import Membership
from smmdesk.keywords import clusters, normalize
from smmdesk.keywords.clusters import ClusterError
from smmdesk.keywords.manual import KeywordError
from smmdesk.keywords.models import Cluster, Keyword
from smmdesk.keywords.tests.test_intent import SALES, SHAMPOO_QUESTIONS

pytestmark = pytest.mark.django_db


def member(cast, role="owner"):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


def add(workspace, query, volume=None, language="ru", intent="commercial", **extra):
    return Keyword.objects.create(
        workspace=workspace,
        query=query,
        normalized=normalize.key(query, language),
        language=language,
        kind="direct",
        intent=intent,
        volume=volume,
        **extra,
    )


@pytest.fixture
def grouped(cast):
    """Two automatic clusters as recluster leaves them (lemmas only, for speed)."""
    ws = cast.workspace
    add(ws, "мужская стрижка", 100)
    add(ws, "мужская стрижка цена", 300)
    add(ws, "стрижка мужская оренбург", None, intent="local")
    add(ws, "маникюр", 50)
    add(ws, "маникюр цена", 20)
    add(ws, "курсы маникюра", 999, excluded=True)
    result = clusters.recluster(member(cast), use_embeddings=False)
    assert result == {"clusters": 2, "kept": 0, "queries": 5}
    men = Cluster.objects.get(workspace=ws, main__query="мужская стрижка цена")
    nails = Cluster.objects.get(workspace=ws, main__query="маникюр")
    return men, nails


def test_recluster_names_volumes_intents(grouped):
    men, nails = grouped
    assert (men.name, men.volume, men.intent, men.edited) == (
        "мужская стрижка цена",
        400,
        "commercial",
        False,
    )
    assert (nails.name, nails.volume) == ("маникюр", 70)
    assert not Keyword.objects.get(query="курсы маникюра").cluster


def test_main_is_the_shortest_without_volumes(cast):
    for query in ("стрижка бороды недорого", "стрижка бороды"):
        add(cast.workspace, query)
    clusters.recluster(member(cast), use_embeddings=False)
    assert Cluster.objects.get(workspace=cast.workspace).name == "стрижка бороды"


def test_queries_of_different_services_never_share_a_cluster(cast):
    from smmdesk.business.models import Service

    ws = cast.workspace
    women = Service.objects.create(workspace=ws, name="Женская стрижка", price=1200)
    children = Service.objects.create(workspace=ws, name="Детская стрижка", price=600)
    for query in ("женская стрижка", "женская стрижка цена"):
        add(ws, query, service=women)
    for query in ("детская стрижка", "детская стрижка цена"):
        add(ws, query, service=children)
    add(ws, "стрижка недорого")
    clusters.recluster(member(cast), use_embeddings=False)
    by_service = {
        (k.query, k.service_id): k.cluster_id for k in Keyword.objects.filter(workspace=ws).order_by("pk")
    }
    women_clusters = {c for (q, s), c in by_service.items() if s == women.pk}
    children_clusters = {c for (q, s), c in by_service.items() if s == children.pk}
    assert len(women_clusters) == len(children_clusters) == 1 and women_clusters != children_clusters
    assert Cluster.objects.get(pk=women_clusters.pop()).service_id == women.pk


def test_merge_keeps_the_first_and_sums(cast, grouped):
    men, nails = grouped
    merged = clusters.merge(member(cast), [men, nails])
    assert merged.pk == men.pk and merged.edited
    assert (merged.volume, merged.name, merged.main.query) == (
        470,
        "мужская стрижка цена",
        "мужская стрижка цена",
    )
    assert not Cluster.objects.filter(pk=nails.pk).exists()
    assert merged.keywords.count() == 5


def test_split_makes_a_new_cluster_and_fixes_both(cast, grouped):
    men, _ = grouped
    chosen = list(Keyword.objects.filter(query__in=["мужская стрижка цена", "стрижка мужская оренбург"]))
    new = clusters.split(member(cast), chosen, "Цены")
    men.refresh_from_db()
    assert (new.name, new.volume, new.main.query, new.edited) == ("Цены", 300, "мужская стрижка цена", True)
    # The old main left: the biggest remaining member takes over, and the name follows it.
    assert (men.volume, men.main.query, men.name, men.edited) == (
        100,
        "мужская стрижка",
        "мужская стрижка",
        True,
    )
    unnamed = clusters.split(member(cast), [Keyword.objects.get(query="стрижка мужская оренбург")])
    assert unnamed.name == "стрижка мужская оренбург" and unnamed.intent == "local"


def test_split_refuses_all_members_or_several_clusters(cast, grouped):
    men, nails = grouped
    with pytest.raises(ClusterError):
        clusters.split(member(cast), list(men.keywords.all()))
    with pytest.raises(ClusterError):
        clusters.split(member(cast), [men.keywords.first(), nails.keywords.first()])


def test_move_updates_both_and_deletes_an_empty_source(cast, grouped):
    men, nails = grouped
    moved = list(nails.keywords.all())
    target = clusters.move(member(cast), moved, men)
    assert target.volume == 470 and target.edited
    assert not Cluster.objects.filter(pk=nails.pk).exists()


def test_rename_and_set_main_survive_recluster(cast, grouped):
    men, nails = grouped
    clusters.rename(member(cast), men, "  Мужские   стрижки ")
    small = Keyword.objects.get(query="мужская стрижка")
    clusters.set_main(member(cast), men, small)
    men.refresh_from_db()
    assert (men.name, men.main_id) == ("Мужские стрижки", small.pk)
    add(cast.workspace, "мужская стрижка машинкой", 5000)
    add(cast.workspace, "маникюр гель лак", 10)
    result = clusters.recluster(member(cast), use_embeddings=False)
    men.refresh_from_db()
    assert (men.name, men.main_id, men.volume) == ("Мужские стрижки", small.pk, 400)
    assert result["kept"] == 1
    # The automatic cluster is reused (its page stays linked) and picks up the new query.
    nails.refresh_from_db()
    assert nails.keywords.count() == 3 and nails.volume == 80
    new = Keyword.objects.get(query="мужская стрижка машинкой")
    assert new.cluster_id not in (men.pk, nails.pk)


def test_set_main_needs_a_member(cast, grouped):
    men, nails = grouped
    with pytest.raises(ClusterError):
        clusters.set_main(member(cast), men, nails.keywords.first())


def test_bad_names_and_languages(cast, grouped):
    men, nails = grouped
    with pytest.raises(ClusterError):
        clusters.rename(member(cast), men, "   ")
    with pytest.raises(ClusterError):
        clusters.rename(member(cast), men, "x" * 201)
    english = add(cast.workspace, "haircut", 5, language="en")
    with pytest.raises(ClusterError):
        clusters.move(member(cast), [english], men)
    excluded = Keyword.objects.get(query="курсы маникюра")
    with pytest.raises(ClusterError):
        clusters.move(member(cast), [excluded], nails)
    with pytest.raises(ClusterError):
        clusters.merge(member(cast), [men])


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_roles_without_manage(cast, grouped, role):
    men, nails = grouped
    for call in (
        lambda m: clusters.recluster(m),
        lambda m: clusters.merge(m, [men, nails]),
        lambda m: clusters.split(m, [men.keywords.first()]),
        lambda m: clusters.move(m, list(nails.keywords.all()), men),
        lambda m: clusters.rename(m, men, "x"),
        lambda m: clusters.set_main(m, men, men.keywords.first()),
    ):
        with pytest.raises(KeywordError):
            call(member(cast, role))
    assert Cluster.objects.filter(workspace=cast.workspace, edited=True).count() == 0


def test_other_workspaces_objects_are_refused(cast, grouped):
    men, _ = grouped
    theirs = Cluster.objects.create(workspace=cast.other, name="чужой", language="ru")
    their_kw = add(cast.other, "маникюр", 1, cluster=theirs)
    with pytest.raises(ClusterError):
        clusters.merge(member(cast), [men, theirs])
    with pytest.raises(ClusterError):
        clusters.move(member(cast), [their_kw], men)
    with pytest.raises(ClusterError):
        clusters.rename(member(cast), theirs, "x")
    with pytest.raises(ClusterError):
        clusters.set_main(member(cast), men, their_kw)
    assert Keyword.objects.get(pk=their_kw.pk).cluster_id == theirs.pk


def _intents(workspace):
    return {k.query: (k.intent, k.kind) for k in Keyword.objects.filter(workspace=workspace)}


def test_recluster_lets_the_model_decide_what_the_rules_leave_open(cast):
    from smmdesk.keywords import manual

    owner = member(cast)
    for query in SHAMPOO_QUESTIONS + SALES + ["шампунь от перхоти"]:
        manual.add_query(owner, query, "ru")
    # A generated query keeps the kind its template gave it; only its intent follows the model.
    add(cast.workspace, "сухой шампунь для волос", source=Keyword.Source.GENERATED)
    before = _intents(cast.workspace)
    assert before["шампунь от перхоти"] == ("commercial", "direct")  # no rule: the default
    assert before["как выбрать шампунь"] == ("informational", "indirect")

    # The demo's lemma-only path embeds nothing, so the rules and the default stand.
    clusters.recluster(owner, use_embeddings=False)
    assert _intents(cast.workspace) == before

    clusters.recluster(owner)
    after = _intents(cast.workspace)
    # The shampoo questions teach the model what a shampoo query wants.
    assert after["шампунь от перхоти"] == ("informational", "indirect")
    assert after["сухой шампунь для волос"] == ("informational", "direct")
    assert {query: after[query] for query in SHAMPOO_QUESTIONS + SALES} == {
        query: before[query] for query in SHAMPOO_QUESTIONS + SALES
    }

    clusters.recluster(owner)
    assert _intents(cast.workspace) == after


def test_a_query_added_by_hand_knows_the_profile(cast):
    # Like generated and imported queries: the business's name is navigational, its districts local.
    from smmdesk.keywords import manual

    profile = cast.workspace.profile
    profile.name, profile.city, profile.districts = "Kaderníctvo Lokon", "Bratislava", ["Petržalka"]
    profile.save()
    owner = member(cast)
    assert manual.add_query(owner, "strih Petržalka", "sk").intent == "local"
    assert manual.add_query(owner, "kaderníctvo lokon cena", "sk").intent == "navigational"
