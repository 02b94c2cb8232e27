"""Sentiment: negative / neutral / positive with a calibrated probability, in two stages.

The fast pass (`fast`) runs the rules (smmdesk.nlp.rules: lexicon, negation, emoji, lemmas) and turns
their few features into probabilities with a tiny multinomial logistic regression fitted on the seed
set. It needs no embedding, so the inbox shows a verdict at once.

The refinement (`SentimentModel.predict`) is a multinomial logistic regression on the e5 embedding plus
the same rule features; the rules add what an embedding of a short message blurs (negation, emoji).
Both heads are fitted by maximum likelihood with C chosen by cross-validated log-loss, which is what
makes their probabilities honest (build.py prints the calibration on held-back seed rows).

The shipped model (data/sentiment.npz, made by `smmdesk nlp build-model` from data/seed_*.csv) keeps
its training examples (embeddings as float16 and rule features), so `train(..., prior=shipped())`
refits on seed + team labels in well under a second: the seed keeps the model general, the team's
labels, weighted, pull it towards the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from smmdesk.nlp import modelfile, rules

LABELS = ("negative", "neutral", "positive")
KIND = "sentiment"
SHIPPED = Path(__file__).parent / "data" / "sentiment.npz"
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
DEFAULT_C = 0.3
FAST_C = 1.0
# The fast pass sees only the rules' cues. Among seed messages without any, almost half are complaints
# (the seed collects implicit complaints on purpose); in an inbox, most such messages ("Заказ 12345",
# "ok") are plain. So the fast head's class prior is moved from the seed's thirds to an inbox where half
# the messages are neutral (Bayes' rule: add log(new prior / old prior) to the intercepts). With no cue
# at all it then says neutral; the refinement, which has real evidence, keeps the seed's even prior.
FAST_PRIOR = (0.25, 0.5, 0.25)
ALIASES = {"-1": 0, "0": 1, "1": 2, "+1": 2, "-1.0": 0, "0.0": 1, "1.0": 2}


@dataclass(frozen=True)
class Verdict:
    label: str  # one of LABELS
    score: float  # calibrated probability of `label`, 0..1
    probabilities: dict[str, float]


def label_index(value, row: int | None = None) -> int:
    """negative/neutral/positive or -1/0/1 -> 0/1/2; ValueError naming the row otherwise."""
    text = str(value).strip().casefold()
    if text in LABELS:
        return LABELS.index(text)
    if text in ALIASES:
        return ALIASES[text]
    where = f"row {row}: " if row is not None else ""
    raise ValueError(
        f"{where}unknown sentiment label {str(value)!r} (use negative/neutral/positive or -1/0/1)"
    )


def label_indices(labels: Sequence) -> np.ndarray:
    return np.array([label_index(value, row) for row, value in enumerate(labels, start=1)], dtype=np.int8)


@dataclass
class Head:
    """A multinomial logistic regression on standardised features, kept as plain arrays."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (len(LABELS), features)
    intercept: np.ndarray  # (len(LABELS),)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, weights: np.ndarray | None, c: float) -> Head:
        from sklearn.linear_model import LogisticRegression

        mean = features.mean(axis=0)
        scale = features.std(axis=0)
        scale[scale < 1e-6] = 1.0
        present = np.unique(labels)
        if len(present) < 2:
            raise ValueError("sentiment training needs at least two different labels")
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit((features - mean) / scale, labels, sample_weight=weights)
        coef = np.zeros((len(LABELS), features.shape[1]), dtype=np.float32)
        # A label nobody used gets probability ~0 rather than a share of the mass.
        intercept = np.full(len(LABELS), -30.0, dtype=np.float32)
        if len(present) == 2:  # sklearn keeps one weight vector for two classes
            coef[present[1]], intercept[present[1]] = model.coef_[0], model.intercept_[0]
            intercept[present[0]] = 0.0
        else:
            coef[present], intercept[present] = model.coef_, model.intercept_
        return cls(mean.astype(np.float32), scale.astype(np.float32), coef, intercept)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_{name}": getattr(self, name) for name in ("mean", "scale", "coef", "intercept")}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> Head:
        return cls(
            *(
                arrays[f"{prefix}_{name}"].astype(np.float32)
                for name in ("mean", "scale", "coef", "intercept")
            )
        )


