import json

import pytest
from click.testing import CliRunner

from smmdesk.keywords.cli import keywords


def run(text, *args):
    result = CliRunner().invoke(keywords, ["cluster", *args], input=text)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def embedding_cache_off():
    # The command turns the on-disk embedding cache on for its process; the test process shares it.
    yield
    from smmdesk.nlp import embed

    embed.use_disk_cache(False)


def test_cluster_command_writes_jsonl(settings, tmp_path, embedding_cache_off):
    settings.DATA_DIR = tmp_path
    text = "антибитум\n\nсредство от битума\nмужская стрижка цена\nкак ухаживать за волосами\nантибитум\n"
    rows = run(text, "--lang", "ru")
    assert [row["query"] for row in rows] == [
        "антибитум",
        "средство от битума",
        "мужская стрижка цена",
        "как ухаживать за волосами",
        "антибитум",
    ]
    assert [row["cluster"] for row in rows] == [0, 0, 1, 2, 0]
    assert rows[2]["intent"] == "commercial" and rows[3]["intent"] == "informational"


def test_cluster_command_without_embeddings_and_bad_language():
    rows = run("haircut price\nhaircut near me\nhow to braid hair\n", "--lang", "en", "--no-embeddings")
    assert [row["intent"] for row in rows] == ["commercial", "local", "informational"]
    assert rows[0]["cluster"] == rows[1]["cluster"] == 0
    result = CliRunner().invoke(keywords, ["cluster", "--lang", "de"], input="x\n")
    assert result.exit_code == 2
