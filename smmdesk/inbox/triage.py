"""Triage: language, sentiment and flags for one message.

A hook: the NLP issue registers its models with `set_classifier`; until then `rules_classifier` decides
with the plain rules below, which are data (the dicts of words) more than code.

Language, restricted to what the product speaks (ru, sk, en, or "" when the text has no letters):
Cyrillic is Russian; Latin text with Slovak (or Czech) letters, or more common Slovak words than English
ones, is Slovak; other Latin text is English, unless the workspace speaks Slovak and not English. A
language outside the workspace's list is still returned, since the inbox shows it.

Sentiment is a lexicon score on lemmas (smmdesk.nlp.lemmas), so "жалобу", "жалобы" and "жалоба" count
alike. Each word of the lexicons weighs ±1; a negator ("не", "nie", "not", Slovak verbs with the "ne-"
prefix) flips the next scored word within three words in the same clause, a little weakened ("не плохо"
is mildly positive), and gives a negative weight to words that are neutral on their own ("не работает",
"not working"). A booster ("очень", "veľmi", "very") strengthens the next word; after "но"/"ale"/"but"
the clause counts more than the one before it. Emoji score too; "!!" and words in CAPS intensify. The sum
is squashed into [-1, 1]; beyond ±THRESHOLD it is negative or positive.

Flags name what needs a human soon (ingest raises the priority for them): each is a list of phrases per
language, and a phrase matches when all its lemmas occur in the message, in any order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache

from smmdesk.nlp.lemmas import CYRILLIC, lemma

LANGUAGES = ("ru", "sk", "en")
THRESHOLD = 0.2
NEGATION_REACH = 3
NEGATED_WEIGHT = 0.75
BOOST = 1.5
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5

# --- language ------------------------------------------------------------------------------------------

LATIN = re.compile(r"[a-zà-ɏ]", re.IGNORECASE)
# Letters English never uses and Slovak (or Czech, which is close enough here) does.
SLOVAK_LETTERS = re.compile(r"[ľĺŕäôťďňščžřěů]", re.IGNORECASE)
# Accented vowels also occur in names from other languages ("José"): two of them are needed.
SLOVAK_VOWELS = re.compile(r"[áéíóúý]", re.IGNORECASE)
# Common words, without diacritics too, since many people type Slovak without them.
SLOVAK_WORDS = frozenset(
    "ahoj dobry dobre den dakujem dakujeme prosim som sme ste je sa si nie ale aj ako kedy preco mam mate "
    "chcem chcela chcel mozem mozete mozno objednat zrusit vlasy strihanie dnes zajtra uz este tak velmi "
    "ktory ktora kde pre lebo alebo mi bol bola bolo nebolo nefunguje".split()
)
ENGLISH_WORDS = frozenset(
    "the and is are you your i my me we our for with not please thanks thank hello hi can could what when "
    "have has it this that was of in at will would hair appointment book".split()
)

# --- sentiment lexicons (lemmas) -----------------------------------------------------------------------

NEGATIVE = {
    "ru": "плохой плохо ужасный ужасно ужас кошмар отвратительный отвратительно мерзкий хамство хамить "
    "нахамить грубый грубо невежливый испортить жалоба недовольный разочаровать разочарование обмануть "
    "обман безобразие позор кривой больно опоздать бардак грязный грязно неприятный некачественный "
    "медленно дорого",
    "sk": "zlý zlé zle hrozný hrozne strašný otrasný príšerný nespokojný sklamaný sklamanie sťažnosť "
    "nefungovať nepáčiť nepomôcť neodporúčať pokaziť drzý hanba katastrofa špinavý nepríjemný neochotný "
    "nekvalitný pomalý nanič chyba",
    "en": "bad terrible awful horrible rude disappoint disappointed complaint hate ruin ruined worse poor "
    "disgusting unacceptable dirty unfriendly unprofessional slow overpriced broken mess",
}
POSITIVE = {
    "ru": "спасибо благодарить благодарность отлично отличный хороший хорошо прекрасно прекрасный супер "
    "класс классно классный нравиться понравиться любить рекомендовать восторг замечательный шикарно "
    "шикарный довольный молодец приятный вежливый внимательный профессиональный аккуратный уютный",
    "sk": "ďakovať ďakujem dakujem vďaka výborný výborná výborne vynikajúci skvelý skvele úžasný super "
    "perfektný perfektne spokojný páčiť odporúčať dobrý krásne krásny pekne pekný príjemný milý ochotný "
    "kvalitný profesionálny pohodlný fajn",
    "en": "thanks thank thankful great excellent amazing awesome love lovely perfect recommend happy good "
    "nice wonderful fantastic pleasant friendly helpful professional polite beautiful",
}
# Neutral alone, negative when negated: "не работает", "nepomohli" (the ne- prefix is handled in code).
NEGATIVE_WHEN_NEGATED = {
    "ru": "работать помочь помогать отвечать ответить прийти перезвонить",
    "sk": "fungovať pomôcť odpovedať prísť",
    "en": "work help answer respond reply come",
}
NEGATORS = {
    "ru": "не нет ни никогда ничуть",
    "sk": "nie ani nikdy",
    "en": "not never cannot nobody nothing",
}
BOOSTERS = {
    "ru": "очень совсем вообще абсолютно крайне так такой",
    "sk": "veľmi úplne vôbec absolútne strašne",
    "en": "very really so extremely totally absolutely",
}
CONTRASTS = {"ru": "но однако", "sk": "ale však", "en": "but however"}

EMOJI = {
    **dict.fromkeys("😡😠🤬👎😞😢😭😤💩😒", -1.0),
    **dict.fromkeys("😍👍🙂😊😀😃😁👌🥰💕❤♥🙏🔥", 1.0),
}
SHOUTING = re.compile(r"!{2,}")
# "Добрый день", "Dobrý deň", "Good morning" are greetings, not praise.
GREETINGS = re.compile(
    r"\b(?:добр(?:ый|ое|ого|ой)\s+(?:день|утро|утра|вечер|вечера|ночи)"
    r"|dobr[ýy]\s+(?:de[ňn]|ve[čc]er)|dobr[ée]\s+r[áa]no|good\s+(?:morning|afternoon|evening|day))\b",
    re.IGNORECASE,
)

# --- flags (phrases; all their lemmas must occur) ------------------------------------------------------

FLAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "refund": {
        "ru": ("вернуть деньги", "возврат", "возврат денег"),
        "sk": ("vrátiť peniaze", "vrátenie peňazí"),
        "en": ("refund", "money back"),
    },
    "cancel": {
        "ru": ("отменить запись", "отмена записи"),
        "sk": ("zrušiť",),
        "en": ("cancel", "cancelled", "cancellation"),
    },
    "legal": {
        "ru": ("суд", "юрист", "адвокат", "прокуратура", "роспотребнадзор"),
        "sk": ("súd", "prokuratúra", "právnik", "advokát"),
        "en": ("lawyer", "sue", "court", "attorney"),
    },
    "safety": {
        "ru": ("аллергия", "аллергический", "ожог", "обжечь", "порез", "порезать"),
        "sk": ("alergia", "alergický", "popálenie", "popáliť", "porezať"),
        "en": ("burn", "allergic", "allergy"),
    },
    "public_escalation": {
        "ru": ("расскажу всем", "напишу отзыв везде", "напишу везде"),
        "sk": ("povím všetkým", "poviem všetkým", "napíšem všade"),
        "en": ("tell everyone", "post everywhere"),
    },
}


def _lexicon(table: dict[str, str]) -> frozenset[str]:
    # Lemmas of different languages hardly collide, and one merged set forgives a wrong language guess.
    return frozenset(word for words in table.values() for word in words.split())


NEGATIVE_LEMMAS = _lexicon(NEGATIVE)
POSITIVE_LEMMAS = _lexicon(POSITIVE)
NEGATED_ONLY_LEMMAS = _lexicon(NEGATIVE_WHEN_NEGATED)
NEGATOR_WORDS = _lexicon(NEGATORS)
BOOSTER_WORDS = _lexicon(BOOSTERS)
CONTRAST_WORDS = _lexicon(CONTRASTS)

TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|[.!?;:,]", re.UNICODE)
CLAUSE_END = frozenset(".!?;:,")


@dataclass(frozen=True)
class Triage:
    language: str = ""
    sentiment: str = "neutral"
    score: float = 0.0
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Token:
    surface: str  # casefolded
    lemma: str
    caps: bool


def detect_language(text: str, languages: Collection[str] = ()) -> str:
    cyrillic = len(CYRILLIC.findall(text))
    latin = len(LATIN.findall(text))
    if not cyrillic and not latin:
        return ""
    if cyrillic >= latin:
        return "ru"
    if SLOVAK_LETTERS.search(text) or len(SLOVAK_VOWELS.findall(text)) >= 2:
        return "sk"
    words = [w.casefold() for w in TOKEN.findall(text)]
    slovak = sum(w in SLOVAK_WORDS for w in words)
    english = sum(w in ENGLISH_WORDS for w in words)
    if slovak > english:
        return "sk"
    if english == 0 and "sk" in languages and "en" not in languages:
        return "sk"
    return "en"


def tokens(text: str, language: str) -> list[Token]:
    found = []
    for match in TOKEN.finditer(text.replace("’", "'")):
        word = match.group()
        folded = word.casefold().replace("ё", "е")
        found.append(Token(folded, folded if word in CLAUSE_END else lemma(word, language), _shouted(word)))
    return found


def _shouted(word: str) -> bool:
    return len(word) >= 3 and word.isupper()


def terms(text: str, language: str) -> frozenset[str]:
    return terms_of(tokens(text, language))


def terms_of(found: list[Token]) -> frozenset[str]:
    """Lemmas and the words as written, so a phrase typed in any form finds the message (the lemmatiser
    turns "cancelled" into "cancell", and the word itself still matches)."""
    return frozenset(
        term for token in found if token.surface not in CLAUSE_END for term in (token.lemma, token.surface)
    )


@lru_cache(maxsize=4096)
def phrase_terms(phrase: str, language: str) -> tuple[tuple[str, str], ...]:
    """(lemma, word) per word of a phrase: a word matches when either is among a message's terms."""
    return tuple((t.lemma, t.surface) for t in tokens(phrase, language) if t.surface not in CLAUSE_END)


