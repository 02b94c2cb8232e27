"""The dedup key of a query and negative keywords.

`key` is the query's lemma set without stop words, sorted and joined by spaces: word order, inflection
and prepositions do not make a new query ("стрижка женская Оренбург" = "женская стрижка в Оренбурге").
Stop words and the default negative keywords per language live in data/stopwords.json and
data/negatives.json (their "_comment" says what goes in).

A query is negative when it holds every lemma of some negative phrase ("курсы" catches "курсов
парикмахеров", "своими руками" needs both words). Speed: the bench keys a million queries, so the lemma
of each (word, language) is computed once and kept in a plain dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from smmdesk.nlp.lemmas import WORD, lemma

DATA = Path(__file__).parent / "data"
MAX_KEY = 300


def _load(name: str) -> dict[str, list[str]]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {language: words for language, words in data.items() if not language.startswith("_")}


STOP_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(words) for language, words in _load("stopwords.json").items()
}
DEFAULT_NEGATIVES: dict[str, list[str]] = _load("negatives.json")

# (language, word as typed) → its lemma, or "" for a stop word.
_LEMMAS: dict[tuple[str, str], str] = {}


def _lemma(word: str, language: str) -> str:
    found = _LEMMAS.get((language, word))
    if found is None:
        low = word.casefold()
        stop = STOP_WORDS.get(language, frozenset())
        found = "" if low in stop else lemma(low, language)
        if found in stop:
            found = ""
        _LEMMAS[(language, word)] = found
    return found


def lemmas(query: str, language: str) -> frozenset[str]:
    """The query's lemmas without stop words."""
    return frozenset(filter(None, (_lemma(word, language) for word in WORD.findall(query))))


def key(query: str, language: str) -> str:
    """Sorted lemma set without stop words: one key for every order and inflection of a query."""
    return " ".join(sorted(lemmas(query, language)))[:MAX_KEY]


@cache
def _phrase_lemmas(phrase: str, language: str) -> frozenset[str]:
    return lemmas(phrase, language)


def negative_sets(negatives: Iterable[str], language: str) -> list[frozenset[str]]:
    return [found for phrase in negatives if (found := _phrase_lemmas(phrase, language))]


def is_negative(query: str, language: str, negatives: Iterable[str]) -> bool:
    """Whether the query contains every word (any form) of one of the negative phrases."""
    words = lemmas(query, language)
    return any(needed <= words for needed in negative_sets(negatives, language))


def clean(query: str) -> str:
    """A query as stored: single spaces, no edge whitespace, lower case kept as typed."""
    return " ".join(query.split())
