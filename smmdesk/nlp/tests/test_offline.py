"""Every model loads and predicts with the network disabled: nothing is downloaded at run time."""

import socket

import pytest

from smmdesk.nlp import embed, language, lemmas, router, sentiment


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed("a model tried to reach the network")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # Load everything afresh inside the block, not from caches filled before it.
    monkeypatch.setattr(embed, "_engine", None)
    embed.clear_memory()
    language._detector.cache_clear()
    sentiment.shipped.cache_clear()
    lemmas._morph.cache_clear()
    lemmas.lemma.cache_clear()
    yield
    sentiment.shipped.cache_clear()


def test_the_guard_works(offline):
    with pytest.raises(NetworkUsed):
        socket.create_connection(("example.com", 80))


def test_every_model_loads_and_predicts_offline(offline, tmp_path):
    vectors = embed.embed(["Курьер не приехал", "Where is my parcel?"])
    assert vectors.shape == (2, embed.DIM)
    assert language.detect("Ďakujem za krásny účes") == "sk"
    assert lemmas.lemma("жалобу") == "жалоба"
    model = sentiment.shipped()
    assert model.fast("не работает", "ru").label == "negative"
    assert model.predict(["Thank you so much!"])[0].label == "positive"
    routes = router.train(
        ["refund please", "money back", "where is my parcel", "parcel late"], ["a", "a", "b", "b"]
    )
    routes.save(tmp_path / "r.npz")
    assert router.RouterModel.load(tmp_path / "r.npz").predict(["I want a refund"])[0].label == "a"
    assert (
        router.cold_start(["Where is my parcel?"], {"a": "refunds", "b": "parcels and delivery"})[0].label
        == "b"
    )
