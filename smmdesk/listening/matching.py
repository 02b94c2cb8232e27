"""Tracked terms matched against mention texts, lemma-aware in Russian, Slovak and English.

A word of a term matches a word of the text when
- they share a lemma (pymorphy3 for Cyrillic, simplemma for sk/en): "Сбербанком" is "сбербанк",
  "haircuts" is "haircut";
- they are equal once case and diacritics are dropped: "Salón" is "salon";
- or the text's word is the term word's stem plus a short ending. Dictionaries do not know most brand
  names, yet people decline them ("Sberbanke", "Lokonu", "Локоне"): the stem (the word without a final
  vowel, or without a Slovak ending) followed by up to MAX_EXTRA_UNKNOWN letters still counts. Words the
  dictionaries know get a shorter allowance, so "hair" does not find "haircut".
A term of several words matches them in a row. A hashtag term ("#стрижка") matches that hashtag, ignoring
case; an ordinary term also matches inside hashtags and @handles, whose words are words of the text.
An exclusion phrase anywhere in the text drops its term for that text, and a term with languages only
counts for mentions detected in one of them.

Terms are compiled once per workspace and batch (`Matcher.for_workspace`), not per mention.

The same tokens give `phrases`: the text's content lemmas and adjacent pairs of them, stop words left
out, which trend detection counts to find emerging phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from smmdesk.nlp.lemmas import CYRILLIC, lemma
from smmdesk.nlp.rules import plain, stem

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})")
WORD = re.compile(r"[^\W_]+")
# Stems shorter than this are too common as word beginnings to match by prefix.
MIN_STEM = 4
MAX_EXTRA_UNKNOWN = 3
MAX_EXTRA_KNOWN = 2
RUSSIAN_ENDING = "аяоеёиыуюйь"
LATIN_LANGUAGES = ("sk", "en")

# Function words left out of phrases. Russian ones are also recognised by part of speech (below), so the
# list holds only the frequent words pymorphy tags as content.
STOP_WORDS = frozenset(
    """
    быть мочь это этот тот весь свой который такой наш ваш мой твой очень уже ещё еще вот там тут
    здесь как так где когда что чтобы если или или даже только просто сегодня вчера завтра год день
    раз есть нет да ну всё все себя сам самый кто какой
    som si je sme ste sú byť mať môcť ten tá to tí tie toto tento táto ktorý ktorá ktoré aj ale
    alebo ani že keď ako kde čo kto tak veľmi už ešte len iba môj tvoj náš váš svoj sa si na pre
    pri po od do za zo so ku bez cez nad pod medzi dnes včera zajtra deň rok
    the a an and or but if so as at by for from in into of on onto to with without is are was were
    be been being am have has had do does did will would can could should may might must this that
    these those it its he she they them their there here what which who whom whose when where why
    how all any some no not only just very too also than then about after before again more most
    other such own same you your yours we our ours me my mine him his her hers us i today yesterday
    tomorrow day year get got one
    """.split()
)
# pymorphy3 parts of speech that carry no topic: prepositions, conjunctions, particles, pronouns,
# interjections, numerals, predicatives.
RUSSIAN_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "NUMR", "PRED"})
MIN_PHRASE_WORD = 3
MAX_PHRASES = 200


def fold(word: str) -> str:
    """Case and diacritics dropped ("Salón" -> "salon"); Cyrillic keeps its letters, ё becomes е."""
    return plain(word.casefold())


@lru_cache(maxsize=100_000)
def _lemmas(word: str, language: str) -> frozenset[str]:
    """The word's lemmas, folded. A Latin word of unknown language is read as Slovak and as English."""
    if CYRILLIC.search(word):
        return frozenset({fold(lemma(word))})
    languages = (language,) if language in LATIN_LANGUAGES else LATIN_LANGUAGES
    return frozenset(fold(lemma(word, code)) for code in languages)


@lru_cache(maxsize=20_000)
def _known(word: str) -> bool:
    """Whether a dictionary knows the word (then its inflections come from lemmas, not from a prefix)."""
    if CYRILLIC.search(word):
        from smmdesk.nlp.lemmas import _morph

        return _morph().parse(word)[0].is_known
    import simplemma

    return simplemma.is_known(word, lang=LATIN_LANGUAGES)


def _stem(folded: str) -> str:
    if CYRILLIC.search(folded):
        trimmed = folded[:-1] if folded[-1:] in RUSSIAN_ENDING else folded
    else:
        trimmed = stem(folded)
    return trimmed if len(trimmed) >= MIN_STEM else ""


@dataclass(frozen=True, slots=True)
class Word:
    folded: str
    lemmas: frozenset[str]


@dataclass(frozen=True, slots=True)
class Tokens:
    """A text read once for every term: its words in order and its hashtags (folded, with "#")."""

    words: tuple[Word, ...]
    hashtags: frozenset[str]


def hashtags_of(text: str) -> list[str]:
    """The hashtags of a text, folded, with their "#", in order of first appearance."""
    return list(dict.fromkeys("#" + fold(tag) for tag in HASHTAG.findall(URL.sub(" ", text or ""))))


def tokens(text: str, language: str = "") -> Tokens:
    clean = URL.sub(" ", text or "")
    words = tuple(Word(fold(w), _lemmas(w.casefold(), language)) for w in WORD.findall(clean))
    return Tokens(words, frozenset(hashtags_of(clean)))


