"""Triage: language, sentiment and flags for one message. A hook: the NLP issue registers its models with
`set_classifier`; until then these rules decide."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Triage:
    language: str = ""
    sentiment: str = "neutral"
    score: float = 0.0
    flags: list[str] = field(default_factory=list)


def rules_classifier(text: str, languages: list[str]) -> Triage:
    """Placeholder rules; replaced by the fuller rule set in this module."""
    return Triage(language=languages[0] if languages else "")


_classifier: Callable[[str, list[str]], Triage] = rules_classifier


def set_classifier(classifier: Callable[[str, list[str]], Triage] | None) -> None:
    global _classifier
    _classifier = classifier or rules_classifier


def classify(text: str, languages: list[str]) -> Triage:
    return _classifier(text, languages)
