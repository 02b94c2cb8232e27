"""Triage rules: language, sentiment with negation, emoji and intensity, and flags, in ru, sk and en."""

import pytest

from smmdesk.inbox import triage
from smmdesk.inbox.triage import Triage, classify, detect_language, rules_classifier

WORKSPACE = ["ru", "sk", "en"]


@pytest.mark.parametrize(
    "text,language",
    [
        ("Здравствуйте, хочу записаться на стрижку", "ru"),
        ("Ďakujem za krásny účes", "sk"),
        ("Dobry den, chcela by som sa objednat na zajtra", "sk"),  # Slovak typed without diacritics
        ("Nebolo to zle", "sk"),
        ("Hello, can I book a haircut for tomorrow?", "en"),
        ("José was great", "en"),  # one accented letter in a name is not Slovak
        ("Привет, thanks", "ru"),
        ("👍👍", ""),
        ("12:30?", ""),
        ("", ""),
    ],
)
def test_language(text, language):
    assert detect_language(text, WORKSPACE) == language


def test_language_outside_the_workspace_is_still_reported():
    assert rules_classifier("Спасибо большое", ["sk", "en"]).language == "ru"


def test_ambiguous_latin_text_takes_the_workspace_language():
    assert detect_language("ok ok", ["sk"]) == "sk"
    assert detect_language("ok ok", ["sk", "en"]) == "en"
    assert detect_language("ok ok", []) == "en"


@pytest.mark.parametrize(
    "text,sentiment",
    [
        # Russian
        ("Мастер испортила мне волосы, ужасно", "negative"),
        ("Ничего не работает", "negative"),
        ("Мне не понравилось", "negative"),
        ("Мне очень понравилось", "positive"),
        ("Спасибо!", "positive"),
        ("Отлично, спасибо", "positive"),
        ("Было не плохо", "positive"),
        ("Спасибо, но запись до сих пор не работает", "negative"),
        ("Добрый день! Можно записаться на субботу?", "neutral"),
        # Slovak
        ("Rezervácia nefunguje", "negative"),
        ("Nepáčilo sa mi to", "negative"),
        ("Nebolo to zlé", "positive"),
        ("Ďakujem, bolo to výborné", "positive"),
        ("Dobrý deň, máte voľno v sobotu?", "neutral"),
        ("Ďakujem, ale stále to nefunguje", "negative"),
        # English
        ("Not working again", "negative"),
        ("The stylist was rude and the result is terrible", "negative"),
        ("Thanks, I love it", "positive"),
        ("Not bad at all", "positive"),
        ("Good morning, are you open on Sunday?", "neutral"),
        # Emoji
        ("😡😡", "negative"),
        ("👎", "negative"),
        ("😞", "negative"),
        ("😍", "positive"),
        ("👍", "positive"),
        ("🙂", "positive"),
        ("❤️", "positive"),
    ],
)
def test_sentiment(text, sentiment):
    verdict = rules_classifier(text, WORKSPACE)
    assert verdict.sentiment == sentiment, (text, verdict)
    assert -1 <= verdict.score <= 1
    assert (verdict.score < 0) == (sentiment == "negative")


def test_negation_weakens_the_flipped_word():
    plain = rules_classifier("плохо", WORKSPACE).score
    negated = rules_classifier("не плохо", WORKSPACE).score
    assert plain < 0 < negated < -plain


@pytest.mark.parametrize(
    "calm,loud",
    [("ужасно", "УЖАСНО"), ("ужасно", "ужасно!!!"), ("terrible", "TERRIBLE!!!"), ("ďakujem", "ďakujem!!!")],
)
def test_caps_and_exclamation_marks_intensify(calm, loud):
    calm_score = rules_classifier(calm, WORKSPACE).score
    loud_score = rules_classifier(loud, WORKSPACE).score
    assert abs(loud_score) > abs(calm_score) > 0
    assert (loud_score > 0) == (calm_score > 0)


def test_neutral_text_stays_neutral_when_shouted():
    verdict = rules_classifier("КОГДА ВЫ ОТКРЫВАЕТЕСЬ!!!", WORKSPACE)
    assert (verdict.sentiment, verdict.score) == ("neutral", 0.0)


def test_inflected_forms_score_alike():
    forms = ["жалоба", "жалобу", "жалобы", "жалобой"]
    assert {rules_classifier(f"Пишу {form}", WORKSPACE).sentiment for form in forms} == {"negative"}


@pytest.mark.parametrize(
    "text,flags",
    [
        ("Верните деньги за окрашивание", ["refund"]),
        ("Хочу вернуть деньги", ["refund"]),
        ("Оформите возврат", ["refund"]),
        ("Chcem vrátiť peniaze", ["refund"]),
        ("I want a refund", ["refund"]),
        ("Give me my money back", ["refund"]),
        ("Отмените запись на завтра", ["cancel"]),
        ("Zrušte mi rezerváciu", ["cancel"]),
        ("Please cancel my appointment", ["cancel"]),
        ("Обращусь к юристу и в суд", ["legal"]),
        ("Напишу жалобу в Роспотребнадзор", ["legal"]),
        ("Podám to na súd", ["legal"]),
        ("Obrátim sa na prokuratúru", ["legal"]),
        ("My lawyer will contact you, I will sue", ["legal"]),
        ("У меня аллергия после окрашивания", ["safety"]),
        ("Мне обожгли кожу, ожог до сих пор", ["safety"]),
        ("Мастер меня порезала", ["safety"]),
        ("Mám alergiu a popálenie", ["safety"]),
        ("I am allergic to the dye and got a burn", ["safety"]),
        ("Расскажу всем подругам", ["public_escalation"]),
        ("Напишу отзыв везде", ["public_escalation"]),
        ("Povím všetkým", ["public_escalation"]),
        ("I will tell everyone and post everywhere", ["public_escalation"]),
        ("Хочу записаться на стрижку", []),
        ("Aký je cenník?", []),
        ("Do you do balayage?", []),
    ],
)
def test_flags(text, flags):
    assert rules_classifier(text, WORKSPACE).flags == flags


def test_several_flags_at_once():
    verdict = rules_classifier("Верните деньги, иначе суд! Расскажу всем", WORKSPACE)
    assert verdict.flags == ["refund", "legal", "public_escalation"]


def test_classifier_hook_replaces_and_restores_the_rules():
    seen = []

    def model(text, languages):
        seen.append((text, languages))
        return Triage(language="sk", sentiment="positive", score=0.9, flags=["vip"])

    triage.set_classifier(model)
    try:
        assert classify("whatever", ["sk"]) == Triage("sk", "positive", 0.9, ["vip"])
    finally:
        triage.set_classifier(None)
    assert seen == [("whatever", ["sk"])]
    assert classify("Спасибо", ["ru"]).language == "ru"
