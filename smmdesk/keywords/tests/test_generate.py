import pytest

from smmdesk.accounts.models import Membership
from smmdesk.keywords import generate, normalize
from smmdesk.keywords.manual import NotAllowed
from smmdesk.keywords.models import Intent, Keyword, Kind
from smmdesk.keywords.tests.k1_fixtures import *  # noqa: F403
from smmdesk.keywords.tests.k1_fixtures import furnish, member


def _queries(workspace):
    return {c.query: c for c in generate.candidates(generate.profile_data(workspace))}


@pytest.mark.django_db
def test_russian_and_english_queries_of_the_issue(salon):
    queries = _queries(salon.workspace)
    for expected in [
        "женская стрижка в Ленинском районе Оренбурга",
        "стрижка женская Оренбург цена",
        "women's haircut Leninsky district Orenburg",
        "мужская стрижка рядом со мной",
        "men's haircut near me",
        "записаться на детскую стрижку в Оренбурге",
        "лучшая женская стрижка в Центральном районе",
    ]:
        assert expected in queries, expected
        assert queries[expected].kind == Kind.DIRECT
    for expected in ["как подстричь волосы", "идеи женской стрижки", "women's haircut ideas"]:
        assert queries[expected].kind == Kind.INDIRECT
    assert queries["men's haircut near me"].language == "en"


@pytest.mark.django_db
def test_slovak_queries(slovak_salon):
    queries = {c.query: c for c in generate.candidates(generate.profile_data(slovak_salon.other))}
    for expected in [
        "dámsky strih Petržalka cena",
        "dámsky strih v Petržalke",
        "dámsky strih v Petržalke v Bratislave",
        "najlepší pánsky strih v Starom Meste v Bratislave",
        "pánsky strih v Starom Meste",
        "pánsky strih v Bratislave",
        "ako sa starať o vlasy po strihaní",
        "women's haircut Petržalka Bratislava",
        "book women's haircut in Petržalka Bratislava",
    ]:
        assert expected in queries, expected
    assert not any(query.endswith("v Petržalke Bratislava") for query in queries)
    assert queries["strih pre ženy v okolí"].language == "sk"


@pytest.mark.django_db
def test_landmarks_feed_local_queries(salon):
    from smmdesk.keywords.models import Landmark

    Landmark.objects.create(workspace=salon.workspace, name="вокзал", language="ru")
    Landmark.objects.create(workspace=salon.workspace, name="метро", language="ru")
    queries = _queries(salon.workspace)
    assert "мужская стрижка рядом с вокзалом" in queries
    assert "мужская стрижка у метро" in queries


@pytest.mark.django_db
def test_run_stores_unique_queries_and_is_idempotent(salon):
    owner = member(salon)
    first = generate.run(owner)
    stored = Keyword.objects.filter(workspace=salon.workspace)
    assert first["created"] == stored.count() == first["unique"]
    assert first["candidates"] > first["unique"]
    keys = list(stored.values_list("language", "normalized"))
    assert len(keys) == len(set(keys))
    some = stored.get(query="женская стрижка в Ленинском районе Оренбурга")
    assert some.service.name == "Женская стрижка"
    assert some.normalized == normalize.key(some.query, "ru")
    assert stored.get(query="как подстричь волосы").intent == Intent.INFORMATIONAL
    # "Best" is commercial, and commercial comes before local.
    assert stored.get(query="лучшая женская стрижка в Центральном районе").intent == Intent.COMMERCIAL
    some.volume = 320
    some.save()
    second = generate.run(owner)
    assert second["created"] == 0
    assert stored.count() == first["unique"]
    assert stored.get(pk=some.pk).volume == 320


@pytest.mark.django_db
def test_negative_queries_are_kept_but_excluded(salon):
    Keyword.objects.create(
        workspace=salon.workspace, query="курсы женской стрижки", normalized=normalize.key("курсы женской стрижки", "ru"),
        language="ru", kind=Kind.INDIRECT, intent=Intent.INFORMATIONAL, source=Keyword.Source.IMPORTED,
    )  # fmt: skip
    result = generate.run(member(salon))
    assert result["excluded"] == 1
    assert Keyword.objects.get(query="курсы женской стрижки").excluded
    assert not Keyword.objects.filter(excluded=True).exclude(query="курсы женской стрижки").exists()


@pytest.mark.django_db
def test_only_managers_generate(salon):
    with pytest.raises(NotAllowed):
        generate.run(member(salon, "content_manager"))
    assert not Keyword.objects.exists()


@pytest.mark.django_db
def test_a_bare_profile_generates_without_errors(cast):
    furnish(cast.workspace, "", [], ["ru"], [("Стрижка", [])])
    result = generate.run(Membership.objects.get(workspace=cast.workspace, user=cast.users["owner"]))
    assert result["unique"] > 0
    assert Keyword.objects.filter(query="стрижка цена").exists()


def test_phrase_language():
    assert generate.phrase_language("strih pre deti", ("sk", "en")) == "sk"
    assert generate.phrase_language("men's haircut", ("sk", "en")) == "en"
    assert generate.phrase_language("мужская стрижка", ("sk", "en")) is None
    assert generate.phrase_language("мужская стрижка", ("ru", "en")) == "ru"
