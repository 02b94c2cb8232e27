"""The keywords pages and API: roles, bad input answered without a 500, and merge/split/move through
the UI and the API."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.keywords import normalize
from smmdesk.keywords.models import Cluster, Keyword, Landmark, NegativeKeyword

pytestmark = pytest.mark.django_db


def keyword(workspace, query, cluster=None, volume=None, language="ru"):
    return Keyword.objects.create(
        workspace=workspace,
        query=query,
        normalized=normalize.key(query, language),
        language=language,
        kind="direct",
        intent="local",
        cluster=cluster,
        volume=volume,
    )


@pytest.fixture
def clusters(cast):
    ws = cast.workspace
    women = Cluster.objects.create(workspace=ws, name="женская стрижка", language="ru")
    men = Cluster.objects.create(workspace=ws, name="мужская стрижка", language="ru")
    a = keyword(ws, "женская стрижка оренбург", women, 100)
    b = keyword(ws, "женская стрижка цена", women, 50)
    c = keyword(ws, "укладка волос", women, 10)
    d = keyword(ws, "мужская стрижка оренбург", men, 70)
    for cluster, main in ((women, a), (men, d)):
        cluster.main = main
        cluster.volume = sum(k.volume for k in cluster.keywords.all())
        cluster.save()
    return women, men, (a, b, c, d)


def url(cast, tail=""):
    return f"/w/{cast.workspace.slug}/keywords/{tail}"


def test_queries_list_filters(cast, client, clusters):
    client.force_login(cast.users["viewer"])
    assert client.get(url(cast)).status_code == 403
    client.force_login(cast.users["content_manager"])
    response = client.get(url(cast), {"q": "цена"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-query="женская стрижка цена"' in body and 'data-query="укладка волос"' not in body
    women = clusters[0]
    body = client.get(url(cast), {"cluster": str(clusters[1].pk)}).content.decode()
    assert 'data-query="мужская стрижка оренбург"' in body and 'data-query="укладка волос"' not in body
    assert 'data-query="укладка' in client.get(url(cast), {"cluster": str(women.pk)}).content.decode()
    # Garbage filters are ignored, never a 500.
    for params in ({"cluster": "abc"}, {"min_volume": "-5"}, {"kind": "bogus"}, {"page": "999"}):
        assert client.get(url(cast), params).status_code == 200
    assert 'data-testid="generate"' not in body  # a viewer cannot change anything


def test_add_query_by_hand(cast, client, clusters):
    client.force_login(cast.users["smm_manager"])
    response = client.post(url(cast), {"query": "  стрижка   чёлки ", "language": "ru"})
    assert response.status_code == 302
    added = Keyword.objects.get(workspace=cast.workspace, query="стрижка чёлки")
    assert added.source == Keyword.Source.MANUAL
    # The same words in another order and form: refused, named on the field.
    response = client.post(url(cast), {"query": "оренбург стрижки женские", "language": "ru"})
    assert response.status_code == 400 and 'data-testid="error-query"' in response.content.decode()
    assert client.post(url(cast), {"query": "", "language": "xx"}).status_code == 400
    client.force_login(cast.users["content_manager"])
    assert client.post(url(cast), {"query": "стрижка", "language": "ru"}).status_code == 403


def test_merge_split_move_rename_main_through_the_ui(cast, client, clusters):
    women, men, (a, b, c, d) = clusters
    client.force_login(cast.users["owner"])
    # Split: "укладка волос" leaves the women's cluster for a new one.
    response = client.post(url(cast, f"clusters/{women.pk}/split/"), {"keywords": [c.pk], "name": "укладка"})
    assert response.status_code == 302
    c.refresh_from_db()
    styling = c.cluster
    assert styling.name == "укладка" and styling.pk != women.pk and styling.edited
    # Move: "женская стрижка цена" goes to the men's cluster.
    response = client.post(url(cast, f"clusters/{women.pk}/move/"), {"keywords": [b.pk], "target": men.pk})
    assert response.status_code == 302
    b.refresh_from_db()
    men.refresh_from_db()
    assert b.cluster == men and men.volume == 120
    # Merge the men's cluster and the styling one.
    response = client.post(url(cast, "clusters/merge/"), {"clusters": [men.pk, styling.pk]})
    assert response.status_code == 302
    assert Keyword.objects.get(pk=c.pk).cluster_id == Keyword.objects.get(pk=d.pk).cluster_id
    merged = Keyword.objects.get(pk=d.pk).cluster
    assert merged.volume == 130
    # Rename and set the main query.
    assert client.post(url(cast, f"clusters/{merged.pk}/rename/"), {"name": "разное"}).status_code == 302
    assert client.post(url(cast, f"clusters/{merged.pk}/main/"), {"keyword": c.pk}).status_code == 302
    merged.refresh_from_db()
    assert (merged.name, merged.main_id) == ("разное", c.pk)
    page = client.get(url(cast, f"clusters/{merged.pk}/")).content.decode()
    assert 'data-testid="cluster-name">разное<' in page
    assert client.get(url(cast, "clusters/")).status_code == 200


def test_bad_cluster_edits_are_refused_with_a_reason(cast, client, clusters):
    women, men, (a, b, c, d) = clusters
    client.force_login(cast.users["owner"])
    # One cluster is not a merge; a query of another cluster is not this cluster's member.
    assert client.post(url(cast, "clusters/merge/"), {"clusters": [women.pk]}).status_code == 400
    assert client.post(url(cast, f"clusters/{women.pk}/split/"), {"keywords": [d.pk]}).status_code == 400
    assert client.post(url(cast, f"clusters/{women.pk}/move/"), {"keywords": [a.pk]}).status_code == 400
    response = client.post(url(cast, f"clusters/{men.pk}/split/"), {"keywords": [d.pk]})
    assert response.status_code == 400  # the cluster would be left empty
    assert client.post(url(cast, f"clusters/{women.pk}/rename/"), {"name": ""}).status_code == 400
    assert client.post(url(cast, f"clusters/{women.pk}/main/"), {"keyword": d.pk}).status_code == 400
    assert client.post(url(cast, f"clusters/{women.pk}/split/"), {"keywords": ["x"]}).status_code == 400
    assert Keyword.objects.get(pk=d.pk).cluster == men
    women.refresh_from_db()
    assert women.name == "женская стрижка" and not women.edited


def test_negatives_and_landmarks(cast, client, clusters):
    client.force_login(cast.users["owner"])
    assert client.post(url(cast, "terms/negatives/"), {"phrase": "бесплатно"}).status_code == 302
    assert client.post(url(cast, "terms/negatives/"), {"phrase": ""}).status_code == 400
    assert (
        client.post(url(cast, "terms/landmarks/"), {"name": "ТЦ Армада", "language": "ru"}).status_code == 302
    )
    assert (
        client.post(url(cast, "terms/landmarks/"), {"name": "ТЦ Армада", "language": "ru"}).status_code == 400
    )
    body = client.get(url(cast, "terms/")).content.decode()
    assert 'data-phrase="бесплатно"' in body and 'data-name="ТЦ Армада"' in body
    negative = NegativeKeyword.objects.get(workspace=cast.workspace)
    landmark = Landmark.objects.get(workspace=cast.workspace)
    assert client.post(url(cast, f"terms/negatives/{negative.pk}/remove/")).status_code == 302
    assert client.post(url(cast, f"terms/landmarks/{landmark.pk}/remove/")).status_code == 302
    assert not NegativeKeyword.objects.exists() and not Landmark.objects.exists()


def test_volume_import_reports_rows(cast, client, clusters):
    client.force_login(cast.users["owner"])
    text = "Фраза;Показов в месяц\nженская стрижка оренбург;320\nстрижка бороды;abc\n"
    upload = SimpleUploadedFile("wordstat.csv", text.encode("cp1251"), content_type="text/csv")
    response = client.post(url(cast, "volumes/"), {"file": upload, "fmt": "auto"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="volumes-report"' in body and 'data-testid="volumes-error"' in body
    assert Keyword.objects.get(pk=clusters[2][0].pk).volume == 320
    empty = SimpleUploadedFile("x.csv", b"", content_type="text/csv")
    assert client.post(url(cast, "volumes/"), {"file": empty, "fmt": "auto"}).status_code == 400
    assert client.post(url(cast, "volumes/"), {"fmt": "nope"}).status_code == 400


def api(client, cast, method, tail, body=None, role="owner"):
    client.force_login(cast.users[role])
    path = f"/api/w/{cast.workspace.slug}/keywords/{tail}"
    return client.generic(method, path, json.dumps(body or {}), content_type="application/json")


def test_api_queries_and_clusters(cast, client, clusters):
    women, men, (a, b, c, d) = clusters
    listed = api(client, cast, "GET", "queries?min_volume=60").json()
    assert listed["count"] == 2 and {i["query"] for i in listed["items"]} == {a.query, d.query}
    assert api(client, cast, "GET", "queries?cluster=zzz").status_code == 422
    added = api(client, cast, "POST", "queries", {"query": "каре на короткие волосы", "language": "ru"})
    assert added.status_code == 201 and added.json()["source"] == "manual"
    refused = api(client, cast, "POST", "queries", {"query": "x" * 400, "language": "ru"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "query"
    assert api(client, cast, "POST", "queries", {"query": "стрижка"}, role="viewer").status_code == 403

    split = api(client, cast, "POST", f"clusters/{women.pk}/split", {"keywords": [c.pk]})
    assert split.status_code == 201 and [k["id"] for k in split.json()["keywords"]] == [c.pk]
    moved = api(client, cast, "POST", f"clusters/{men.pk}/move", {"keywords": [b.pk]})
    assert moved.status_code == 200 and moved.json()["volume"] == 120
    merged = api(client, cast, "POST", "clusters/merge", {"clusters": [men.pk, split.json()["id"]]})
    assert merged.status_code == 200 and merged.json()["size"] == 3
    merged_id = merged.json()["id"]
    assert (
        api(client, cast, "PUT", f"clusters/{merged_id}/name", {"name": "разное"}).json()["name"] == "разное"
    )
    assert (
        api(client, cast, "PUT", f"clusters/{merged_id}/main", {"keyword_id": c.pk}).json()["main_id"] == c.pk
    )
    for method, tail, body in (
        ("POST", "clusters/merge", {"clusters": [women.pk]}),
        ("POST", "clusters/merge", {"clusters": ["a", "b"]}),
        ("POST", "clusters/merge", {"clusters": [women.pk, 999999]}),
        ("POST", f"clusters/{women.pk}/split", {"keywords": []}),
        ("PUT", f"clusters/{women.pk}/main", {"keyword_id": d.pk}),
        ("PUT", f"clusters/{women.pk}/name", {"name": " "}),
    ):
        response = api(client, cast, method, tail, body)
        assert response.status_code == 422, (tail, body, response.content)
    assert api(client, cast, "GET", "clusters").status_code == 200
    assert api(client, cast, "GET", f"clusters/{women.pk}").json()["name"] == women.name


def test_api_terms(cast, client):
    created = api(client, cast, "POST", "negatives", {"phrase": "вакансия"})
    assert created.status_code == 201
    assert api(client, cast, "POST", "negatives", {"phrase": None}).status_code == 422
    assert [n["phrase"] for n in api(client, cast, "GET", "negatives").json()] == ["вакансия"]
    assert api(client, cast, "DELETE", f"negatives/{created.json()['id']}").status_code == 204
    landmark = api(client, cast, "POST", "landmarks", {"name": "вокзал", "language": "ru"})
    assert landmark.status_code == 201
    assert api(client, cast, "POST", "landmarks", {"name": "вокзал", "language": "zz"}).status_code == 422
    assert api(client, cast, "DELETE", f"landmarks/{landmark.json()['id']}").status_code == 204
