"""Tracked terms against texts: inflected forms in Russian, Slovak and English, multi-word phrases,
hashtags, exclusions and language filters; phrases for trend detection."""

from types import SimpleNamespace

import pytest

from smmdesk.listening.matching import Matcher, hashtags_of, phrases

from .backend_fixtures import *  # noqa: F403
from .backend_fixtures import make_term


def term(pk, phrase, exclusions=(), languages=()):
    return SimpleNamespace(id=pk, phrase=phrase, exclusions=list(exclusions), languages=list(languages))


def matches(phrase, text, language="", **options) -> bool:
    return Matcher([term(1, phrase, **options)]).match(text, language) == [1]


@pytest.mark.parametrize(
    "text",
    [
        "Открыл счёт в Сбербанке",
        "Сбербанком доволен, всё быстро",
        "Все сбербанки района закрыты",  # plural
        "Про Сбербанк пишут разное",
        "СБЕРБАНКА больше нет в нашем ТЦ",
    ],
)
def test_russian_inflected_and_plural_forms_match(text):
    assert matches("Сбербанк", text, "ru")


@pytest.mark.parametrize(
    "text, language",
    [
        ("Bola som v Sberbanke a nič", "sk"),
        ("Sberbanky v meste sú zatvorené", "sk"),  # plural
        ("Sberbankom som spokojný", "sk"),
        ("Two Sberbanks merged", "en"),  # English plural
        ("Sberbank's app is down", "en"),
        ("Bola som v Sberbanke", ""),  # language unknown: read as Slovak and English
    ],
)
def test_slovak_and_english_inflections_match(text, language):
    assert matches("Sberbank", text, language)


@pytest.mark.parametrize(
    "phrase, text, language",
    [
        ("Локон", "Стригусь только в Локоне", "ru"),
        ("Локон", "У Локона новые мастера", "ru"),
        ("Lokon", "Ďakujem Lokonu za strih", "sk"),
        ("стрижка", "Три стрижки по цене двух", "ru"),
        ("стрижка", "Сколько стоит стрижек пять?", "ru"),
        ("haircut", "Best haircuts in Orenburg", "en"),
        ("salón", "V salone bolo plno", "sk"),
        ("Salon", "Salón Lokon je super", "sk"),  # diacritics do not matter
    ],
)
def test_brand_names_and_products_decline(phrase, text, language):
    assert matches(phrase, text, language)


@pytest.mark.parametrize(
    "phrase, text",
    [
        ("Lokon", "Lokomotiva Košice vyhrala"),  # a different word with the same beginning
        ("Сбербанк", "Сбер снова лежит"),  # a shorter word is not the term
        ("hair", "Best haircut ever"),  # a known word is not a prefix of compounds
        ("Sberbank", "Sberbankovanie je nové slovo"),  # too many letters past the stem
    ],
)
def test_other_words_do_not_match(phrase, text):
    assert not matches(phrase, text)


def test_a_phrase_matches_its_words_in_a_row():
    assert matches("women's haircut", "Best women's haircuts in town", "en")
    assert matches("свадебная стрижка", "Делаем свадебные стрижки круглый год", "ru")
    assert not matches("women's haircut", "A haircut for women", "en")
    assert not matches("свадебная стрижка", "Свадебная фотосессия и стрижка", "ru")


def test_hashtag_terms_match_hashtags_ignoring_case():
    assert matches("#стрижка", "Новый образ #Стрижка #оренбург", "ru")
    assert matches("#LokonSalon", "love it #lokonsalon", "en")
    assert not matches("#стрижка", "Нужна стрижка к пятнице", "ru")  # the word is not the hashtag
    assert not matches("#стрижка", "#стрижкаоренбург", "ru")  # a longer hashtag is another one
    assert not matches("#стрижка", "https://vk.com/feed?q=#стрижка", "ru")  # inside a link
    # An ordinary term is found inside hashtags and handles too.
    assert matches("Lokon", "So happy! #Lokon", "en")
    assert matches("Lokon", "cc @lokon_salon", "en")


def test_an_exclusion_drops_the_term():
    options = {"exclusions": ["локон волос", "Lokon Kids"]}
    assert matches("Локон", "Была в Локоне, понравилось", "ru", **options)
    assert not matches("Локон", "На подушке остался локон волос", "ru", **options)
    assert not matches("Локон", "Упали локоны волос", "ru", **options)  # inflected too
    assert not matches("Lokon", "Lokon Kids otvára", "sk", **options)


def test_a_language_filter_uses_the_mentions_language():
    options = {"languages": ["sk"]}
    assert matches("Lokon", "Lokon je super", "sk", **options)
    assert not matches("Lokon", "Lokon is great", "en", **options)
    assert not matches("Lokon", "Lokon is great", "", **options)


def test_a_text_matches_every_term_it_mentions():
    matcher = Matcher([term(1, "Локон"), term(2, "Шик"), term(3, "#стрижка"), term(4, "Sberbank")])
    assert matcher.match("Локон лучше, чем Шик #стрижка", "ru") == [1, 2, 3]
    assert matcher.match("Ничего общего", "ru") == []


def test_a_searched_term_still_obeys_its_exclusions_and_languages():
    matcher = Matcher([term(1, "Локон", exclusions=["локон волос"], languages=["ru"])])
    assert matcher.allows(1, "Новый салон открылся", "ru")
    assert not matcher.allows(1, "Остался локон волос", "ru")
    assert not matcher.allows(1, "Some salon", "en")
    assert not matcher.allows(2, "Новый салон", "ru")


def test_terms_are_compiled_once_per_workspace_and_batch(salon, django_assert_num_queries):
    make_term(salon, "Локон")
    make_term(salon, "Шик", active=False)
    make_term(salon, "#стрижка")
    with django_assert_num_queries(1):
        matcher = Matcher.for_workspace(salon.pk)
    with django_assert_num_queries(0):
        found = [matcher.match(text, "ru") for text in ["Локон и Шик", "#стрижка", "ничего"] * 20]
    phrases_of = {t.id: t for t in matcher.terms}
    assert len(phrases_of) == 2  # the inactive term is left out
    assert found[:3] == [[matcher.terms[0].id], [matcher.terms[1].id], []]


def test_hashtags_are_folded_and_kept_once():
    assert hashtags_of("Go #Lokon #lokon #Стрижка_2024 a#b https://x.y/#frag") == ["#lokon", "#стрижка_2024"]


def test_phrases_are_content_lemmas_and_their_pairs():
    found = phrases("Свадебные стрижки в Локоне — просто супер! #стрижка https://lokon.example/", "ru")
    assert "свадебный стрижка" in found and "свадебный" in found and "локон" in found
    assert not {"в", "просто", "#стрижка"} & set(found)
    assert not any("lokon.example" in p or "https" in p for p in found)
    english = phrases("The ice bucket challenge is everywhere, the ice bucket!", "en")
    assert "ice bucket" in english and "bucket challenge" in english
    assert "the" not in english and english.count("ice bucket") == 1
    # A pair never spans a stop word or a sentence break.
    assert "стрижка локон" not in found
    assert "супер стрижка" not in phrases("Супер. Стрижка", "ru")