def phrase_matches(phrase: str, language: str, message_terms: frozenset[str]) -> bool:
    parts = phrase_terms(phrase, language)
    return bool(parts) and all(lem in message_terms or word in message_terms for lem, word in parts)


def _negated_stem(token: Token, language: str) -> str | None:
    """Slovak writes the negation into the verb: "nefunguje". The stem, when it is a scored word."""
    if language == "sk" and token.lemma.startswith("ne"):
        stem = token.lemma[2:]
        if stem in POSITIVE_LEMMAS or stem in NEGATIVE_LEMMAS or stem in NEGATED_ONLY_LEMMAS:
            return stem
    return None


def _weight(lemma_: str, negated: bool) -> float:
    if lemma_ in NEGATIVE_LEMMAS:
        base = -1.0
    elif lemma_ in POSITIVE_LEMMAS:
        base = 1.0
    elif lemma_ in NEGATED_ONLY_LEMMAS:
        return -1.0 if negated else 0.0
    else:
        return 0.0
    return -base * NEGATED_WEIGHT if negated else base


def sentiment_score(text: str, language: str, found: list[Token] | None = None) -> float:
    found = tokens(text, language) if found is None else found
    clauses: list[float] = [0.0]
    negation_left = 0
    boost = 1.0
    for token in found:
        if token.surface in CLAUSE_END:
            negation_left, boost = 0, 1.0
            continue
        if token.surface in CONTRAST_WORDS:
            clauses.append(0.0)
            negation_left, boost = 0, 1.0
            continue
        if token.surface in NEGATOR_WORDS or token.surface.endswith("n't"):
            negation_left = NEGATION_REACH
            continue
        if token.surface in BOOSTER_WORDS:
            boost = BOOST
            continue
        stem = _negated_stem(token, language)
        negated = negation_left > 0
        weight = _weight(stem, not negated) if stem else _weight(token.lemma, negated)
        if weight:
            clauses[-1] += weight * boost * (BOOST if token.caps else 1.0)
            negation_left, boost = 0, 1.0
            continue
        if language == "sk" and token.surface.startswith("ne") and not token.lemma.startswith("ne"):
            # "nebolo zlé": the negated verb lost its prefix in the lemma, and negates what follows.
            negation_left = NEGATION_REACH
            continue
        negation_left = max(negation_left - 1, 0)
    # "Thanks, but it still does not work": what follows the last "but" is what the customer means.
    raw = (
        clauses[0]
        if len(clauses) == 1
        else sum(clauses[:-1]) * CONTRAST_BEFORE + clauses[-1] * CONTRAST_AFTER
    )
    raw += sum(EMOJI.get(char, 0.0) for char in text)
    if SHOUTING.search(text):
        raw *= BOOST
    return raw / math.sqrt(raw * raw + 4)


