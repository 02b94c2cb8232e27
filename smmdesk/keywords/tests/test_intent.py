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


def test_learned_fallback_decides_the_undecided_from_the_batch():
    informational = [
        "как выбрать шампунь",
        "какой шампунь лучше для волос",
        "как часто мыть голову шампунем",
        "почему шампунь не пенится",
        "что такое сухой шампунь",
        "как ухаживать за кожей головы",
        "как выбрать маску для волос",
        "что делать если секутся волосы",
    ]
    commercial = [
        "стрижка цена",
        "купить шампунь недорого",
        "записаться на стрижку",
        "окрашивание волос цена",
        "маникюр недорого",
        "заказать укладку",
        "стрижка скидка",
        "мелирование стоимость",
    ]
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
