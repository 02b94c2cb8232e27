"""The rules behind the fast pass: lemma-aware matching, negation, flags, in ru, sk and en."""

import pytest

from smmdesk.nlp import rules


def verdict(text, language):
    return rules.label(rules.analyse(text, language).score)


@pytest.mark.parametrize(
    "phrase,language,text",
    [
        ("вернуть деньги", "ru", "Когда мне вернут деньги?"),
        ("вернуть деньги", "ru", "Верните деньгами, пожалуйста"),
        ("жалоба", "ru", "Оставлю жалобу на мастера"),
        ("отменить запись", "ru", "Запись отменили без предупреждения"),
        ("vrátiť peniaze", "sk", "Vráťte mi peniaze"),
        ("vrátiť peniaze", "sk", "Kedy mi vrátite peniaze?"),
        ("zrušiť", "sk", "Zrušili mi objednávku"),
        ("refund", "en", "Still waiting for my refunds"),
        ("cancel", "en", "She cancels every booking"),
        ("money back", "en", "I want my money back"),
    ],
)
def test_phrases_match_any_inflection(phrase, language, text):
    assert rules.phrase_matches(phrase, language, rules.terms(text, language))


def test_a_phrase_needs_all_its_words():
    assert not rules.phrase_matches("вернуть деньги", "ru", rules.terms("Верните мне записку", "ru"))
    assert not rules.phrase_matches("money back", "en", rules.terms("I will be back", "en"))


@pytest.mark.parametrize(
    "forms,language,sentiment",
    [
        (["жалоба", "жалобу", "жалобы", "жалобой"], "ru", "negative"),
        (["ужасный сервис", "ужасного сервиса", "ужасным сервисом"], "ru", "negative"),
        (["понравилось", "нравится", "понравились"], "ru", "positive"),
        # Slovak: inflected, and typed without diacritics (simplemma knows neither "hrozná" nor "spinavy").
        (["hrozný", "hrozná", "hrozné", "hroznou"], "sk", "negative"),
        (["špinavá izba", "spinava izba", "spinavy gauc"], "sk", "negative"),
        (["skvelá", "skvelé", "skvelý", "skvela"], "sk", "positive"),
        (["disappointed", "disappointing", "disappoints"], "en", "negative"),
        (["loved it", "loving it", "I love it"], "en", "positive"),
    ],
)
def test_sentiment_words_count_in_every_form(forms, language, sentiment):
    assert {verdict(form, language) for form in forms} == {sentiment}


@pytest.mark.parametrize(
    "text,language",
    [
        ("не плохо", "ru"),
        ("Было совсем не плохо", "ru"),
        ("nie je zlé", "sk"),
        ("Nebolo to zlé", "sk"),
        ("not bad", "en"),
        ("Not bad at all", "en"),
        ("без проблем", "ru"),
        ("no problem", "en"),
    ],
)
def test_negated_complaints_are_not_negative(text, language):
    analysis = rules.analyse(text, language)
    assert analysis.negation
    assert analysis.score > 0


@pytest.mark.parametrize(
    "text,language",
    [
        ("не работает", "ru"),
        ("Приложение опять не работает", "ru"),
        ("nefunguje", "sk"),
        ("Aplikácia stále nefunguje", "sk"),
        ("not working", "en"),
        ("The app is not working again", "en"),
        ("nobody answered", "en"),
        ("мне так и не ответили", "ru"),
        ("nikto mi neodpovedal", "sk"),
        ("Nikdy to nefunguje", "sk"),  # one negation, said twice (negative concord)
        ("ani raz mi nepomohli", "sk"),
    ],
)
def test_negated_neutral_verbs_are_negative(text, language):
    assert verdict(text, language) == "negative"


def test_negated_praise_is_negative_but_weaker():
    assert rules.analyse("нравится", "ru").score > 0 > rules.analyse("не нравится", "ru").score
    assert rules.analyse("páčilo sa mi", "sk").score > 0 > rules.analyse("nepáčilo sa mi", "sk").score
    assert abs(rules.analyse("not good", "en").score) < abs(rules.analyse("good", "en").score)


