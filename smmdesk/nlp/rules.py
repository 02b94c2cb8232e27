"""The rules: tokens and lemmas, a sentiment lexicon with negation, emoji and intensity, flags, and a
script-based language guess. Used by the fast pass (smmdesk.nlp.sentiment.fast), as features of the
embedding refinement, and by the inbox's own fallback (smmdesk.inbox.triage.rules_classifier).

Sentiment is a lexicon score on lemmas (smmdesk.nlp.lemmas), so "жалобу", "жалобы" and "жалоба" count
alike. The word lists are data, in data/lexicon_<language>.txt. Slovak is often typed without diacritics
and simplemma knows only some inflected forms, so Latin words also match without diacritics and, for
Slovak adjectives and nouns, by stem ("hrozná", "spinavy"). Each word weighs ±1; a negator ("не", "nie",
"not", "без", Slovak verbs with the "ne-" prefix) flips the next scored word within three words in the
same clause, a little weakened ("не плохо" is mildly positive), and gives a negative weight to words that
are neutral on their own ("не работает", "not working"). A booster ("очень", "veľmi", "very") strengthens
the next word; after "но"/"ale"/"but" the clause counts more than the one before it. Emoji and emoticons
score too; "!!" and words in CAPS intensify; a sarcasm marker ("ну спасибо", "yeah right") turns praise
into a complaint. The sum is squashed into (-1, 1); beyond ±THRESHOLD it is negative or positive.
Besides the score, `analyse` counts cues the models weigh themselves: complaint cues without sentiment
words ("опять", "stále nič", "never again", "3 hours"), requests and greetings, "?" and "!".

Flags name what needs a human soon (ingest raises the priority for them): each is a list of phrases per
language, and a phrase matches when all its lemmas occur in the message, in any order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from smmdesk.nlp.lemmas import CYRILLIC, lemma

LANGUAGES = ("ru", "sk", "en")
THRESHOLD = 0.2
NEGATION_REACH = 3
NEGATED_WEIGHT = 0.75
BOOST = 1.5
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5
LEXICON_DIR = Path(__file__).parent / "data"

# --- language (the fallback when lingua has too little to go on) -------------------------------------

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

# --- the small closed word classes; the open ones are in data/lexicon_<language>.txt -------------------

NEGATORS = {
    "ru": "не нет ни никогда ничуть без",
    "sk": "nie ani nikdy bez žiadny",
    "en": "not never cannot nobody nothing no without",
}
BOOSTERS = {
    "ru": "очень совсем вообще абсолютно крайне так такой самый слишком",
    "sk": "veľmi velmi úplne vôbec absolútne strašne mimoriadne príliš",
    "en": "very really so extremely totally absolutely too",
}
CONTRASTS = {"ru": "но однако зато", "sk": "ale však avšak", "en": "but however though"}
# "Ну спасибо", "yeah right": praise that means the opposite.
SARCASM = re.compile(
    r"\b(?:ну\s+спасибо|спасибо\s+за\s+ничего|ага,?\s+конечно|ну\s+конечно|ну\s+да,?\s+конечно"
    r"|vďaka\s+za\s+nič|dakujem\s+za\s+nic|ďakujem\s+za\s+nič|no\s+jasne|no\s+super"
    r"|yeah\s+right|thanks\s+for\s+nothing|oh\s+great|just\s+great|what\s+a\s+joke|thanks\s+a\s+lot\s+for\s+nothing)\b",
    re.IGNORECASE,
)
SARCASM_EMOJI = "🙃"
# Complaints often carry no sentiment word at all, but say the problem persists, a promise was broken,
# the customer gives up, or how long they have waited: "опять", "stále nič", "never again", "3 hours".
COMPLAINT_CUES = re.compile(
    r"\b(?:опять|снова|до\s+сих\s+пор|уже\s+(?:\d+|месяц|неделю|год|второй|третий)|в\s+\w+\s+раз"
    r"|больше\s+(?:не|ни\s+ногой)|ни\s+одного|ни\s+разу|обещал\w*|отказыва\w*|невозможно|сколько\s+можно"
    r"|(?:одн[ау]|1)\s+звезд\w*|\d+\s+(?:час\w*|дн\w*|дней|суток|недел\w*|месяц\w*)"
    r"|zase|znova|opäť|stále|už\s+(?:\d+|týždeň|mesiac|nikdy)|nikdy\s+viac|sľúbil\w*|odmiet\w*|nedá\s+sa"
    r"|\d+\s+(?:hodín|hodiny|dní|dni|týžd\w*|mesiac\w*)"
    r"|again|still|already|never\s+again|never\s+going\s+back|not\s+coming\s+back|promised|refus\w*"
    r"|impossible|how\s+long|zero\s+stars?|one\s+star|1\s+star|\d+\s+(?:hours?|hrs|days|weeks|months))\b",
    re.IGNORECASE,
)
# Requests, greetings and politeness: what plain neutral messages are made of.
REQUEST_CUES = re.compile(
    r"\b(?:пожалуйста|подскажите|уточните|скажите|можно|хочу|хотел\w*\s+бы|будьте\s+добры|здравствуйте"
    r"|добрый\s+(?:день|вечер)|доброе\s+утро|привет|prosím|prosim|chcem|chcel\w*\s+by|môžem|mozem|môžete"
    r"|mozete|dá\s+sa|da\s+sa|dobrý\s+deň|dobry\s+den|ahoj|please|pls|can\s+i|could\s+you|would\s+like"
    r"|i'd\s+like|let\s+me\s+know|hi|hello|hey|fyi|how\s+(?:much|do|can)|is\s+there|do\s+you)\b",
    re.IGNORECASE,
)

EMOJI = {
    **dict.fromkeys("😡😠🤬👎😞😢😭😤💩😒😩😫🙄😑😖😣☹🙁😕😟😔💔🤮🤢😬", -1.0),
    **dict.fromkeys("😍👍🙂😊😀😃😁😄👌🥰💕❤♥🙏🔥🤩😘💖💯👏🌟⭐🎉😎🤗💪", 1.0),
}
EMOTICON_GOOD = re.compile(r"[:;=]-?[)D]|\){2,}")
EMOTICON_BAD = re.compile(r"[:;=]-?\(|\({2,}")
SHOUTING = re.compile(r"!{2,}")
# "Добрый день", "Dobrý deň", "Good morning" are greetings, not praise.
GREETINGS = re.compile(
    r"\b(?:добр(?:ый|ое|ого|ой)\s+(?:день|утро|утра|вечер|вечера|ночи)"
    r"|dobr[ýy]\s+(?:de[ňn]|ve[čc]er)|dobr[ée]\s+r[áa]no|good\s+(?:morning|afternoon|evening|day))\b",
    re.IGNORECASE,
)
# Links and handles carry no sentiment, and their pieces would be looked up as words.
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+")

# --- flags (phrases; all their lemmas must occur) ------------------------------------------------------

# Per flag and language, phrases separated by ";".
FLAG_PHRASES = {
    "refund": {
        "ru": "вернуть деньги; возврат; возврат денег; верните мои деньги; компенсация; "
        "компенсировать; вернуть средства; вернуть оплату; чарджбэк",
        "sk": "vrátiť peniaze; vrátenie peňazí; vratit peniaze; refundácia; odškodnenie; "
        "kompenzácia; vráťte peniaze; vratte peniaze",
        "en": "refund; money back; reimburse; reimbursement; compensation; chargeback; return my money",
    },
    "cancel": {
        "ru": "отменить запись; отмена записи; отменить заказ; отменить бронь; отменить подписку; "
        "отмените; расторгнуть договор; закрыть счёт; отказаться от услуг",
        "sk": "zrušiť; zrušenie; zrusit; zrušte; vypovedať zmluvu; odhlásiť",
        "en": "cancel; cancelled; canceled; cancelling; canceling; cancellation; unsubscribe; "
        "terminate contract; close my account",
    },
    "legal": {
        "ru": "суд; юрист; адвокат; прокуратура; роспотребнадзор; иск; полиция; заявление в полицию; "
        "центробанк; цб; претензия",
        "sk": "súd; prokuratúra; právnik; advokát; žaloba; žalovať; polícia; inšpekcia; sud",
        "en": "lawyer; sue; court; attorney; lawsuit; legal action; police; small claims; ombudsman",
    },
    "safety": {
        "ru": "аллергия; аллергический; ожог; обжечь; порез; порезать; отравление; отравиться; "
        "травма; скорая; больница; кровь; опасно",
        "sk": "alergia; alergický; popálenie; popáliť; porezať; otrava; otráviť; zranenie; "
        "záchranka; nemocnica; krv; nebezpečný",
        "en": "burn; allergic; allergy; food poisoning; injury; injured; hospital; ambulance; "
        "bleeding; dangerous; unsafe",
    },
    "public_escalation": {
        "ru": "расскажу всем; напишу отзыв везде; напишу везде; расскажу всем знакомым; "
        "напишу в соцсети; опубликую; журналист; сми; пусть все знают; ославлю",
        "sk": "povím všetkým; poviem všetkým; napíšem všade; napíšem recenziu; zverejním; novinári; "
        "nech všetci vedia; dám to na sociálne siete",
        "en": "tell everyone; post everywhere; tell all my friends; go viral; journalist; "
        "write a review everywhere; everyone will know; post on social media",
    },
}
FLAGS: dict[str, dict[str, tuple[str, ...]]] = {
    flag: {language: tuple(p.strip() for p in phrases.split(";")) for language, phrases in per.items()}
    for flag, per in FLAG_PHRASES.items()
}
# Flags that mark a complaint (a feature for sentiment); "cancel" is as often a plain request.
COMPLAINT_FLAGS = frozenset({"refund", "legal", "safety", "public_escalation"})

# Word classes; a Slovak verb with the "ne-" prefix adds PREFIXED to the class of its stem.
POSITIVE, NEGATIVE, NEGATED_ONLY, NEGATOR, BOOSTER, CONTRAST = 1, 2, 3, 4, 5, 6
PREFIXED = 8
# A word form that is not scored although its lemma is ("later" -> "late").
UNSCORED = 16
# Slovak endings stripped to match adjectives and nouns by stem (after removing diacritics).
STEM_ENDINGS = ("ejsie", "ejsi", "eho", "emu", "ych", "ymi", "ym", "ou", "ej", "y", "a", "e", "i", "o", "u")

TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|[.!?;:,]", re.UNICODE)
CLAUSE_END = frozenset(".!?;:,")


def plain(word: str) -> str:
    """The word without diacritics ("špinavý" -> "spinavy"); Cyrillic is left alone, ё is е."""
    if CYRILLIC.search(word):
        return word.replace("ё", "е")
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def stem(word: str) -> str:
    for ending in STEM_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _read_lexicons() -> dict[str, dict[str, list[str]]]:
    lexicons: dict[str, dict[str, list[str]]] = {}
    for language in LANGUAGES:
        section = ""
        for line in (LEXICON_DIR / f"lexicon_{language}.txt").read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif line and not line.startswith("#"):
                lexicons.setdefault(section, {}).setdefault(language, []).extend(line.casefold().split())
    return lexicons


@lru_cache(maxsize=1)
def word_classes() -> tuple[dict[str, int], dict[str, int], dict[str, dict[str, int]]]:
    """(open classes by plain word, by Slovak stem, closed classes per language). The open classes of all
    languages share one table: their words hardly collide, and one table forgives a wrong language guess.
    The closed ones do not: "no" negates in English and means "well" in Slovak."""
    lexicons = _read_lexicons()
    classes: dict[str, int] = {}
    stems: dict[str, int] = {}
    for section, kind in (
        ("negative_when_negated", NEGATED_ONLY),
        ("positive", POSITIVE),
        ("negative", NEGATIVE),
        ("neutral", UNSCORED),
    ):
        for language, listed in lexicons.get(section, {}).items():
            for word in listed:
                classes[plain(word)] = kind
                if language == "sk":
                    stems[stem(plain(word))] = kind
    closed: dict[str, dict[str, int]] = {"": {}}
    for table, kind in ((NEGATORS, NEGATOR), (BOOSTERS, BOOSTER), (CONTRASTS, CONTRAST)):
        for language, words in table.items():
            for word in words.split():
                closed.setdefault(language, {})[plain(word)] = kind
                closed[""].setdefault(plain(word), kind)
    return classes, stems, closed


@lru_cache(maxsize=200_000)
def word_class(word: str, lemma_: str, language: str) -> int:
    classes, stems, closed = word_classes()
    closed_here = closed.get(language, closed[""])
    for key in (plain(word), plain(lemma_)):
        if key in closed_here:
            return closed_here[key]
    latin = not CYRILLIC.search(word)
    # Slovak writes the negation into the verb: "nefunguje", "nepáčilo sa", "neodpovedal".
    negatable = latin and language != "en" and word.startswith("ne") and len(word) > 4
    if negatable and not lemma_.startswith("ne"):
        # The lemmatiser took the prefix off ("neodpovedal" -> "odpovedať"). A verb that is not scored
        # itself ("nebolo" -> "byť") negates what follows: "nebolo to zlé".
        inner = classes.get(plain(lemma_), 0)
        return inner | PREFIXED if inner in (POSITIVE, NEGATIVE, NEGATED_ONLY) else NEGATOR
    if classes.get(plain(word)) == UNSCORED:
        return 0
    for key in (plain(lemma_), plain(word)):
        if key in classes:
            return classes[key]
    if latin and language not in ("en", "ru"):
        kind = stems.get(stem(plain(word)), 0)
        if kind in (POSITIVE, NEGATIVE):
            return kind
    if negatable:
        # The lemma kept the prefix ("nepomohli" -> "nepomôcť"); "nemocnica" is just a word.
        inner = word_class(word[2:], lemma_[2:], language)
        if inner in (POSITIVE, NEGATIVE, NEGATED_ONLY):
            return inner | PREFIXED
    return 0


@dataclass(frozen=True, slots=True)
class Token:
    surface: str  # casefolded
    lemma: str
    caps: bool
    kind: int


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
        if word in CLAUSE_END:
            found.append(Token(word, word, False, 0))
            continue
        folded = word.casefold().replace("ё", "е")
        lemma_ = lemma(word, language)
        found.append(Token(folded, lemma_, _shouted(word), word_class(folded, lemma_, language)))
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


def _weight(kind: int, negated: bool) -> float:
    if kind & PREFIXED:
        # Negative concord: "nikdy nefunguje" is one negation, not two.
        kind, negated = kind & ~PREFIXED, True
    if kind == NEGATED_ONLY:
        return -1.0 if negated else 0.0
    base = {POSITIVE: 1.0, NEGATIVE: -1.0}.get(kind, 0.0)
    return -base * NEGATED_WEIGHT if negated else base


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the rules see in a message; `features()` turns it into the numbers the models use."""

    score: float  # the rule score squashed into (-1, 1)
    positive: float  # the positive and negative mass before squashing
    negative: float
    negation: bool
    emoji: float
    question: bool
    exclaim: bool
    sarcasm: bool
    complaint_cues: int
    requests: int
    flags: tuple[str, ...]
    terms: frozenset[str]


