"""`smmdesk nlp ...`: one happy path per command, and one-line errors (exit 2) for what users get wrong."""

import csv
import json
import re

import pytest
from click.testing import CliRunner

from smmdesk.cli import main
from smmdesk.nlp import embed, router, sentiment


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    yield
    embed.use_disk_cache(False)


def run(*args, input=None):
    return CliRunner().invoke(main, ["nlp", *args], input=input)


def one_line_error(result, pattern):
    assert result.exit_code == 2, (result.output, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert re.search(pattern, lines[0]), lines[0]


def write_csv(path, rows, header=("text", "label")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return str(path)


SENTIMENT_ROWS = [
    ("Ужасно, ничего не работает", "negative"),
    ("Спасибо, всё отлично", "positive"),
    ("Во сколько вы открываетесь?", "neutral"),
    ("Terrible service", "-1"),
    ("Thanks a lot!", "1"),
    ("What are your hours?", "0"),
]
ROUTER_ROWS = [
    ("I was charged twice", "billing"),
    ("Wrong amount on my invoice", "billing"),
    ("Where is my parcel?", "delivery"),
    ("The courier never came", "delivery"),
]


def jsonl(*records):
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def test_classify_fast_and_refined():
    lines = jsonl(
        {"id": 1, "text": "Не работает приложение, верните деньги!"},
        {"id": "b", "text": "Nie je to zlé 🙂"},
        {"id": 3, "text": "Where is my order?", "languages": ["ru"]},
    )
    for mode in ("--fast", "--refine"):
        result = run("classify", mode, input=lines + "\n")
        assert result.exit_code == 0, result.stderr
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(o["id"], o["language"], o["sentiment"], o["flags"]) for o in out] == [
            (1, "ru", "negative", ["refund"]),
            ("b", "sk", "positive", []),
            (3, "other", "neutral", []),
        ]
        assert all(0 < o["score"] <= 1 for o in out)


def test_classify_bad_json_names_the_line():
    one_line_error(
        run("classify", "--fast", input=jsonl({"text": "a"}, {"text": "b"}) + "{oops\n"), r"line 3: bad JSON"
    )


def test_classify_needs_text():
    one_line_error(run("classify", "--fast", input=jsonl({"text": "a"}, {"id": 2})), r'line 2: no "text"')


def test_classify_languages_must_be_a_list():
    result = run("classify", "--fast", input=jsonl({"text": "a", "languages": "ru"}))
    one_line_error(result, r'line 1: "languages" must be a list')


def test_classify_refuses_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "model.npz"
    path.write_text("hello")
    one_line_error(run("classify", "--sentiment-model", str(path), input=""), r"model\.npz: not a model file")
    one_line_error(
        run("classify", "--sentiment-model", str(tmp_path / "none.npz"), input=""), r"no such model file"
    )


def test_train_sentiment_and_evaluate(tmp_path):
    data = write_csv(tmp_path / "s.csv", SENTIMENT_ROWS)
    out = tmp_path / "s.npz"
    result = run(
        "train-sentiment", "--data", data, "--text-col", "text", "--label-col", "label", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert re.match(r"sentiment model: 6 rows on top of \d+ seed rows", result.stdout)
    assert sentiment.SentimentModel.load(out).trained_on == sentiment.shipped().trained_on + 6
    headerless = write_csv(tmp_path / "h.csv", SENTIMENT_ROWS, header=None)
    result = run(
        "evaluate",
        "--data",
        headerless,
        "--no-header",
        "--text-col",
        "1",
        "--label-col",
        "2",
        "--sentiment-model",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    assert re.match(
        r"sentiment \(refined\) on 6 rows: accuracy [\d.]+; F1 negative [\d.]+, neutral [\d.]+, positive [\d.]+; "
        r"macro-F1 [\d.]+; mean F1\(negative, positive\) [\d.]+",
        result.stdout,
    )


def test_train_sentiment_without_prior(tmp_path):
    data = write_csv(tmp_path / "s.csv", SENTIMENT_ROWS)
    out = tmp_path / "s.npz"
    result = run(
        "train-sentiment",
        "--data",
        data,
        "--text-col",
        "1",
        "--label-col",
        "2",
        "--out",
        str(out),
        "--no-prior",
    )
    assert result.exit_code == 0, result.stderr
    assert sentiment.SentimentModel.load(out).trained_on == 6


def test_train_sentiment_missing_column(tmp_path):
    data = write_csv(tmp_path / "s.csv", SENTIMENT_ROWS)
    result = run(
        "train-sentiment", "--data", data, "--text-col", "text", "--label-col", "sentiment", "--out", "x"
    )
    one_line_error(result, r"s\.csv: no column 'sentiment' for label \(columns: text, label\)")


def test_train_sentiment_bad_label_names_the_row(tmp_path):
    data = write_csv(tmp_path / "s.csv", [*SENTIMENT_ROWS, ("meh", "so-so")])
    result = run(
        "train-sentiment", "--data", data, "--text-col", "text", "--label-col", "label", "--out", "x"
    )
    one_line_error(result, r"s\.csv: row 8: unknown sentiment label 'so-so'")


@pytest.mark.parametrize(
    "content,pattern",
    [
        (None, r"missing\.csv: no such file"),
        (b"\xff\xfe\x00bad", r"not UTF-8"),
        (b"text,label\n", r"no data rows"),
    ],
)
def test_bad_files(tmp_path, content, pattern):
    path = tmp_path / "missing.csv"
    if content is not None:
        path.write_bytes(content)
    result = run(
        "train-router", "--data", str(path), "--text-col", "text", "--label-col", "label", "--out", "x"
    )
    one_line_error(result, pattern)


def test_train_router_route_and_evaluate(tmp_path):
    data = write_csv(tmp_path / "r.csv", ROUTER_ROWS)
    out = tmp_path / "r.npz"
    result = run(
        "train-router", "--data", data, "--text-col", "text", "--label-col", "label", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("router: 4 rows, 2 labels")
    assert router.RouterModel.load(out).labels == ["billing", "delivery"]
    result = run(
        "route",
        "--model",
        str(out),
        input=jsonl({"id": 7, "text": "My parcel is late"}, {"text": "charged twice"}),
    )
    assert result.exit_code == 0, result.stderr
    out_lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["department"]) for o in out_lines] == [(7, "delivery"), (None, "billing")]
    assert all(0 < o["confidence"] <= 1 for o in out_lines)
    result = run(
        "evaluate", "--data", data, "--text-col", "text", "--label-col", "label", "--router-model", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("router on 4 rows: accuracy 1.000; macro-F1 1.000")


def test_route_bad_json(tmp_path):
    model = tmp_path / "r.npz"
    router.train([t for t, _ in ROUTER_ROWS], [label for _, label in ROUTER_ROWS]).save(model)
    one_line_error(
        run("route", "--model", str(model), input='{"text": "a"}\n[1, 2]\n'),
        r"line 2: expected a JSON object",
    )


def test_evaluate_needs_one_model(tmp_path):
    data = write_csv(tmp_path / "s.csv", SENTIMENT_ROWS)
    one_line_error(
        run("evaluate", "--data", data, "--text-col", "text", "--label-col", "label"), r"exactly one of"
    )


def test_build_model(tmp_path):
    seed = tmp_path / "seed"
    seed.mkdir()
    rows = [
        (f"{word} {n}", label)
        for n in range(5)
        for word, label in (("ужасно", "negative"), ("отлично", "positive"), ("когда", "neutral"))
    ]
    write_csv(seed / "seed_ru.csv", rows)
    write_csv(
        seed / "seed_en.csv",
        [
            (f"{w} {n}", label)
            for n in range(5)
            for w, label in (("awful", "negative"), ("great", "positive"), ("when", "neutral"))
        ],
    )
    out = tmp_path / "model.npz"
    result = run("build-model", "--seed-dir", str(seed), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert re.match(
        r"sentiment model: 30 seed rows \(en 15, ru 15\); held-back 20%: accuracy [\d.]+, macro-F1 [\d.]+, "
        r"ECE [\d.]+, Brier [\d.]+; fast pass accuracy [\d.]+, ECE [\d.]+; C [\d.]+; wrote .*model\.npz",
        result.stdout,
    )
    assert sentiment.SentimentModel.load(out).trained_on == 30
    one_line_error(run("build-model", "--seed-dir", str(tmp_path / "nope")), r"no such directory")
