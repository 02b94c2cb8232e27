"""Triage: language, sentiment and flags for one message.

A hook: the nlp app registers its models with `set_classifier` (smmdesk.nlp.triage.classify: lingua,
the calibrated fast pass, the rule flags); until then, or without that app, `rules_classifier` decides
with the plain rules of smmdesk.nlp.rules. `score` is the probability of the sentiment label (0..1) with
the models; the rules give a signed lexicon score in [-1, 1] instead.

Routing and ingest import `terms`, `phrase_matches` and `detect_language` from here, so they stay
re-exported while the rules live in smmdesk.nlp.rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from smmdesk.nlp.rules import analyse, detect_language, label, phrase_matches, terms

__all__ = [
    "Triage",
    "classify",
    "classify_many",
    "detect_language",
    "phrase_matches",
    "rules_classifier",
    "set_classifier",
    "terms",
]


@dataclass(frozen=True)
class Triage:
    language: str = ""
    sentiment: str = "neutral"
    score: float = 0.0
    flags: list[str] = field(default_factory=list)


def rules_classifier(text: str, languages: list[str]) -> Triage:
    text = text or ""
    language = detect_language(text, languages)
    analysis = analyse(text, language)
    score = round(analysis.score, 3)
    return Triage(language=language, sentiment=label(score), score=score, flags=list(analysis.flags))


_classifier: Callable[[str, list[str]], Triage] = rules_classifier


_batch_classifier: Callable[[list[str], list[str]], list[Triage]] | None = None


def set_classifier(
    classifier: Callable[[str, list[str]], Triage] | None,
    batch: Callable[[list[str], list[str]], list[Triage]] | None = None,
) -> None:
    """Register the models; `batch`, if given, classifies many texts at once (ingestion's batches)."""
    global _classifier, _batch_classifier
    _classifier = classifier or rules_classifier
    _batch_classifier = batch if classifier else None


def classify(text: str, languages: list[str]) -> Triage:
    return _classifier(text, languages)


def classify_many(texts: list[str], languages: list[str]) -> list[Triage]:
    if _batch_classifier is not None:
        return _batch_classifier(texts, languages)
    return [_classifier(text, languages) for text in texts]