@dataclass(frozen=True, slots=True)
class TermWord:
    forms: frozenset[str]
    stem: str
    max_extra: int

    @classmethod
    def of(cls, word: str, languages: Iterable[str]) -> TermWord:
        folded = fold(word)
        forms = {folded}
        latin = [code for code in languages if code in LATIN_LANGUAGES] or list(LATIN_LANGUAGES)
        for code in latin if not CYRILLIC.search(word) else [""]:
            forms |= _lemmas(word.casefold(), code)
        known = _known(word.casefold())
        return cls(frozenset(forms), _stem(folded), MAX_EXTRA_KNOWN if known else MAX_EXTRA_UNKNOWN)

    def matches(self, word: Word) -> bool:
        if word.folded in self.forms or not self.forms.isdisjoint(word.lemmas):
            return True
        return bool(
            self.stem
            and word.folded.startswith(self.stem)
            and len(word.folded) - len(self.stem) <= self.max_extra
        )


@dataclass(frozen=True, slots=True)
class Phrase:
    """A phrase as consecutive term words, or a hashtag."""

    words: tuple[TermWord, ...] = ()
    hashtag: str = ""

    @classmethod
    def of(cls, text: str, languages: Iterable[str] = ()) -> Phrase:
        text = (text or "").strip()
        if text.startswith("#"):
            return cls(hashtag="#" + fold(text[1:]))
        languages = tuple(languages)
        return cls(words=tuple(TermWord.of(w, languages) for w in WORD.findall(text)))

    def found_in(self, found: Tokens) -> bool:
        if self.hashtag:
            return self.hashtag in found.hashtags
        size = len(self.words)
        if not size:
            return False
        words = found.words
        for start in range(len(words) - size + 1):
            if all(term_word.matches(words[start + i]) for i, term_word in enumerate(self.words)):
                return True
        return False


@dataclass(frozen=True, slots=True)
class CompiledTerm:
    id: int
    phrase: Phrase
    exclusions: tuple[Phrase, ...]
    languages: frozenset[str]

    def matches(self, found: Tokens, language: str) -> bool:
        if self.languages and language not in self.languages:
            return False
        if not self.phrase.found_in(found):
            return False
        return not any(exclusion.found_in(found) for exclusion in self.exclusions)


def compile_term(term) -> CompiledTerm:
    """A TrackedTerm (or anything with id, phrase, exclusions, languages) ready to match."""
    languages = frozenset(term.languages or ())
    return CompiledTerm(
        id=term.id,
        phrase=Phrase.of(term.phrase, languages),
        exclusions=tuple(Phrase.of(text, languages) for text in term.exclusions or () if text.strip()),
        languages=languages,
    )


class Matcher:
    """The active terms of one workspace, compiled once; `match` costs one tokenisation per text."""

    def __init__(self, terms: Iterable):
        self.terms = [compile_term(term) for term in terms]
        self.by_id = {term.id: term for term in self.terms}

    @classmethod
    def for_workspace(cls, workspace_id: int) -> Matcher:
        from smmdesk.listening.models import TrackedTerm

        return cls(TrackedTerm.objects.filter(workspace_id=workspace_id, active=True).order_by("pk"))

    def match(self, text: str, language: str = "", found: Tokens | None = None) -> list[int]:
        """Ids of the terms the text mentions."""
        found = found if found is not None else tokens(text, language)
        return [term.id for term in self.terms if term.matches(found, language)]

    def allows(self, term_id: int, text: str, language: str = "", found: Tokens | None = None) -> bool:
        """Whether a text a network found for this term passes the term's exclusions and languages."""
        term = self.by_id.get(term_id)
        if term is None or (term.languages and language not in term.languages):
            return False
        found = found if found is not None else tokens(text, language)
        return not any(exclusion.found_in(found) for exclusion in term.exclusions)


# --- phrases for trend detection -------------------------------------------------------------------


@lru_cache(maxsize=50_000)
def _function_word(word: str) -> bool:
    if CYRILLIC.search(word):
        from smmdesk.nlp.lemmas import _morph

        return _morph().parse(word)[0].tag.POS in RUSSIAN_FUNCTION_POS
    return False


def _content(word: str, language: str) -> str:
    """The word's lemma when it carries a topic, else ""."""
    if len(word) < MIN_PHRASE_WORD or word.isdigit() or _function_word(word):
        return ""
    if CYRILLIC.search(word):
        base = fold(lemma(word))
    else:
        base = fold(lemma(word, language if language in LATIN_LANGUAGES else "en"))
    if base in STOP_WORDS or fold(word) in STOP_WORDS or len(base) < MIN_PHRASE_WORD:
        return ""
    return base


def phrases(text: str, language: str = "") -> list[str]:
    """Content lemmas and adjacent pairs of them, each once: "свадебная стрижка в Локоне" gives
    "свадебный", "стрижка", "локон", "свадебный стрижка". Hashtags and links are left out (hashtags are
    counted as hashtags); a pair never spans a stop word or a sentence break."""
    clean = HASHTAG.sub(" . ", URL.sub(" . ", text or ""))
    found: dict[str, None] = {}
    previous = ""
    for piece in re.split(r"([.!?;:,()\n\"«»]+)", clean):
        if not piece or not WORD.search(piece):
            previous = ""
            continue
        for word in WORD.findall(piece):
            base = _content(word.casefold(), language)
            if base:
                found.setdefault(base)
                if previous and previous != base:
                    found.setdefault(f"{previous} {base}")
            previous = base
        if len(found) >= MAX_PHRASES:
            break
    return list(found)[:MAX_PHRASES]
