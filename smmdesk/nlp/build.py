"""`smmdesk nlp build-model`: the shipped sentiment model from the seed set, and the figures we judge
models by (also used by `nlp evaluate` and `bench nlp`).

The seed rows (data/seed_<language>.csv) are embedded once (the disk cache keeps them for the next
build). A stratified 20 % is held back to measure accuracy and calibration of a model fitted on the
rest, with C chosen by cross-validation on that rest; then C is chosen again on all rows and the model
is refitted on all of them and written. A fixed seed makes it reproducible.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smmdesk.nlp import sentiment

SEED_DIR = Path(__file__).parent / "data"
HOLD_OUT = 0.2
SEED = 0
BINS = 10


def read_seed(folder: Path = SEED_DIR) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, label indices, languages) of every data/seed_<language>.csv."""
    texts, labels, languages = [], [], []
    files = sorted(folder.glob("seed_*.csv"))
    if not files:
        raise ValueError(f"{folder}: no seed_*.csv files")
    for path in files:
        language = path.stem.removeprefix("seed_")
        with path.open(encoding="utf-8", newline="") as handle:
            for row, record in enumerate(csv.DictReader(handle), start=2):
                if record.get("text") is None or record.get("label") is None:
                    raise ValueError(f"{path}: row {row}: needs the columns text and label")
                texts.append(record["text"])
                try:
                    labels.append(sentiment.label_index(record["label"], row))
                except ValueError as exc:
                    raise ValueError(f"{path}: {exc}") from None
                languages.append(language)
    return texts, np.array(labels, dtype=np.int8), languages


def f1_scores(truth: Sequence[int], predicted: Sequence[int], n_labels: int) -> list[float]:
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    scores = []
    for label in range(n_labels):
        hits = int(((truth == label) & (predicted == label)).sum())
        guessed, actual = int((predicted == label).sum()), int((truth == label).sum())
        scores.append(0.0 if hits == 0 else 2 * hits / (guessed + actual))
    return scores


def calibration(probabilities: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(expected calibration error of the top label over BINS equal-width bins, multiclass Brier)."""
    truth = np.asarray(truth)
    top = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == truth
    ece = 0.0
    for low in np.linspace(0, 1, BINS, endpoint=False):
        inside = (top > low) & (top <= low + 1 / BINS)
        if inside.any():
            ece += inside.mean() * abs(top[inside].mean() - right[inside].mean())
    onehot = np.eye(probabilities.shape[1])[truth]
    brier = float(((probabilities - onehot) ** 2).sum(axis=1).mean())
    return float(ece), brier


def sentiment_figures(probabilities: np.ndarray, truth: np.ndarray) -> dict:
    predicted = probabilities.argmax(axis=1)
    f1 = f1_scores(truth, predicted, len(sentiment.LABELS))
    ece, brier = calibration(probabilities, truth)
    return {
        "accuracy": float((predicted == np.asarray(truth)).mean()),
        "f1": dict(zip(sentiment.LABELS, f1, strict=True)),
        "macro_f1": float(np.mean(f1)),
        "mean_f1_neg_pos": (f1[0] + f1[2]) / 2,
        "ece": ece,
        "brier": brier,
    }


def _split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    kept, held = train_test_split(rows, test_size=HOLD_OUT, stratify=labels, random_state=SEED)
    return np.sort(kept), np.sort(held)


def build(out: Path = sentiment.SHIPPED, folder: Path = SEED_DIR, echo=print) -> dict:
    from smmdesk.nlp.embed import embed

    texts, labels, languages = read_seed(folder)
    embeddings = embed(texts)
    features = sentiment.rule_features(texts, languages)
    kept, held = _split(labels)
    trial = sentiment.fit(embeddings[kept], features[kept], labels[kept])
    joint = np.hstack([embeddings[held], features[held]])
    refined = sentiment_figures(trial.head.probabilities(joint), labels[held])
    fast = sentiment_figures(trial.fast_head.probabilities(features[held]), labels[held])
    counts = {language: languages.count(language) for language in dict.fromkeys(languages)}
    model = sentiment.fit(embeddings, features, labels, meta={"seed_rows": counts})
    model.save(out)
    sentiment.shipped.cache_clear()
    size = Path(out).stat().st_size / 1e6
    echo(
        f"sentiment model: {len(texts)} seed rows ({', '.join(f'{k} {v}' for k, v in counts.items())}); "
        f"held-back {HOLD_OUT:.0%}: accuracy {refined['accuracy']:.3f}, macro-F1 {refined['macro_f1']:.3f}, "
        f"ECE {refined['ece']:.3f}, Brier {refined['brier']:.3f}; fast pass accuracy {fast['accuracy']:.3f}, "
        f"ECE {fast['ece']:.3f}; C {model.c:g}; wrote {out} ({size:.1f} MB)"
    )
    return {"refined": refined, "fast": fast, "c": model.c, "rows": len(texts), "size_mb": size}
