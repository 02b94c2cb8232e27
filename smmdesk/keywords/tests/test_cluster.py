from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from smmdesk.keywords import cluster
from smmdesk.keywords.cluster import baseline, cluster_queries

SAMPLE = Path(cluster.__file__).parent / "data" / "cluster_sample_ru.tsv"


def sample():
    rows = [
        line.split("\t")
        for line in SAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [query for query, _ in rows], [label for _, label in rows]


def together(labels, queries, *chosen):
    return len({labels[queries.index(query)] for query in chosen}) == 1


@pytest.fixture(scope="module")
def clustered():
    queries, gold = sample()
    return queries, gold, cluster_queries(queries, "ru")


def test_ari_beats_the_tfidf_baseline(clustered):
    queries, gold, labels = clustered
    ours = adjusted_rand_score(gold, labels)
    # The yardstick at its best threshold on this set, so the comparison is fair to it.
    best_baseline = max(adjusted_rand_score(gold, baseline(queries, "ru", t)) for t in (0.2, 0.3, 0.4, 0.5))
    print(f"ARI on {len(queries)} queries: ours {ours:.3f}, TF-IDF baseline {best_baseline:.3f}")
    assert best_baseline < 0.5
    assert ours >= 0.65
    assert ours - best_baseline >= 0.2


def test_synonyms_join(clustered):
    queries, _, labels = clustered
    assert together(labels, queries, "антибитум", "средство от битума", "антибитум купить")
    assert together(
        labels, queries, "мужская стрижка", "подстричься мужчине недорого", "стрижка для мужчин оренбург"
    )
    assert together(labels, queries, "окрашивание волос", "покраска волос цена", "покрасить волосы в салоне")


def test_services_stay_apart(clustered):
    queries, _, labels = clustered
    heads = ["мужская стрижка", "женская стрижка", "детская стрижка", "антибитум", "маникюр", "шиномонтаж"]
    assert len({labels[queries.index(query)] for query in heads}) == len(heads)


def test_labels_in_order_of_first_appearance_and_duplicates_share():
    labels = cluster_queries(
        ["маникюр", "Антибитум", "маникюр  цена", "антибитум", "шиномонтаж"], "ru", False
    )
    assert labels == [0, 1, 0, 1, 2]
    assert cluster_queries([], "ru") == []
    assert cluster_queries(["стрижка"], "ru") == [0]


def test_modifiers_do_not_make_a_topic():
    assert cluster.core("мужская стрижка цена в Оренбурге недорого", "ru")[0] == ["мужской", "стрижка"]
    assert cluster.core("haircut near me price", "en")[0] == ["haircut"]
    # "Best" is a modifier in every form, though its lemma is the plain "good".
    assert cluster.core("лучшие мужские стрижки", "ru")[0] == ["мужской", "стрижка"]
    assert cluster.core("best haircuts", "en")[0] == ["haircut"]
    assert cluster.core("najlepšieho dámskeho strihu", "sk")[0] == cluster.core("dámsky strih", "sk")[0]
    assert cluster.core("хорошая стрижка", "ru")[0] == ["хороший", "стрижка"]


def test_fast_path_groups_by_core_lemmas(monkeypatch):
    monkeypatch.setattr(cluster, "PRECISE_LIMIT", 2)
    queries = [
        "женская стрижка",
        "стрижка женская цена",
        "женская стрижка каре оренбург",
        "детская стрижка",
        "стрижка детская недорого",
        "детская стрижка машинкой мальчику",
        "антибитум",
    ]
    labels = cluster_queries(queries, "ru")
    assert labels[:3] == [0, 0, 0]
    assert labels[3:6] == [1, 1, 1]
    assert labels[6] == 2


def test_fast_path_groups_a_big_batch():
    # How fast it is: `smmdesk bench keywords` measures it; a test only checks what comes out.
    services = [
        "стрижка",
        "окрашивание",
        "маникюр",
        "укладка",
        "мелирование",
        "педикюр",
        "массаж",
        "эпиляция",
    ]
    adjectives = ["мужской", "женский", "детский", "модный", "короткий", "вечерний", "быстрый", "дешевый"]
    extras = ["цена", "оренбург", "рядом", "фото", "отзывы", "недорого", "на дому", "2024", "срочно", "ночью"]
    queries = [f"{a} {s} {e} {n}" for s in services for a in adjectives for e in extras for n in range(40)]
    labels = cluster_queries(queries, "ru")
    assert len(labels) == len(queries) >= 25_000 > cluster.PRECISE_LIMIT
    assert max(labels) + 1 < len(queries) / 10
    services_of: dict[int, set[str]] = {}
    labels_of: dict[tuple[str, str], set[int]] = {}
    for query, label in zip(queries, labels, strict=True):
        adjective, service = query.split()[:2]
        services_of.setdefault(label, set()).add(service)
        labels_of.setdefault((adjective, service), set()).add(label)
    assert all(len(found) == 1 for found in services_of.values())
    # Every extra word is a modifier or joins the adjective + service core; "дешевый" is itself a
    # modifier, so its queries are cored on the service and the extra word.
    assert all(len(found) == 1 for (adjective, _), found in labels_of.items() if adjective != "дешевый")
