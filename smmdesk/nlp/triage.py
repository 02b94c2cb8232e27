"""The inbox's triage with the models: lingua for the language, the calibrated fast pass for sentiment,
the rule flags. Registered with smmdesk.inbox.triage.set_classifier by the nlp app; the embedding
refinement follows later in the worker."""

from __future__ import annotations

from collections.abc import Sequence

from smmdesk.inbox.triage import Triage
from smmdesk.nlp import language, rules, sentiment


def classify(text: str, languages: Sequence[str]) -> Triage:
    return classify_many([text], languages)[0]


def classify_many(texts: Sequence[str], languages: Sequence[str]) -> list[Triage]:
    texts = [text or "" for text in texts]
    detected = language.detect_many(texts, tuple(languages) or rules.LANGUAGES)
    model = sentiment.shipped()
    verdicts = []
    for text, code in zip(texts, detected, strict=True):
        analysis = rules.analyse(text, code)
        verdict = model.fast_verdict(analysis)
        verdicts.append(
            Triage(language=code, sentiment=verdict.label, score=verdict.score, flags=list(analysis.flags))
        )
    return verdicts