def label(score: float) -> str:
    if score <= -THRESHOLD:
        return "negative"
    if score >= THRESHOLD:
        return "positive"
    return "neutral"


@lru_cache(maxsize=1)
def _flag_index() -> dict[str, list[tuple[str, tuple]]]:
    """Flag phrases by their first word (lemma and surface form): a message is checked only against
    phrases whose first word it contains, not against every phrase of every flag."""
    index: dict[str, list[tuple[str, tuple]]] = {}
    for flag, phrases in FLAGS.items():
        for language, listed in phrases.items():
            for phrase in listed:
                parts = phrase_terms(phrase, language)
                if parts:
                    for key in set(parts[0]):
                        index.setdefault(key, []).append((flag, parts))
    return index


def flags(message_terms: frozenset[str]) -> list[str]:
    index = _flag_index()
    found = {
        flag
        for term in message_terms
        for flag, parts in index.get(term, ())
        if all(lem in message_terms or word in message_terms for lem, word in parts)
    }
    return [flag for flag in FLAGS if flag in found]


def rules_classifier(text: str, languages: list[str]) -> Triage:
    text = text or ""
    language = detect_language(text, languages)
    text = GREETINGS.sub(" ", text)
    found = tokens(text, language)
    score = round(sentiment_score(text, language, found), 3)
    return Triage(language=language, sentiment=label(score), score=score, flags=flags(terms_of(found)))


_classifier: Callable[[str, list[str]], Triage] = rules_classifier


def set_classifier(classifier: Callable[[str, list[str]], Triage] | None) -> None:
    global _classifier
    _classifier = classifier or rules_classifier


def classify(text: str, languages: list[str]) -> Triage:
    return _classifier(text, languages)