FEATURES = (
    "score",
    "positive",
    "negative",
    "negation",
    "emoji",
    "question",
    "exclaim",
    "complaint",
    "sarcasm",
    "complaint_cue",
    "request",
)


def features(analysis: Analysis) -> list[float]:
    return [
        analysis.score,
        analysis.positive / (1 + analysis.positive),
        analysis.negative / (1 + analysis.negative),
        float(analysis.negation),
        math.tanh(analysis.emoji / 2),
        float(analysis.question),
        float(analysis.exclaim),
        float(any(flag in COMPLAINT_FLAGS for flag in analysis.flags)),
        float(analysis.sarcasm),
        min(analysis.complaint_cues, 3) / 3,
        min(analysis.requests, 3) / 3,
    ]


def analyse(text: str, language: str) -> Analysis:
    original = text or ""
    text = NOISE.sub(" ", GREETINGS.sub(" ", original))
    found = tokens(text, language)
    clauses: list[float] = [0.0]
    positive = negative = 0.0
    negation_seen = False
    negation_left = 0
    boost = 1.0
    for token in found:
        if token.surface in CLAUSE_END:
            negation_left, boost = 0, 1.0
        elif token.kind == CONTRAST:
            clauses.append(0.0)
            negation_left, boost = 0, 1.0
        elif token.kind == NEGATOR or token.surface.endswith("n't"):
            negation_left, negation_seen = NEGATION_REACH, True
        elif token.kind == BOOSTER:
            boost = BOOST
        elif weight := _weight(token.kind, negation_left > 0):
            weight *= boost * (BOOST if token.caps else 1.0)
            clauses[-1] += weight
            positive, negative = positive + max(weight, 0.0), negative + max(-weight, 0.0)
            negation_seen = negation_seen or bool(token.kind & PREFIXED)
            negation_left, boost = 0, 1.0
        else:
            negation_left = max(negation_left - 1, 0)
    # "Thanks, but it still does not work": what follows the last "but" is what the customer means.
    raw = (
        clauses[0]
        if len(clauses) == 1
        else sum(clauses[:-1]) * CONTRAST_BEFORE + clauses[-1] * CONTRAST_AFTER
    )
    emoji = sum(EMOJI.get(char, 0.0) for char in text)
    emoji += len(EMOTICON_GOOD.findall(text)) - len(EMOTICON_BAD.findall(text))
    raw += emoji
    sarcasm = bool(SARCASM.search(text)) or SARCASM_EMOJI in text
    if sarcasm:
        raw = -abs(raw) - 1.0
    if SHOUTING.search(text):
        raw *= BOOST
    message_terms = terms_of(found)
    return Analysis(
        score=raw / math.sqrt(raw * raw + 4),
        positive=positive + max(emoji, 0.0),
        negative=negative + max(-emoji, 0.0),
        negation=negation_seen,
        emoji=emoji,
        question="?" in text,
        exclaim="!" in text,
        sarcasm=sarcasm,
        complaint_cues=len(COMPLAINT_CUES.findall(text)),
        requests=len(REQUEST_CUES.findall(original)),
        flags=tuple(flags(message_terms)),
        terms=message_terms,
    )


def sentiment_score(text: str, language: str) -> float:
    return analyse(text, language).score


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
