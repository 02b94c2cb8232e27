"""Language detection with lingua, restricted to the workspace's languages plus "other"."""

import pytest

from smmdesk.nlp import language
from smmdesk.nlp.language import detect

WORKSPACE = ("ru", "sk", "en")


@pytest.mark.parametrize(
    "text,language",
    [
        ("Здравствуйте, хочу записаться на стрижку", "ru"),
        ("Ďakujem za krásny účes", "sk"),
        ("Dobry den, chcela by som sa objednat na zajtra", "sk"),  # Slovak without diacritics
        ("Spinave koberce, spinavy gauc, katastrofa.", "sk"),
        ("Hello, can I book a haircut for tomorrow?", "en"),
        ("Привет, thanks", "ru"),
        ("nefunguje", "sk"),  # Czech by a hair for lingua; a sibling of a workspace language wins
        ("Дякую, все добре, дуже задоволена", "other"),  # Ukrainian
        ("Děkuji moc za skvělou práci", "other"),  # Czech
        ("Hallo, wie geht es dir heute?", "other"),
        ("👍👍", ""),
        ("12:30?", ""),
        ("", ""),
    ],
)
def test_detect(text, language):
    assert detect(text, WORKSPACE) == language


def test_a_language_outside_the_workspace_is_other():
    assert detect("Спасибо большое, всё понравилось", ("sk", "en")) == "other"
    assert detect("Thank you so much, see you next week", ("ru",)) == "other"
    assert detect("Спасибо большое, всё понравилось", ("ru",)) == "ru"


def test_short_text_falls_back_to_the_script():
    assert detect("ok", ("sk",)) == "sk"
    assert detect("ok", ("en", "ru")) == "en"
    assert detect("Да", WORKSPACE) == "ru"
    assert detect("Да", ("sk", "en")) == "other"


def test_links_and_handles_do_not_decide():
    assert detect("@salon_bratislava https://salon.example.sk Спасибо, всё отлично", WORKSPACE) == "ru"


def test_a_batch_is_detected_as_each_text_alone():
    texts = [
        "Здравствуйте, хочу записаться на стрижку к Анне",
        "Dobrý deň, chcem sa objednať na strihanie",
        "Hello, can I book a wedding haircut for Saturday?",
        "Добрий день, скільки коштує стрижка для дитини?",
        "ok",
        "12345",
        "",
        "Γειά σας",
    ]
    languages = ("ru", "sk", "en")
    assert language.detect_many(texts, languages) == [language.detect(text, languages) for text in texts]
    assert language.detect_many(texts, languages)[:4] == ["ru", "sk", "en", "other"]
