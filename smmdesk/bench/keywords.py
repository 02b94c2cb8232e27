"""`smmdesk bench keywords [--candidates N]`: generate, dedup and cluster N candidate queries.

A made-up big hairdresser-and-beauty profile (SERVICES nouns × ADJECTIVES, each also written the other
way round — "стрижка женская" — as a synonym; DISTRICTS; LANDMARKS; a Slovak part too) goes through the
product's generator (generate.candidates: every template, place and inflection); each candidate is also
emitted with its words rotated (the word orders people type), cycling until there are N. So most
candidates are duplicates by inflection or word order, as in a real keyword collection. Timed: the
generation, normalize.key and dedup of all N, and clustering the unique queries per language with
cluster.cluster_queries (its fast lemma path; no embeddings at this size). The last line is
`keywords: <N> candidates → <U> unique → <C> clusters in <S> s`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

from smmdesk.bench import run_child, say

DEFAULT_CANDIDATES = 1_000_000

SERVICES_RU = "стрижка укладка окрашивание причёска завивка мелирование ламинирование кератин маникюр педикюр массаж депиляция".split()  # noqa: E501
ADJECTIVES_RU = "женский мужской детский свадебный вечерний короткий модный праздничный".split()
DISTRICTS_RU = """Ленинский Центральный Дзержинский Промышленный Советский Кировский Октябрьский Заводской
Северный Южный Восточный Западный Пролетарский Железнодорожный Первомайский Калининский Московский
Приволжский Фрунзенский Ворошиловский""".split()
LANDMARKS_RU = ["метро", "вокзал", "рынок", "торговый центр", "парк", "больница", "университет", "площадь"]
SERVICES_SK = ["strih", "účes", "melír", "manikúra", "pedikúra", "masáž"]
ADJECTIVES_SK = ["dámsky", "pánsky", "detský", "svadobný", "spoločenský"]
DISTRICTS_SK = [
    "Petržalka",
    "Staré Mesto",
    "Ružinov",
    "Nové Mesto",
    "Karlova Ves",
    "Dúbravka",
    "Rača",
    "Vrakuňa",
]
LANDMARKS_SK = ["stanica", "Aupark", "Eurovea", "nemocnica"]


def run_keywords(candidates: int = DEFAULT_CANDIDATES, echo=print) -> str:
    """Run the benchmark in a child process; returns its last line."""
    return run_child("smmdesk.bench.keywords", ["--candidates", str(int(candidates))], echo)


def _agree(adjective: str, noun: str, language: str) -> str:
    from smmdesk.keywords import inflect

    if language == "ru":
        return inflect.ru_agree(adjective, noun)
    return inflect.sk_agree(adjective, noun)


def profiles():
    """The made-up big profiles, one per language."""
    from smmdesk.keywords.generate import ProfileData, ServiceData

    def services(nouns, adjectives, language):
        found = []
        for noun in nouns:
            for adjective in adjectives:
                agreed = _agree(adjective, noun, language)
                found.append(ServiceData(len(found) + 1, [f"{agreed} {noun}", f"{noun} {agreed}"]))
        return found

    return [
        ProfileData(
            "Локон", "Оренбург", DISTRICTS_RU, ["ru"], services(SERVICES_RU, ADJECTIVES_RU, "ru"),
            [(name, "ru") for name in LANDMARKS_RU],
        ),
        ProfileData(
            "Lokon", "Bratislava", DISTRICTS_SK, ["sk"], services(SERVICES_SK, ADJECTIVES_SK, "sk"),
            [(name, "sk") for name in LANDMARKS_SK],
        ),
    ]  # fmt: skip


def stream(count: int) -> Iterator[tuple[str, str]]:
    """N (query, language) pairs: the generator's candidates, then their word-order rotations."""
    from smmdesk.keywords.generate import candidates

    base = [(c.query, c.language) for profile in profiles() for c in candidates(profile)]
    emitted = 0
    shift = 0
    while emitted < count:
        for query, language in base:
            words = query.split()
            k = shift % len(words)
            yield (" ".join(words[k:] + words[:k]) if k else query), language
            emitted += 1
            if emitted >= count:
                return
        shift += 1


def run(count: int) -> str:
    import django

    django.setup()
    from smmdesk.keywords import normalize
    from smmdesk.keywords.cluster import cluster_queries

    started = time.perf_counter()
    unique: dict[tuple[str, str], str] = {}
    total = 0
    key = normalize.key
    for query, language in stream(count):
        total += 1
        unique.setdefault((language, key(query, language)), query)
    generated = time.perf_counter()
    say(f"dedup: {total} candidates keyed in {generated - started:.1f} s")
    by_language: dict[str, list[str]] = {}
    for (language, _key), query in unique.items():
        by_language.setdefault(language, []).append(query)
    clusters = 0
    for language, queries in by_language.items():
        labels = cluster_queries(queries, language, use_embeddings=False)
        clusters += len(set(labels))
    elapsed = time.perf_counter() - started
    return f"keywords: {total} candidates → {len(unique)} unique → {clusters} clusters in {elapsed:.1f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench keywords")
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    args = parser.parse_args(argv)
    say(run(max(1, args.candidates)))


if __name__ == "__main__":
    main()
