"""`smmdesk nlp ...`: batch jobs over JSONL and CSV files, and how we measure the models.

These commands need no database and do not set up Django. Every error a user can cause (a missing file
or column, bad JSON on some line, an unknown label on some row, a file that is not a model) ends the
command with one line on stderr and exit status 2, never a traceback. Embeddings are cached on disk in
the data dir, so running a job twice embeds once.
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

EXIT_USAGE = 2
BATCH = 64
DEFAULT_LANGUAGES = "ru,sk,en"


class CliError(Exception):
    """A one-line message for the user."""


def one_line_errors(command):
    """Whatever goes wrong ends in one line: ours with exit 2, anything unexpected with exit 1."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from smmdesk.nlp.modelfile import ModelFileError

        try:
            return command(*args, **kwargs)
        except (CliError, ModelFileError, ValueError) as exc:
            click.echo(f"smmdesk nlp: error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"smmdesk nlp: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # noqa: BLE001 - the promise is one line, whatever it is
            click.echo(f"smmdesk nlp: unexpected error: {exc.__class__.__name__}: {exc}", err=True)
            sys.exit(1)

    return run


def _disk_cache() -> None:
    from smmdesk.nlp import embed

    try:
        embed.use_disk_cache()
    except Exception as exc:  # noqa: BLE001 - a cache we cannot open only costs time
        click.echo(f"smmdesk nlp: embedding cache off ({exc})", err=True)


# --- input -------------------------------------------------------------------------------------------


def read_jsonl(stream) -> Iterator[tuple[int, dict]]:
    """(line number, object) per non-blank line; CliError naming the line for anything else."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise CliError(f"line {number}: bad JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise CliError(f"line {number}: expected a JSON object")
        if not isinstance(record.get("text"), str):
            raise CliError(f'line {number}: no "text" string')
        yield number, record


def batches(records: Iterator, size: int = BATCH) -> Iterator[list]:
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _column(name: str, header: list[str] | None, path: Path, option: str) -> int:
    """A column by name, or by number counting from 1."""
    if header is not None and name in header:
        return header.index(name)
    if name.isdigit() and int(name) >= 1:
        return int(name) - 1
    known = f" (columns: {', '.join(header)})" if header else " (the file has no header: give a number)"
    raise CliError(f"{path}: no column {name!r} for {option}{known}")


def read_csv(path: str, columns: dict[str, str | None], no_header: bool) -> list[tuple[int, dict[str, str]]]:
    """(row number, {option: value}) per data row; rows are numbered as in the file, header included."""
    path = Path(path)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise CliError(f"{path}: not a CSV file ({exc})") from None
    header = None if no_header else (rows.pop(0) if rows else None)
    if not rows:
        raise CliError(f"{path}: no data rows")
    wanted = {option: _column(name, header, path, option) for option, name in columns.items() if name}
    first = 1 if no_header else 2
    records = []
    for number, row in enumerate(rows, start=first):
        if not row:
            continue
        if len(row) <= max(wanted.values()):
            raise CliError(f"{path}: row {number} has {len(row)} columns, fewer than the columns asked for")
        records.append((number, {option: row[index] for option, index in wanted.items()}))
    return records


def sentiment_labels(path: str, records: list[tuple[int, dict]]) -> list[int]:
    from smmdesk.nlp import sentiment

    try:
        return [sentiment.label_index(values["label"], number) for number, values in records]
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from None


def load_sentiment(path: str | None):
    from smmdesk.nlp import sentiment

    return sentiment.shipped() if path in (None, "shipped") else sentiment.SentimentModel.load(path)


def _languages(option: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in option.split(",") if code.strip())


def emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


# --- commands ----------------------------------------------------------------------------------------


@click.group("nlp")
def nlp():
    """Language, sentiment and routing models: batch jobs and measurement."""


DATA = click.option("--data", "data", required=True, help="A CSV file (UTF-8).")
TEXT_COL = click.option("--text-col", required=True, help="The text column: a name, or a number from 1.")
LABEL_COL = click.option("--label-col", required=True, help="The label column: a name, or a number from 1.")
NO_HEADER = click.option("--no-header", is_flag=True, help="The CSV has no header row; give column numbers.")


@nlp.command("classify")
@click.option(
    "--sentiment-model", default=None, help="A model from train-sentiment (default: the shipped one)."
)
@click.option("--refine/--fast", default=True, show_default=True, help="Embedding refinement, or rules only.")
@click.option("--languages", default=DEFAULT_LANGUAGES, show_default=True, help="Languages to tell apart.")
@one_line_errors
def classify(sentiment_model, refine, languages):
    """JSONL {"id", "text"[, "languages"]} on stdin -> {"id", "language", "sentiment", "score", "flags"}."""
    from smmdesk.nlp import language, rules

    model = load_sentiment(sentiment_model)
    default = _languages(languages)
    if refine:
        _disk_cache()
    for batch in batches(read_jsonl(sys.stdin)):
        texts = [record["text"] for _, record in batch]
        found = []
        for number, record in batch:
            allowed = record.get("languages") or default
            if not isinstance(allowed, list | tuple) or not all(isinstance(code, str) for code in allowed):
                raise CliError(
                    f'line {number}: "languages" must be a list of language codes such as ["ru", "en"]'
                )
            found.append(language.detect(record["text"], tuple(allowed)))
        analyses = [rules.analyse(text, code) for text, code in zip(texts, found, strict=True)]
        if refine:
            verdicts = model.predict(texts, found)
        else:
            verdicts = [model.fast_verdict(analysis) for analysis in analyses]
        for (_, record), code, analysis, verdict in zip(batch, found, analyses, verdicts, strict=True):
            emit(
                {
                    "id": record.get("id"),
                    "language": code,
                    "sentiment": verdict.label,
                    "score": verdict.score,
                    "flags": list(analysis.flags),
                }
            )
        sys.stdout.flush()


@nlp.command("train-sentiment")
@DATA
@TEXT_COL
@LABEL_COL
@click.option("--out", required=True, help="Where to write the model (.npz).")
@click.option("--prior/--no-prior", default=True, show_default=True, help="Start from the shipped model.")
@click.option("--weight", type=click.FloatRange(min=0.01), default=3.0, show_default=True)
@NO_HEADER
@one_line_errors
def train_sentiment(data, text_col, label_col, out, prior, weight, no_header):
    """Train a sentiment model on labelled rows (negative/neutral/positive or -1/0/1)."""
    from smmdesk.nlp import sentiment

    records = read_csv(data, {"text": text_col, "label": label_col}, no_header)
    labels = [sentiment.LABELS[index] for index in sentiment_labels(data, records)]
    _disk_cache()
    texts = [values["text"] for _, values in records]
    model = sentiment.train(texts, labels, prior=sentiment.shipped() if prior else None, weight=weight)
    model.save(out)
    seed = f" on top of {model.trained_on - len(texts)} seed rows" if prior else ""
    click.echo(f"sentiment model: {len(texts)} rows{seed}, C {model.c:g}; wrote {out}")


@nlp.command("train-router")
@DATA
@TEXT_COL
@LABEL_COL
@click.option("--id-col", default=None, help="A column of example ids, shown as similar examples.")
@click.option("--out", required=True, help="Where to write the model (.npz).")
@NO_HEADER
@one_line_errors
def train_router(data, text_col, label_col, id_col, out, no_header):
    """Train a router (department per message) on labelled rows."""
    from smmdesk.nlp import router

    records = read_csv(data, {"text": text_col, "label": label_col, "id": id_col}, no_header)
    for number, values in records:
        if not values["label"].strip():
            raise CliError(f"{data}: row {number}: empty label")
    _disk_cache()
    ids = [values["id"] for _, values in records] if id_col else [str(number) for number, _ in records]
    model = router.train([v["text"] for _, v in records], [v["label"] for _, v in records], ids=ids)
    model.save(out)
    click.echo(f"router: {len(records)} rows, {len(model.labels)} labels; wrote {out}")


@nlp.command("route")
@click.option("--model", "model_path", required=True, help="A model from train-router.")
@one_line_errors
def route(model_path):
    """JSONL {"id", "text"} on stdin -> {"id", "department", "confidence"}."""
    from smmdesk.nlp.router import RouterModel

    model = RouterModel.load(model_path)
    _disk_cache()
    for batch in batches(read_jsonl(sys.stdin)):
        suggestions = model.predict([record["text"] for _, record in batch])
        for (_, record), suggestion in zip(batch, suggestions, strict=True):
            emit(
                {"id": record.get("id"), "department": suggestion.label, "confidence": suggestion.confidence}
            )
        sys.stdout.flush()


@nlp.command("evaluate")
@DATA
@TEXT_COL
@LABEL_COL
@click.option("--sentiment-model", default=None, help='A sentiment model, or "shipped".')
@click.option("--router-model", default=None, help="A router model.")
@click.option("--refine/--fast", default=True, show_default=True, help="Sentiment: refined, or rules only.")
@click.option("--languages", default=DEFAULT_LANGUAGES, show_default=True)
@NO_HEADER
@one_line_errors
def evaluate(data, text_col, label_col, sentiment_model, router_model, refine, languages, no_header):
    """Accuracy and F1 of a model on labelled rows."""
    if bool(sentiment_model) == bool(router_model):
        raise CliError("give exactly one of --sentiment-model and --router-model")
    records = read_csv(data, {"text": text_col, "label": label_col}, no_header)
    texts = [values["text"] for _, values in records]
    if router_model:
        click.echo(_evaluate_router(router_model, texts, [v["label"] for _, v in records]))
    else:
        click.echo(
            _evaluate_sentiment(sentiment_model, texts, sentiment_labels(data, records), refine, languages)
        )


def _evaluate_sentiment(path, texts, truth, refine, languages) -> str:
    import numpy as np

    from smmdesk.nlp import build, language, sentiment

    model = load_sentiment(path)
    allowed = _languages(languages)
    codes = [language.detect(text, allowed) for text in texts]
    if refine:
        _disk_cache()
        verdicts = model.predict(texts, codes)
    else:
        verdicts = [model.fast(text, code) for text, code in zip(texts, codes, strict=True)]
    probabilities = np.array([[v.probabilities[name] for name in sentiment.LABELS] for v in verdicts])
    figures = build.sentiment_figures(probabilities, np.array(truth))
    per_class = ", ".join(f"{name} {value:.3f}" for name, value in figures["f1"].items())
    return (
        f"sentiment ({'refined' if refine else 'fast pass'}) on {len(texts)} rows: accuracy "
        f"{figures['accuracy']:.3f}; F1 {per_class}; macro-F1 {figures['macro_f1']:.3f}; "
        f"mean F1(negative, positive) {figures['mean_f1_neg_pos']:.3f}; ECE {figures['ece']:.3f}"
    )


def _evaluate_router(path, texts, truth) -> str:
    import numpy as np

    from smmdesk.nlp import build
    from smmdesk.nlp.router import RouterModel

    model = RouterModel.load(path)
    _disk_cache()
    predicted = [s.label for s in model.predict(texts)]
    names = sorted(set(truth) | set(model.labels))
    f1 = build.f1_scores([names.index(t) for t in truth], [names.index(p) for p in predicted], len(names))
    seen = [names.index(name) for name in sorted(set(truth))]
    per_class = ", ".join(f"{names[i]} {f1[i]:.3f}" for i in seen)
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))
    return (
        f"router on {len(texts)} rows: accuracy {accuracy:.3f}; macro-F1 {np.mean([f1[i] for i in seen]):.3f}; "
        f"F1 {per_class}"
    )


@nlp.command("build-model")
@click.option("--out", default=None, help="Where to write it (default: the shipped file in the package).")
@click.option(
    "--seed-dir", default=None, help="Where the seed_<language>.csv files are (default: the package's)."
)
@one_line_errors
def build_model(out, seed_dir):
    """Train the shipped sentiment model from the seed set (data/seed_*.csv)."""
    from smmdesk.nlp import build, sentiment

    folder = Path(seed_dir) if seed_dir else build.SEED_DIR
    if not folder.is_dir():
        raise CliError(f"{folder}: no such directory")
    _disk_cache()
    build.build(Path(out) if out else sentiment.SHIPPED, folder, echo=click.echo)
