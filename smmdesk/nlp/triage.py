"""The inbox's triage with the models: lingua for the language, the calibrated fast pass for sentiment,
the rule flags. Registered with smmdesk.inbox.triage.set_classifier by the nlp app; the embedding
refinement follows later in the worker."""

from __future__ import annotations

from collections.abc import Sequence

from smmdesk.inbox.triage import Triage
from smmdesk.nlp import language, rules, sentiment


def classify(text: str, languages: Sequence[str]) -> Triage:
    text = text or ""
    detected = language.detect(text, tuple(languages) or rules.LANGUAGES)
    analysis = rules.analyse(text, detected)
    verdict = sentiment.shipped().fast_verdict(analysis)
    return Triage(language=detected, sentiment=verdict.label, score=verdict.score, flags=list(analysis.flags))