def rule_features(texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    return np.array(
        [
            rules.features(rules.analyse(text, language))
            for text, language in zip(texts, languages, strict=True)
        ],
        dtype=np.float32,
    ).reshape(len(texts), len(rules.FEATURES))


def _verdicts(probabilities: np.ndarray) -> list[Verdict]:
    verdicts = []
    for row in probabilities:
        best = int(row.argmax())
        verdicts.append(
            Verdict(
                label=LABELS[best],
                score=round(float(row[best]), 4),
                probabilities={name: round(float(p), 4) for name, p in zip(LABELS, row, strict=True)},
            )
        )
    return verdicts


def message_languages(texts: Sequence[str], languages: Sequence[str] | None) -> list[str]:
    """One language per text: `languages` itself when it has one per text, else each text detected
    among `languages` (a workspace's list) or among ru, sk, en."""
    if languages is not None and len(languages) == len(texts):
        return list(languages)
    from smmdesk.nlp import language

    allowed = tuple(languages) if languages else rules.LANGUAGES
    return [language.detect(text, allowed) for text in texts]


class SentimentModel:
    kind = KIND

    def __init__(self, fast_head: Head, head: Head, examples: dict[str, np.ndarray], meta: dict):
        self.fast_head = fast_head
        self.head = head
        # embeddings (n, DIM) float16, features (n, F) float32, labels (n,) int8, weights (n,) float32
        self.examples = examples
        self.meta = meta
        self.version = int(meta.get("version", 0))
        # Every example it learned from (with a prior: the prior's too), and the team's own labels.
        self.trained_on = int(meta.get("trained_on", len(examples["labels"])))
        self.team_labels = int(meta.get("team_labels", 0))
        self.c = float(meta.get("c", DEFAULT_C))

    def fast(self, text: str, language: str) -> Verdict:
        """The first pass: rules only, no embedding."""
        return self.fast_verdict(rules.analyse(text, language))

    def fast_verdict(self, analysis: rules.Analysis) -> Verdict:
        """The first pass from an analysis the caller already has (triage also needs its flags)."""
        features = np.array([rules.features(analysis)], dtype=np.float32)
        return _verdicts(self.fast_head.probabilities(features))[0]

    def predict(
        self,
        texts: Sequence[str],
        languages: Sequence[str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> list[Verdict]:
        """The refinement. `languages`: one per text (as detected), or a workspace's list to detect
        among; `embeddings`: embed(texts) when the caller already has them."""
        texts = list(texts)
        if not texts:
            return []
        if embeddings is None:
            from smmdesk.nlp.embed import embed

            embeddings = embed(texts)
        features = rule_features(texts, message_languages(texts, languages))
        return _verdicts(self.head.probabilities(np.hstack([embeddings, features])))

    def save(self, path) -> None:
        from smmdesk.nlp.embed import MODEL_ID

        arrays = {**self.fast_head.arrays("fast"), **self.head.arrays("head")}
        arrays.update({f"example_{name}": value for name, value in self.examples.items()})
        meta = {**self.meta, "model_id": MODEL_ID, "labels": list(LABELS), "features": list(rules.FEATURES)}
        meta.update(trained_on=self.trained_on, c=self.c, version=self.version)
        modelfile.save(path, KIND, meta, arrays)

    @classmethod
    def load(cls, path) -> SentimentModel:
        meta, arrays = modelfile.load(path, KIND)
        if meta.get("features") != list(rules.FEATURES) or meta.get("labels") != list(LABELS):
            raise modelfile.ModelFileError(f"{path}: made for other rule features; retrain it")
        examples = {
            name.removeprefix("example_"): value
            for name, value in arrays.items()
            if name.startswith("example_")
        }
        return cls(Head.from_arrays(arrays, "fast"), Head.from_arrays(arrays, "head"), examples, meta)


@lru_cache(maxsize=1)
def shipped() -> SentimentModel:
    return SentimentModel.load(SHIPPED)


def fast(text: str, language: str) -> Verdict:
    return shipped().fast(text, language)


def choose_c(
    features: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None, folds: int = 5
) -> float:
    """The C of the C_GRID with the best cross-validated log-loss (stratified folds, fixed seed)."""
    from sklearn.model_selection import StratifiedKFold

    folds = min(folds, int(np.bincount(labels).min()) if len(np.unique(labels)) == len(LABELS) else 0)
    if folds < 2:
        return DEFAULT_C
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(features, labels))
    best, best_loss = DEFAULT_C, np.inf
    for c in C_GRID:
        loss = 0.0
        for train_rows, test_rows in splits:
            head = Head.fit(
                features[train_rows], labels[train_rows], None if weights is None else weights[train_rows], c
            )
            p = head.probabilities(features[test_rows])[np.arange(len(test_rows)), labels[test_rows]]
            loss -= float(np.log(np.clip(p, 1e-9, 1)).sum())
        if loss < best_loss:
            best, best_loss = c, loss
    return best


def fit(
    embeddings: np.ndarray,
    features: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    c: float | None = None,
    meta: dict | None = None,
) -> SentimentModel:
    """Both heads from prepared arrays (build.py and train share it)."""
    labels = np.asarray(labels, dtype=np.int8)
    weights = (
        np.ones(len(labels), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    )
    joint = np.hstack([embeddings.astype(np.float32), features])
    if c is None:
        c = choose_c(joint, labels, weights)
    examples = {
        "embeddings": embeddings.astype(np.float16),
        "features": features.astype(np.float32),
        "labels": labels,
        "weights": weights,
    }
    meta = {**(meta or {}), "trained_on": len(labels), "c": c}
    fast = Head.fit(features, labels, weights, FAST_C)
    trained_prior = np.bincount(labels, weights=weights, minlength=len(LABELS)) / weights.sum()
    fast.intercept += np.log(np.array(FAST_PRIOR) / np.maximum(trained_prior, 1e-6)).astype(np.float32)
    return SentimentModel(fast, Head.fit(joint, labels, weights, c), examples, meta)


def train(
    texts: Sequence[str],
    labels: Sequence,
    *,
    prior: SentimentModel | None = None,
    weight: float = 3.0,
    languages: Sequence[str] | None = None,
    embeddings: np.ndarray | None = None,
) -> SentimentModel:
    """A model from labelled texts; with `prior`, its own examples plus these, weighted `weight`."""
    texts = list(texts)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    y = label_indices(labels)
    if embeddings is None:
        from smmdesk.nlp.embed import embed

        embeddings = embed(texts)
    features = rule_features(texts, message_languages(texts, languages))
    weights = np.full(len(texts), weight if prior is not None else 1.0, dtype=np.float32)
    meta = {"prior_trained_on": 0, "team_labels": len(texts)}
    if prior is not None:
        old = prior.examples
        embeddings = np.vstack([old["embeddings"].astype(np.float32), embeddings])
        features = np.vstack([old["features"], features])
        y = np.concatenate([old["labels"].astype(np.int8), y])
        weights = np.concatenate([old["weights"].astype(np.float32), weights])
        meta = {"prior_trained_on": prior.trained_on, "team_labels": len(texts)}
    if len(np.unique(y)) < 2:
        raise ValueError("sentiment training needs at least two different labels")
    return fit(embeddings, features, y, weights, c=prior.c if prior is not None else None, meta=meta)
