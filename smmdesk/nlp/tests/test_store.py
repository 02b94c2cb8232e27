"""Model files per workspace: versions, atomic writes, the latest three kept, nothing but models loaded."""

import numpy as np
import pytest

from smmdesk.nlp import modelfile, rules, sentiment, store


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    store.forget()
    yield tmp_path
    store.forget()


def tiny_model(seed=0):
    """A sentiment model from random arrays: the store does not care what it learned."""
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(30, 384)).astype(np.float32)
    features = rng.normal(size=(30, len(rules.FEATURES))).astype(np.float32)
    return sentiment.fit(embeddings, features, np.arange(30) % 3, c=1.0)


def test_versions_count_up(data_dir):
    first, second = tiny_model(), tiny_model(1)
    assert store.save(7, first) == 1 and first.version == 1
    assert store.save(7, second) == 2 and second.version == 2
    assert store.model_dir(7) == data_dir / "models" / "7"
    loaded = store.load(7, "sentiment")
    assert loaded.version == 2
    assert np.array_equal(loaded.head.coef, second.head.coef)


def test_workspaces_and_kinds_are_apart():
    store.save(1, tiny_model())
    assert store.load(2, "sentiment") is None
    assert store.load(1, "router") is None


def test_keeps_the_latest_three():
    for seed in range(5):
        store.save(3, tiny_model(seed))
    assert [version for version, _ in store.versions(3, "sentiment")] == [3, 4, 5]
    assert sorted(p.name for p in store.model_dir(3).iterdir()) == [
        "sentiment-v3.npz",
        "sentiment-v4.npz",
        "sentiment-v5.npz",
    ]


def test_a_failed_write_leaves_the_previous_version_whole(monkeypatch):
    store.save(4, tiny_model())

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(modelfile.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save(4, tiny_model(1))
    monkeypatch.undo()
    assert [p.name for p in store.model_dir(4).iterdir()] == ["sentiment-v1.npz"]  # no temporary file left
    assert store.load(4, "sentiment").version == 1


def test_loads_are_cached_until_the_file_changes():
    store.save(5, tiny_model())
    assert store.load(5, "sentiment") is store.load(5, "sentiment")
    store.save(5, tiny_model(1))
    assert store.load(5, "sentiment").version == 2


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04 broken"])
def test_refuses_a_file_that_is_not_a_model(content):
    folder = store.model_dir(6)
    folder.mkdir(parents=True)
    (folder / "sentiment-v1.npz").write_bytes(content)
    with pytest.raises(modelfile.ModelFileError, match="not a model file"):
        store.load(6, "sentiment")


def test_refuses_a_model_of_another_kind(tmp_path):
    path = store.model_dir(8) / "router-v1.npz"
    tiny_model().save(path)
    with pytest.raises(modelfile.ModelFileError, match="a sentiment model, not a router model"):
        store.load(8, "router")


def test_refuses_pickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(
        path, meta=np.array('{"kind": "sentiment", "format": 1}'), payload=np.array([object()], dtype=object)
    )
    with pytest.raises(modelfile.ModelFileError, match="not a model file"):
        modelfile.load(path, "sentiment")


def test_only_models_are_stored():
    with pytest.raises(ValueError, match="cannot store"):
        store.save(9, object())
