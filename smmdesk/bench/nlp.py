"""`smmdesk bench nlp`: throughput of triage and routing, and the models' figures on reference data.

Throughput, in msg/s, on N distinct messages (the seed set's and the demo traffic's texts), with every
model loaded before the clock starts, as in a running worker:
- classify, fast pass: language (lingua) + rule sentiment with its calibration + flags, one by one;
- classify, refined: the embedding of every message computed (no cache), in batches of 64;
- route, embeddings computed: embedding + router, in batches of 64, on messages never seen before;
- route, embeddings cached: the same messages again, their embeddings now in the in-process cache.

With banking77 (default ../shared/data/banking77 next to the repository): a router trained on train.csv,
accuracy on test.csv, and a learning curve on test.csv: cold start (each category's name as its
description), then a workspace model after 200 and after 1,000 labels drawn from train.csv (stratified,
fixed seed). With the Slovak reviews (default ../shared/data/slovak_reviews): the shipped model's mean
F1 of negative and positive on every file but the stress set, and the model after 200 team labels drawn
from those files (the shipped model as prior), both measured on the remaining rows.

Runs in a child process with a throwaway data dir (smmdesk.bench), so no embedding cache helps it.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from smmdesk.bench import run_child, say

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BANKING77 = REPO.parent / "shared" / "data" / "banking77"
DEFAULT_SLOVAK = REPO.parent / "shared" / "data" / "slovak_reviews"
BATCH = 64
SEED = 0
NONE = "none"
SEED_ROUTER_ROWS = 300


def run_nlp(messages: int, banking77: str | None = None, slovak: str | None = None, echo=print) -> str:
    """Run the benchmark in a child process; returns its last line. A data dir of "none" skips it."""
    args = ["--messages", str(int(messages))]
    for option, given, default in (
        ("--banking77", banking77, DEFAULT_BANKING77),
        ("--slovak", slovak, DEFAULT_SLOVAK),
    ):
        folder = given if given is not None else (str(default) if default.is_dir() else NONE)
        args += [option, folder]
    return run_child("smmdesk.bench.nlp", args, echo)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def message_pool(count: int) -> list[str]:
    """`count` distinct texts: the seed set's, then the demo traffic's, numbered when they run out."""
    from smmdesk.bench import data
    from smmdesk.nlp.build import read_seed

    texts, _, _ = read_seed()
    traffic = data.generate(max(count, 1000), ["1"]).items["1"]
    pool = list(dict.fromkeys([*texts, *(item["text"] for item in traffic if item)]))
    rng = np.random.default_rng(SEED)
    rng.shuffle(pool)
    return [pool[i % len(pool)] + ("" if i < len(pool) else f" #{i // len(pool)}") for i in range(count)]


def throughput(texts: list[str], echo=say) -> dict:
    from smmdesk.nlp import embed, sentiment, triage

    model = sentiment.shipped()
    embed.warm()
    for text in ("Не работает", "Nefunguje to", "Not working"):  # dictionaries and detector loaded
        triage.classify(text, ["ru", "sk", "en"])
    started = time.perf_counter()
    verdicts = [triage.classify(text, ["ru", "sk", "en"]) for text in texts]
    fast = _rate(len(texts), time.perf_counter() - started)
    echo(
        f"classify fast pass (language + rules + calibration + flags): {fast:.0f} msg/s over {len(texts)} messages"
    )
    codes = [verdict.language for verdict in verdicts]
    embed.clear_memory()
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        model.predict(texts[start : start + BATCH], codes[start : start + BATCH])
    refined = _rate(len(texts), time.perf_counter() - started)
    echo(f"classify refined (embeddings computed, batches of {BATCH}): {refined:.0f} msg/s")
    return {"fast": fast, "refined": refined}


def route_rates(model, texts: list[str], echo=say) -> dict:
    from smmdesk.nlp import embed

    embed.clear_memory()
    rates = {}
    for name in ("computed", "cached"):
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            model.predict(texts[start : start + BATCH])
        rates[name] = _rate(len(texts), time.perf_counter() - started)
    echo(
        f"route (embeddings computed, batches of {BATCH}): {rates['computed']:.0f} msg/s; "
        f"route (embeddings cached in process, batches of {BATCH}): {rates['cached']:.0f} msg/s"
    )
    return rates


def read_rows(path: Path, header: bool) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return rows[1:] if header else rows


def stratified(labels: list, size: int) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    chosen, _ = train_test_split(rows, train_size=size, stratify=labels, random_state=SEED)
    return np.sort(chosen)


def banking77(folder: Path, echo=say) -> dict:
    from smmdesk.nlp import embed, router

    train = read_rows(folder / "train.csv", header=True)
    test = read_rows(folder / "test.csv", header=True)
    texts, labels = [row[0] for row in train], [row[1] for row in train]
    test_texts, truth = [row[0] for row in test], np.array([row[1] for row in test])
    echo(f"banking77: embedding {len(texts)} training messages")
    embeddings = embed.embed(texts)
    started = time.perf_counter()
    model = router.train(texts, labels, embeddings=embeddings)
    echo(f"banking77: router trained on {len(texts)} messages in {time.perf_counter() - started:.1f} s")
    rates = route_rates(model, test_texts, echo)
    test_embeddings = embed.embed(test_texts)

    def accuracy(suggestions) -> float:
        return float(np.mean([s.label == t for s, t in zip(suggestions, truth, strict=True)]))

    full = accuracy(model.predict(test_texts, test_embeddings))
    echo(f"banking77: accuracy {full:.4f} on {len(test)} test messages (train on all {len(texts)})")
    names = sorted(set(labels))
    cold = router.cold_start(test_texts, {name: name.replace("_", " ") for name in names}, test_embeddings)
    curve = {"cold start": accuracy(cold)}
    abstained = sum(s.label is None for s in cold) / len(cold)
    for size in (200, 1000):
        rows = stratified(labels, size)
        small = router.train([texts[i] for i in rows], [labels[i] for i in rows], embeddings=embeddings[rows])
        curve[f"{size} labels"] = accuracy(small.predict(test_texts, test_embeddings))
    echo(
        "banking77 learning curve (accuracy on test.csv): "
        + ", ".join(f"{name} {value:.4f}" for name, value in curve.items())
        + f", all {len(texts)} labels {full:.4f} (cold start abstained on {abstained:.0%})"
    )
    return {"accuracy": full, "curve": curve, "route": rates}


def slovak(folder: Path, echo=say) -> dict:
    from smmdesk.nlp import sentiment
    from smmdesk.nlp.build import sentiment_figures

    rows = [
        row
        for path in sorted(folder.glob("*.csv"))
        if path.name != "kinit_golden_stress.csv"
        for row in read_rows(path, False)
    ]
    texts = [row[0] for row in rows]
    truth = sentiment.label_indices([row[1] for row in rows])
    languages = ["sk"] * len(texts)

    def figures(model, chosen: np.ndarray) -> dict:
        verdicts = model.predict([texts[i] for i in chosen], [languages[i] for i in chosen])
        probabilities = np.array([[v.probabilities[name] for name in sentiment.LABELS] for v in verdicts])
        return sentiment_figures(probabilities, truth[chosen])

    everything = np.arange(len(texts))
    shipped = figures(sentiment.shipped(), everything)
    echo(
        f"slovak reviews ({len(texts)} rows, stress set left out), shipped model: mean F1(neg, pos) "
        f"{shipped['mean_f1_neg_pos']:.3f}, macro-F1 {shipped['macro_f1']:.3f}, accuracy {shipped['accuracy']:.3f}"
    )
    team = stratified(list(truth), 200)
    rest = np.setdiff1d(everything, team)
    before = figures(sentiment.shipped(), rest)
    model = sentiment.train(
        [texts[i] for i in team],
        [sentiment.LABELS[label] for label in truth[team]],
        prior=sentiment.shipped(),
        languages=[languages[i] for i in team],
    )
    after = figures(model, rest)
    echo(
        f"slovak reviews learning curve (mean F1(neg, pos) on the {len(rest)} rows not labelled): shipped "
        f"{before['mean_f1_neg_pos']:.3f}, after 200 team labels {after['mean_f1_neg_pos']:.3f}"
    )
    return {
        "shipped": shipped["mean_f1_neg_pos"],
        "before": before["mean_f1_neg_pos"],
        "after": after["mean_f1_neg_pos"],
    }


def seed_router_rates(texts: list[str], echo=say) -> dict:
    """Without banking77: a router over the seed set's sentiment labels, just to time routing."""
    from smmdesk.nlp import router
    from smmdesk.nlp.build import read_seed

    seed, labels, _ = read_seed()
    rows = stratified(list(labels), SEED_ROUTER_ROWS)
    model = router.train([seed[i] for i in rows], [str(labels[i]) for i in rows])
    echo(f"route measured with a router trained on {len(rows)} seed messages (no banking77 given)")
    return route_rates(model, texts, echo)


def summary(rates: dict, routes: dict, bank: dict | None, reviews: dict | None) -> str:
    line = (
        f"nlp: classify fast {rates['fast']:.0f} msg/s, refined {rates['refined']:.0f} msg/s; "
        f"route {routes['computed']:.0f} msg/s (embeddings computed), {routes['cached']:.0f} msg/s (cached)"
    )
    if bank:
        line += f"; banking77 accuracy {bank['accuracy']:.4f}"
    if reviews:
        line += f"; slovak mean F1(neg,pos) shipped {reviews['shipped']:.3f}"
    return line


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk.bench.nlp")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--banking77", default=NONE)
    parser.add_argument("--slovak", default=NONE)
    args = parser.parse_args(argv)
    from smmdesk.nlp import embed

    embed.use_disk_cache(False)
    texts = message_pool(args.messages)
    rates = throughput(texts)
    bank = banking77(Path(args.banking77)) if args.banking77 != NONE else None
    routes = bank["route"] if bank else seed_router_rates(texts)
    reviews = slovak(Path(args.slovak)) if args.slovak != NONE else None
    say(summary(rates, routes, bank, reviews))


if __name__ == "__main__":
    main()
