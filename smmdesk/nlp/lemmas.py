"""Lemmas for matching words whatever their inflection: pymorphy3 for Russian, simplemma for the rest.

The NLP issue builds on this; routing and listening only need `lemma_set`.
"""

import re
from functools import lru_cache

WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str, language: str = "") -> str:
    word = word.casefold()
    if CYRILLIC.search(word):
        return _morph().parse(word)[0].normal_form.replace("ё", "е")
    import simplemma

    languages = (language,) if language in ("sk", "en") else ("sk", "en")
    return simplemma.lemmatize(word, lang=languages).casefold()


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


def lemma_set(text: str, language: str = "") -> frozenset[str]:
    return frozenset(lemma(w, language) for w in words(text))
