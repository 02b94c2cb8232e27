"""Sentiment: the fast pass and the refinement of the shipped model, calibration, training."""

import numpy as np
import pytest

from smmdesk.nlp import build, sentiment


@pytest.fixture(scope="module")
def shipped():
    return sentiment.shipped()


NOT_NEGATIVE = [("не плохо", "ru"), ("Было совсем не плохо", "ru"), ("nie je zlé", "sk"), ("not bad", "en")]
NEGATIVE = [
    ("не работает", "ru"),
    ("Приложение опять не работает", "ru"),
    ("nefunguje", "sk"),
    ("Aplikácia stále nefunguje", "sk"),
    ("not working", "en"),
    ("The app is not working again", "en"),
]


@pytest.mark.parametrize("text,language", NOT_NEGATIVE)
def test_negated_complaints_are_not_negative(shipped, text, language):
    assert shipped.fast(text, language).label != "negative"


@pytest.mark.parametrize("text,language", NEGATIVE)
def test_negated_neutral_verbs_are_negative(shipped, text, language):
    assert shipped.fast(text, language).label == "negative"


def test_the_refinement_agrees_on_negation(shipped):
    texts, languages = zip(*(NOT_NEGATIVE + NEGATIVE), strict=True)
    labels = [verdict.label for verdict in shipped.predict(texts, languages)]
    assert "negative" not in labels[: len(NOT_NEGATIVE)]
    assert set(labels[len(NOT_NEGATIVE) :]) == {"negative"}


@pytest.mark.parametrize(
    "text,language,label",
    [
        ("Спасибо огромное, всё отлично!", "ru", "positive"),
        ("Подскажите, во сколько вы открываетесь?", "ru", "neutral"),
        ("Ďakujem, bolo to výborné 😊", "sk", "positive"),
        ("Koľko stojí strihanie?", "sk", "neutral"),
        ("Worst service ever 😡", "en", "negative"),
        ("What time do you open on Sunday?", "en", "neutral"),
    ],
)
def test_fast_pass(shipped, text, language, label):
    verdict = shipped.fast(text, language)
    assert verdict.label == label
    assert verdict.score == max(verdict.probabilities.values())


@pytest.mark.parametrize(
    "text,language",
    [
        ("ok", "en"),
        ("Заказ 12345", "ru"),
        ("I'll call you later", "en"),
        ("Objednávka na meno Horváth", "sk"),
    ],
)
def test_without_any_cue_the_fast_pass_says_neutral(shipped, text, language):
    # The seed set is rich in implicit complaints; an inbox is not (sentiment.FAST_PRIOR).
    assert shipped.fast(text, language).label == "neutral"


@pytest.mark.parametrize(
    "text,language",
    [
        ("Рейс задержали на 6 часов", "ru"),
        ("Preplatok mi mal prísť v máji, stále nič.", "sk"),
        ("never going back", "en"),
        ("Отличный сервис 🙃", "ru"),
    ],
)
def test_complaint_cues_without_sentiment_words(shipped, text, language):
    assert shipped.fast(text, language).label == "negative"


def test_module_level_fast_uses_the_shipped_model(shipped):
    assert sentiment.fast("not working", "en") == shipped.fast("not working", "en")


def held_back(model, fraction=0.2):
    labels = model.examples["labels"]
    order = np.random.default_rng(1).permutation(len(labels))
    held = np.concatenate(
        [order[labels[order] == k][: int((labels == k).sum() * fraction)] for k in range(3)]
    )
    kept = np.setdiff1d(np.arange(len(labels)), held)
    return kept, held


def test_calibration_on_held_back_seed_rows(shipped):
    """Fit on 80 % of the seed set (kept in the shipped file), measure on the other 20 %."""
    kept, held = held_back(shipped)
    embeddings = shipped.examples["embeddings"].astype(np.float32)
    features, labels = shipped.examples["features"], shipped.examples["labels"]
    model = sentiment.fit(embeddings[kept], features[kept], labels[kept], c=shipped.c)
    for probabilities in (
        model.head.probabilities(np.hstack([embeddings[held], features[held]])),
        model.fast_head.probabilities(features[held]),
    ):
        assert np.allclose(probabilities.sum(axis=1), 1)
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
        ece, brier = build.calibration(probabilities, labels[held])
        assert ece < 0.08
        assert brier < 0.4
    refined = build.sentiment_figures(
        model.head.probabilities(np.hstack([embeddings[held], features[held]])), labels[held]
    )
    assert refined["accuracy"] > 0.8


def test_calibration_measure_catches_overconfidence():
    truth = np.array([0, 1, 2, 1] * 50)
    confident = np.tile([[0.98, 0.01, 0.01]], (200, 1))  # always "negative", right a quarter of the time
    assert build.calibration(confident, truth)[0] > 0.5


def test_verdicts_are_probabilities(shipped):
    for verdict in shipped.predict(["Ужас", "Ďakujem", "Where is my parcel?"]):
        assert sum(verdict.probabilities.values()) == pytest.approx(1, abs=1e-3)
        assert verdict.label in sentiment.LABELS and 0 < verdict.score <= 1


def test_the_shipped_model_is_small_and_carries_its_seed(shipped):
    texts, _, _ = build.read_seed()
    assert shipped.trained_on == len(texts) == len(shipped.examples["labels"])
    assert shipped.examples["embeddings"].dtype == np.float16
    assert sentiment.SHIPPED.stat().st_size < 10_000_000


@pytest.mark.parametrize(
    "value,index", [("negative", 0), ("Neutral", 1), (" positive ", 2), (-1, 0), ("0", 1), (1, 2)]
)
def test_labels(value, index):
    assert sentiment.label_index(value) == index


def test_an_unknown_label_names_its_row():
    with pytest.raises(ValueError, match="row 3: unknown sentiment label 'meh'"):
        sentiment.label_indices(["positive", "-1", "meh"])


def test_team_labels_move_predictions_near_them(shipped):
    # A workspace where "ждём ответа" is routine, not a complaint.
    texts = [
        "Ждём ответа по заказу",
        "ждём ответа по доставке",
        "Ждём ответа по записи",
        "ждём ответа, спасибо",
    ]
    probe = "Ждём ответа по оплате"
    before = shipped.predict([probe], ["ru"])[0].probabilities["neutral"]
    model = sentiment.train(texts, ["neutral"] * 4, prior=shipped, languages=["ru"] * 4)
    after = model.predict([probe], ["ru"])[0].probabilities["neutral"]
    assert after > before
    assert model.trained_on == shipped.trained_on + 4 and model.team_labels == 4
    # The prior still holds elsewhere.
    assert model.predict(["Ужасный сервис, верните деньги"], ["ru"])[0].label == "negative"


def test_training_without_a_prior_needs_two_labels():
    with pytest.raises(ValueError, match="two different labels"):
        sentiment.train(["good", "great"], ["positive", "positive"])


def test_save_and_load_give_the_same_predictions(shipped, tmp_path):
    model = sentiment.train(
        ["fine thanks", "awful", "ok when"], ["positive", "negative", "neutral"], prior=shipped
    )
    model.save(tmp_path / "s.npz")
    again = sentiment.SentimentModel.load(tmp_path / "s.npz")
    texts = ["Not bad", "Nefunguje to", "Когда откроетесь?"]
    assert again.predict(texts) == model.predict(texts)
    assert again.trained_on == model.trained_on and again.c == model.c