def test_a_word_beginning_with_ne_is_not_a_negation():
    # "nemocnica" (hospital) keeps its "ne" in the lemma: it is a word, not a negated one.
    assert not rules.analyse("Som v nemocnici", "sk").negation


def test_but_makes_the_last_clause_count():
    assert verdict("Спасибо, но запись до сих пор не работает", "ru") == "negative"
    assert verdict("Ďakujem, ale stále to nefunguje", "sk") == "negative"
    assert verdict("Thanks, but it is still not working", "en") == "negative"


def test_sarcasm_turns_praise_around():
    for text, language in (
        ("Ну спасибо, отличный сервис", "ru"),
        ("Thanks for nothing, great service", "en"),
        ("Vďaka za nič, super služby", "sk"),
    ):
        analysis = rules.analyse(text, language)
        assert analysis.sarcasm and analysis.score < 0, text


def test_emoji_and_emoticons():
    assert rules.analyse("😡😡", "").score < 0 < rules.analyse("👍", "").score
    assert rules.analyse("спасибо :)", "ru").emoji > 0 > rules.analyse("опять :(", "ru").emoji
    assert rules.analyse("ну вот ((", "ru").emoji < 0 < rules.analyse("супер)))", "ru").emoji


def test_links_and_handles_are_not_words():
    assert rules.analyse("@bad_service https://terrible.example/awful", "en").score == 0


@pytest.mark.parametrize(
    "text,language,flag",
    [
        ("Верните деньги за окрашивание", "ru", "refund"),
        ("Требую компенсацию", "ru", "refund"),
        ("Chcem vrátiť peniaze", "sk", "refund"),
        ("Žiadam odškodnenie", "sk", "refund"),
        ("I want a refund", "en", "refund"),
        ("Please reimburse the ticket", "en", "refund"),
        ("Отмените запись на завтра", "ru", "cancel"),
        ("Хочу расторгнуть договор", "ru", "cancel"),
        ("Zrušte mi rezerváciu", "sk", "cancel"),
        ("Chcem vypovedať zmluvu", "sk", "cancel"),
        ("Please cancel my appointment", "en", "cancel"),
        ("They keep cancelling my flights", "en", "cancel"),
        ("How do I unsubscribe?", "en", "cancel"),
        ("Обращусь к юристу", "ru", "legal"),
        ("Подам иск", "ru", "legal"),
        ("Podám žalobu", "sk", "legal"),
        ("Obrátim sa na právnika", "sk", "legal"),
        ("My lawyer will contact you", "en", "legal"),
        ("We are taking legal action", "en", "legal"),
        ("После процедуры ожог", "ru", "safety"),
        ("Отравился после вашей пиццы", "ru", "safety"),
        ("Mám alergiu po farbení", "sk", "safety"),
        ("Skončil som v nemocnici", "sk", "safety"),
        ("I had an allergic reaction", "en", "safety"),
        ("Got food poisoning from your burger", "en", "safety"),
        ("Расскажу всем знакомым", "ru", "public_escalation"),
        ("Напишу в соцсети", "ru", "public_escalation"),
        ("Poviem všetkým známym", "sk", "public_escalation"),
        ("Napíšem recenziu všade", "sk", "public_escalation"),
        ("I will tell everyone", "en", "public_escalation"),
        ("Going to post this on social media", "en", "public_escalation"),
    ],
)
def test_flags(text, language, flag):
    assert flag in rules.analyse(text, language).flags


@pytest.mark.parametrize(
    "text,language",
    [
        ("Хочу записаться на стрижку", "ru"),
        ("Aký je cenník?", "sk"),
        ("Do you do balayage?", "en"),
        ("I saw your ad on social media", "en"),
    ],
)
def test_no_flags_on_plain_requests(text, language):
    assert rules.analyse(text, language).flags == ()


def test_lexicons_do_not_contradict_themselves():
    lexicons = rules._read_lexicons()
    for language in rules.LANGUAGES:
        positive = set(lexicons["positive"][language])
        negative = set(lexicons["negative"][language])
        assert not positive & negative, (language, positive & negative)


def test_features_match_their_names():
    assert len(rules.features(rules.analyse("Не работает!", "ru"))) == len(rules.FEATURES)
