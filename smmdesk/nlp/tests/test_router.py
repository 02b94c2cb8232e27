"""Routing: the learned model (train, predict, similar examples) and cold start."""

import numpy as np
import pytest

from smmdesk.nlp import router

EXAMPLES = {
    "billing": [
        "I was charged twice for my order",
        "Why is there an extra fee on my bill?",
        "Списали деньги два раза",
        "Неправильный счёт за услуги",
        "Zaplatil som dvakrát",
        "Please send me an invoice for March",
    ],
    "delivery": [
        "Where is my parcel?",
        "The courier never came",
        "Где мой заказ? Доставка опаздывает",
        "Курьер не приехал",
        "Kedy príde moja zásielka?",
        "My package was delivered to the wrong address",
    ],
    "jobs": [
        "Are you hiring?",
        "I would like to apply for the manager position",
        "Есть ли у вас вакансии?",
        "Хочу устроиться к вам на работу",
        "Hľadáte nových zamestnancov?",
        "Can I send you my CV?",
    ],
}


@pytest.fixture(scope="module")
def model():
    texts = [text for examples in EXAMPLES.values() for text in examples]
    labels = [label for label, examples in EXAMPLES.items() for _ in examples]
    ids = [f"c{i}" for i in range(len(texts))]
    return router.train(texts, labels, ids=ids)


def test_predicts_the_department(model):
    suggestions = model.predict(
        ["You charged my card twice", "Курьер так и не пришёл", "Do you have job openings?"]
    )
    assert [s.label for s in suggestions] == ["billing", "delivery", "jobs"]
    for suggestion in suggestions:
        assert suggestion.source == "model"
        assert 1 / 3 < suggestion.confidence <= 1


def test_similar_examples_are_the_suggested_departments_best_first(model):
    suggestion = model.predict(["I was charged two times for one order"])[0]
    assert len(suggestion.similar) == 3
    ids = [example_id for example_id, _ in suggestion.similar]
    assert ids[0] == "c0"  # "I was charged twice for my order"
    assert all(int(i[1:]) < 6 for i in ids)  # all billing examples
    cosines = [cosine for _, cosine in suggestion.similar]
    assert cosines == sorted(cosines, reverse=True) and cosines[0] > 0.9


def test_ids_default_to_row_numbers():
    model = router.train(["refund please", "where is my parcel"], ["a", "b"])
    assert model.predict(["refund now"])[0].similar == [
        ("1", pytest.approx(model.predict(["refund now"])[0].similar[0][1]))
    ]


def test_two_departments_are_enough():
    model = router.train(
        ["refund please", "money back", "where is my parcel", "parcel late"], ["a", "a", "b", "b"]
    )
    assert [s.label for s in model.predict(["I want a refund", "my parcel is late"])] == ["a", "b"]
    assert model.labels == ["a", "b"]


@pytest.mark.parametrize("labels", [["a", "a"], []])
def test_one_department_is_not_enough(labels):
    with pytest.raises(ValueError, match="at least two departments"):
        router.train(["x"] * len(labels), labels)


def test_lengths_must_agree():
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        router.train(["x", "y"], ["a"])


def test_save_and_load(model, tmp_path):
    model.save(tmp_path / "r.npz")
    again = router.RouterModel.load(tmp_path / "r.npz")
    texts = ["double charge", "parcel lost", "job?"]
    assert again.predict(texts) == model.predict(texts)
    assert again.labels == model.labels and again.trained_on == 18
    assert (tmp_path / "r.npz").stat().st_size < 1_000_000


def test_confidence_is_fitted_on_held_back_examples():
    rng = np.random.default_rng(0)
    texts = [f"{word} {i}" for i in range(15) for word in ("refund", "parcel")]
    labels = [label for _ in range(15) for label in ("a", "b")]
    embeddings = rng.normal(size=(30, 384)).astype(np.float32)
    model = router.train(
        texts, labels, embeddings=embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    )
    assert model.temperature != router.DEFAULT_TEMPERATURE


DEPARTMENTS = {
    "billing": "Billing: payments, invoices, charges and refunds",
    "delivery": ["Delivery of orders and parcels", "Where is my package?"],
    "jobs": "Jobs and vacancies",
}


def test_cold_start_compares_with_descriptions():
    suggestions = router.cold_start(["Where is my parcel?", "I need an invoice for my payment"], DEPARTMENTS)
    assert [s.label for s in suggestions] == ["delivery", "billing"]
    assert all(s.source == "cold-start" and s.similar == [] and 0 < s.confidence <= 1 for s in suggestions)


def test_cold_start_abstains_when_nothing_stands_out():
    assert router.cold_start(["ok"], DEPARTMENTS)[0].label is None


def test_cold_start_without_descriptions_abstains():
    assert router.cold_start(["Where is my parcel?"], {"billing": "", "delivery": []})[0].label is None
