import pytest

from smmdesk.keywords.intent import classify, classify_many, rule
from smmdesk.keywords.models import Intent

COM, INFO, LOC, NAV = Intent.COMMERCIAL, Intent.INFORMATIONAL, Intent.LOCAL, Intent.NAVIGATIONAL


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ("мужская стрижка цена", "ru", COM),
        ("записаться на стрижку", "ru", COM),
        ("сколько стоит стрижка", "ru", COM),
        ("как ухаживать за волосами", "ru", INFO),
        ("стрижка своими руками", "ru", INFO),
        ("идеи для свадебной прически", "ru", INFO),
        ("стрижка рядом", "ru", LOC),
        ("стрижка в оренбурге", "ru", LOC),
        ("парикмахерская на улице Чкалова", "ru", LOC),
        ("haircut price", "en", COM),
        ("book a haircut", "en", COM),
        ("how to style short hair", "en", INFO),
        ("haircut near me", "en", LOC),
        ("how much is a haircut", "en", COM),
        ("pánsky strih cena", "sk", COM),
        ("ako sa starať o vlasy", "sk", INFO),
        ("kaderníctvo blízko", "sk", LOC),
    ],
)
def test_rules(query, language, expected):
    assert classify(query, language) == expected


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("лучшая женская стрижка", "ru"),
        ("лучший барбершоп", "ru"),
        ("лучшее окрашивание волос", "ru"),
        ("лучшие парикмахерские", "ru"),
        ("к лучшему барберу", "ru"),
        ("стрижка у лучших стилистов", "ru"),
        ("наилучшая укладка", "ru"),
        ("best haircut", "en"),
        ("Best haircuts", "en"),
        ("top barbers", "en"),
        ("najlepší pánsky strih", "sk"),
        ("najlepšia kozmetika", "sk"),
        ("najlepšie kaderníctvo", "sk"),
        ("strih u najlepšieho kaderníka", "sk"),
        ("najlepších kaderníkov", "sk"),
    ],
)
def test_superlatives_in_every_form_are_commercial(query, language):
    # The lemmatisers turn these into хороший / good / dobrý, which no word list names.
    assert rule(query, language) == COM


@pytest.mark.parametrize(
    ("query", "language"),
    [("хорошая стрижка", "ru"), ("good haircut", "en"), ("dobrý strih", "sk")],
)
def test_the_plain_positive_degree_is_not_commercial(query, language):
    assert rule(query, language) is None


def test_a_superlative_with_a_place_is_commercial_not_local():
    # Commercial comes before local in the rule order.
    assert rule("лучшая женская стрижка в Центральном районе", "ru") == COM
    assert rule("женская стрижка в Центральном районе", "ru") == LOC
    assert classify("best haircut in Leninsky district", "en") == COM
    assert classify("najlepší dámsky strih v Petržalke", "sk", places=["Petržalka"]) == COM


def test_a_comparison_stays_a_question():
    assert rule("что лучше кератин или ботокс", "ru") == INFO
    assert rule("which is best for curly hair", "en") == INFO


def test_brand_is_navigational_and_wins():
    assert classify("локон оренбург", "ru", brand=["Локон"]) == NAV
    assert classify("салон локона цены", "ru", brand=["Локон"]) == NAV
    assert classify("локон оренбург", "ru") == LOC


def test_places_from_the_profile_make_it_local():
    assert rule("strih Petržalka", "sk") is None
    assert classify("strih Petržalka", "sk", places=["Petržalka"]) == LOC


def test_bare_service_is_undecided_and_defaults_to_commercial():
    assert rule("мужская стрижка", "ru") is None
    assert classify("мужская стрижка", "ru") == COM


# A batch where the rules decide shampoo questions and sales queries, and the model learns from them.
SHAMPOO_QUESTIONS = [
    "как выбрать шампунь",
    "какой шампунь лучше для волос",
    "как часто мыть голову шампунем",
    "почему шампунь не пенится",
    "что такое сухой шампунь",
    "как ухаживать за кожей головы",
    "как выбрать маску для волос",
    "что делать если секутся волосы",
]
SALES = [
    "стрижка цена",
    "купить шампунь недорого",
    "записаться на стрижку",
    "окрашивание волос цена",
    "маникюр недорого",
    "заказать укладку",
    "стрижка скидка",
    "мелирование стоимость",
]


def test_learned_fallback_decides_the_undecided_from_the_batch():
    informational, commercial = SHAMPOO_QUESTIONS, SALES
    undecided = ["шампунь от перхоти", "сухой шампунь для волос"]
    batch = informational + commercial + undecided
    assert all(rule(q, "ru") is None for q in undecided)
    found = classify_many(batch, "ru")
    assert found[: len(informational)] == [INFO] * len(informational)
    assert found[len(informational) : -2] == [COM] * len(commercial)
    # The learned model, not the default: shampoo questions teach it what a shampoo query wants.
    assert found[-2:] == [INFO, INFO]
    assert classify_many(batch, "ru", use_embeddings=False)[-2:] == [COM, COM]


def test_too_few_decided_queries_keep_the_default():
    assert classify_many(["как выбрать шампунь", "шампунь от перхоти"], "ru") == [INFO, COM]
