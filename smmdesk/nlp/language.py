"""Which language a message is in, among the workspace's languages, with lingua.

The detector knows the workspace's languages plus the ones a message to a Russian, Slovak or English
business is likely to be in instead (LIKELY), so Ukrainian or Czech text is "other" rather than forced
into Russian or Slovak. The script decides first which of them can apply at all: Cyrillic text is
weighed only against Cyrillic languages, Latin text against Latin ones, which halves lingua's work, and
text in any other script is "other". lingua needs a few words to be sure: for short or ambiguous text
(low confidence) the rules' guess decides (Cyrillic is Russian, Slovak letters or words are Slovak).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from smmdesk.nlp import rules

LIKELY = ("ru", "sk", "en", "uk", "cs", "pl", "de", "be", "kk", "tr", "fr", "es", "it")
CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "kk", "bg", "mk", "sr", "mn"})
# Below this confidence (or under MIN_LETTERS letters) lingua's answer is a guess; the rules decide.
SURE = 0.5
MIN_LETTERS = 8
# lingua's favourite outside the workspace must lead the best workspace language by this much.
MARGIN = 0.25
OTHER = "other"


@lru_cache(maxsize=32)
def _detector(codes: tuple[str, ...]):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def _known(languages: Sequence[str], cyrillic: bool) -> tuple[str, ...]:
    from lingua import IsoCode639_1

    wanted = {
        code
        for code in (*languages, *LIKELY)
        if hasattr(IsoCode639_1, code.upper()) and (code in CYRILLIC_LANGUAGES) == cyrillic
    }
    return tuple(sorted(wanted))


def detector(languages: Sequence[str] = rules.LANGUAGES, cyrillic: bool = False):
    """The lingua detector for one script and a workspace's languages (built once per set)."""
    codes = _known(languages, cyrillic)
    # lingua needs two languages to compare; one candidate is then simply the answer.
    return _detector(codes) if len(codes) > 1 else None


def detect(text: str, languages: Sequence[str] = rules.LANGUAGES) -> str:
    """One of `languages`, "other" for a language outside them, or "" when the text has no letters."""
    return detect_many([text], languages)[0]


def detect_many(texts: Sequence[str], languages: Sequence[str] = rules.LANGUAGES) -> list[str]:
    """`detect` for a batch: lingua ranks the texts that need it in parallel (its Rust threads), which
    is what keeps ingestion of a batch of webhook events fast."""
    languages = tuple(languages) or rules.LANGUAGES
    answers: list[str | None] = []
    pending: dict[bool, list[int]] = {True: [], False: []}
    prepared = []
    for index, raw in enumerate(texts):
        answer, text, cyrillic, candidates, needs_lingua = _prepare(raw, languages)
        answers.append(answer)
        prepared.append((text, candidates))
        if answer is None and needs_lingua:
            pending[cyrillic].append(index)
    rankings: dict[int, list[tuple[str, float]]] = {}
    for cyrillic, indexes in pending.items():
        lingua = detector(languages, cyrillic) if indexes else None
        if lingua is None:
            continue
        batch = [prepared[i][0] for i in indexes]
        values = (
            lingua.compute_language_confidence_values_in_parallel(batch)
            if len(batch) > 1
            else [lingua.compute_language_confidence_values(batch[0])]
        )
        for i, ranked in zip(indexes, values, strict=True):
            rankings[i] = [(c.language.iso_code_639_1.name.lower(), c.value) for c in ranked]
    return [
        answer if answer is not None else _decide(prepared[i][0], prepared[i][1], rankings.get(i), languages)
        for i, answer in enumerate(answers)
    ]


def _prepare(raw: str, languages: tuple[str, ...]):
    """(answer if already known, cleaned text, Cyrillic script?, candidate languages, lingua needed?)."""
    text = rules.NOISE.sub(" ", raw or "")
    letters = sum(ch.isalpha() for ch in text)
    if not letters:
        return "", text, False, [], False
    cyrillic, latin = len(rules.CYRILLIC.findall(text)), len(rules.LATIN.findall(text))
    if not cyrillic and not latin:
        return OTHER, text, False, [], False  # Greek, Arabic, Chinese...
    script_is_cyrillic = cyrillic >= latin
    candidates = [code for code in languages if (code in CYRILLIC_LANGUAGES) == script_is_cyrillic]
    if not candidates:
        # Cyrillic text in a workspace that speaks only Latin-script languages, or back
        return OTHER, text, script_is_cyrillic, candidates, False
    return None, text, script_is_cyrillic, candidates, letters >= MIN_LETTERS


def _decide(text: str, candidates: list[str], ranked, languages: tuple[str, ...]) -> str:
    own = None
    if ranked is not None:
        own = next(((code, value) for code, value in ranked if code in languages), None)
        if ranked and ranked[0][1] >= SURE:
            code, value = ranked[0]
            if code in languages:
                return code
            # "nefunguje" is Czech by a hair: a close sibling of a workspace language is not "other".
            if own is None or value - own[1] >= MARGIN:
                return OTHER
    if own is not None:
        # Unsure, but lingua's ranking of the workspace's own languages beats the rules' word lists.
        return own[0]
    guess = rules.detect_language(text, candidates)
    if guess in candidates:
        return guess
    return candidates[0] if len(candidates) == 1 else OTHER


def warm(languages: Sequence[str] = rules.LANGUAGES) -> None:
    detector(languages, cyrillic=True)
    detector(languages, cyrillic=False)
