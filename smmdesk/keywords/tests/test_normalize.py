from smmdesk.keywords import normalize


def test_word_order_and_inflection_give_one_key():
    forms = [
        "женская стрижка в Ленинском районе Оренбурга",
        "Оренбург Ленинский район стрижки женские",
        "стрижка женская ленинский район оренбург",
    ]
    assert len({normalize.key(query, "ru") for query in forms}) == 1


def test_slovak_and_english_keys():
    assert normalize.key("dámsky strih v Petržalke", "sk") == normalize.key("Petržalka dámsky strih", "sk")
    assert normalize.key("v Starom Meste dámsky strih", "sk") == normalize.key(
        "Staré Mesto dámske strihy", "sk"
    )
    assert normalize.key("women's haircut in Leninsky district Orenburg", "en") == normalize.key(
        "Orenburg Leninsky district haircuts for women", "en"
    )


def test_different_queries_keep_different_keys():
    assert normalize.key("мужская стрижка", "ru") != normalize.key("женская стрижка", "ru")
    assert normalize.key("стрижка рядом", "ru") != normalize.key("стрижка", "ru")


def test_stop_words_are_dropped_but_not_meaningful_words():
    assert normalize.key("стрижка в Оренбурге", "ru") == normalize.key("стрижка Оренбург", "ru")
    assert normalize.key("в на у", "ru") == ""
    assert "near" in normalize.key("haircut near me", "en")


def test_default_negatives_catch_every_form():
    negatives = normalize.DEFAULT_NEGATIVES["ru"]
    assert normalize.is_negative("курсы парикмахеров в Оренбурге", "ru", negatives)
    assert normalize.is_negative("вакансии парикмахера", "ru", negatives)
    assert normalize.is_negative("стрижка бесплатно", "ru", negatives)
    assert not normalize.is_negative("женская стрижка в Оренбурге", "ru", negatives)
    assert normalize.is_negative("kurzy strihania", "sk", normalize.DEFAULT_NEGATIVES["sk"])
    assert normalize.is_negative("hairdresser jobs", "en", normalize.DEFAULT_NEGATIVES["en"])
    assert not normalize.is_negative("men's haircut near me", "en", normalize.DEFAULT_NEGATIVES["en"])


def test_a_negative_phrase_needs_all_its_words():
    negatives = ["своими руками"]
    assert normalize.is_negative("стрижка своими руками", "ru", negatives)
    assert not normalize.is_negative("массаж рук", "ru", negatives)


def test_every_language_has_stop_words_and_negatives():
    for language in ("ru", "sk", "en"):
        assert normalize.STOP_WORDS[language]
        assert normalize.DEFAULT_NEGATIVES[language]
