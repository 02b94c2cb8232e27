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
    text = rules.NOISE.sub(" ", text or "")
    letters = sum(ch.isalpha() for ch in text)
    if not letters:
        return ""
    languages = tuple(languages) or rules.LANGUAGES
    cyrillic, latin = len(rules.CYRILLIC.findall(text)), len(rules.LATIN.findall(text))
    if not cyrillic and not latin:
        return OTHER  # Greek, Arabic, Chinese...
    script_is_cyrillic = cyrillic >= latin
    candidates = [code for code in languages if (code in CYRILLIC_LANGUAGES) == script_is_cyrillic]
    if not candidates:
        return OTHER  # Cyrillic text in a workspace that speaks only Latin-script languages, or back
    own = None
    lingua = detector(languages, script_is_cyrillic) if letters >= MIN_LETTERS else None
    if lingua is not None:
        ranked = [
            (c.language.iso_code_639_1.name.lower(), c.value)
            for c in lingua.compute_language_confidence_values(text)
        ]
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
