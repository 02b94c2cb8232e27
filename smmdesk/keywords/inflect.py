"""Grammar for generated queries: a noun phrase put in the case a preposition needs, per language.

Russian (pymorphy3). A phrase is adjectives + a head noun + an optional tail ("стрижка для ребёнка",
"причёска на свадьбу"). The head is the first noun that can be nominative; the adjectives before it
and right after it ("стрижка мужская") take its gender, number and (in the accusative) animacy, so they
agree; the tail is left as it is.
Words pymorphy3 cannot inflect (indeclinable "метро", unknown names) stay as written. The case of
each word's first letter is kept ("Ленинский район" → "Ленинском районе").
Prepositions take their long form where Russian needs it: "во" before в/ф + consonant ("во Владимире",
"во Франции") and before "мне"/"всём"…; "об" before a vowel ("об укладке"); "со" before с/з/ш/ж +
consonant ("со стрижкой") and "мной"; "ко" before "мне"/"всем".

Slovak (rules; simplemma only tells us the dictionary form). Locative singular after "v"/"na":
- feminine -a: hard stem → -e ("Bratislava" → "Bratislave", "Petržalka" → "Petržalke"), soft stem
  (c, č, š, ž, j, ď, ť, ň, dz before -a) → -i ("ulica" → "ulici");
- masculine ending in a consonant: velar k/g/h/ch → -u ("Kežmarok" → "Kežmarku", with the fleeting
  -ok → -ku), -ec → -ci ("Lučenec" → "Lučenci"), other soft consonants → -i, the rest → -e
  ("Ružinov" → "Ružinove");
- neuter -o → -e, or -u after a velar ("Mesto" → "Meste", "Slovensko" → "Slovensku"); -e → -i;
  -ie → -í;
- plural -ce/-ice → -ciach ("Košice" → "Košiciach"), other -e → -iach, -y → -ách ("Tatry" → "Tatrách");
- adjectives before the noun: -ý/-é/-í → -om ("Staré" → "Starom"), -á → -ej, possessive -ova → -ovej,
  -ov → -ovom, plural -é before a plural noun → -ých;
- known irregular nouns in IRREGULAR_SK ("Ves" → "Vsi": "v Karlovej Vsi").
Genitive singular: feminine -a → -y (hard) / -e (soft) ("Bratislava" → "Bratislavy"); masculine
place names (capitalised) → -a ("Ružinov" → "Ružinova"), common nouns → -u ("strih" → "strihu"), -ok →
-ku; neuter -o → -a; plural -ice → -íc
("Košice" → "Košíc"); adjectives -ý/-é → -ého, -á → -ej. "v" becomes "vo" before v/f ("vo Viedni").

A district of a city: Russian puts the city in the genitive ("в Ленинском районе Оренбурга"), Slovak
both in the locative ("v Petržalke v Bratislave").

English needs no case: "in Leninsky district Orenburg". Russian place names are transliterated for
English queries (a simple BGN-like scheme, "-ский" → "-sky").
"""

from __future__ import annotations

import re
from functools import lru_cache

from smmdesk.nlp.lemmas import _morph

RU_CASES = {"nomn", "gent", "datv", "accs", "ablt", "loct"}
RU_VOWELS = "аеёиоуыэюя"
RU_CONSONANTS = "бвгджзйклмнпрстфхцчшщ"


def _keep_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _ru_parse(word: str, pos: set[str] | None = None):
    """The parse of a word as given in the nominative (a profile writes names that way)."""
    parses = _morph().parse(word)
    for parse in parses:
        if "nomn" in parse.tag and (pos is None or parse.tag.POS in pos):
            return parse
    return parses[0]


@lru_cache(maxsize=50_000)
def ru_inflect(phrase: str, case: str) -> str:
    """A Russian noun phrase in `case` (a pymorphy3 case name: gent, datv, accs, ablt, loct)."""
    if case not in RU_CASES:
        raise ValueError(f"unknown case {case!r}")
    tokens = phrase.split()
    if case == "nomn" or not tokens:
        return phrase
    parses = [_ru_parse(token) for token in tokens]
    head = next((i for i, p in enumerate(parses) if p.tag.POS == "NOUN" and "nomn" in p.tag), None)
    if head is None:
        # No noun: an adjective on its own ("Ленинский") is inflected as a masculine adjective.
        head = len(tokens) - 1
    noun = parses[head]
    out = list(tokens)
    inflected = noun.inflect({case, noun.tag.number or "sing"}) if "Fixd" not in noun.tag else None
    if inflected:
        out[head] = _keep_case(tokens[head], inflected.word)
    # Adjectives agree before the noun and right after it ("стрижка мужская" → "стрижку мужскую").
    after = head + 1
    while after < len(tokens) and _ru_parse(tokens[after], {"ADJF", "PRTF"}).tag.POS in {"ADJF", "PRTF"}:
        after += 1
    for i in [*range(head), *range(head + 1, after)]:
        adjective = _ru_parse(tokens[i], {"ADJF", "PRTF", "NUMR"})
        if adjective.tag.POS not in {"ADJF", "PRTF"}:
            continue
        wanted = {case}
        if noun.tag.number == "plur":
            wanted.add("plur")
        else:
            wanted |= {"sing", noun.tag.gender or adjective.tag.gender or "masc"}
        if case == "accs" and (noun.tag.gender == "masc" or noun.tag.number == "plur"):
            wanted.add(noun.tag.animacy or "inan")
        form = adjective.inflect(wanted)
        if form:
            out[i] = _keep_case(tokens[i], form.word)
    return " ".join(out)


# Nominative endings of a Russian adjective by the masculine one: feminine, neuter, plural.
RU_ADJECTIVE_ENDINGS = {
    "ый": ("ая", "ое", "ые"),
    "ой": ("ая", "ое", "ые"),
    "кий": ("кая", "кое", "кие"),
    "гий": ("гая", "гое", "гие"),
    "хий": ("хая", "хое", "хие"),
    "ий": ("ая", "ее", "ие"),
}


def ru_agree(adjective: str, phrase: str) -> str:
    """A masculine adjective in the gender and number of the phrase's head noun ("лучший" →
    "лучшая стрижка"); by endings, since pymorphy3 turns superlatives into "наи-" forms."""
    head = next((p for p in map(_ru_parse, phrase.split()) if p.tag.POS == "NOUN"), None)
    if head is None or (head.tag.gender == "masc" and head.tag.number != "plur"):
        return adjective
    for masculine, forms in RU_ADJECTIVE_ENDINGS.items():
        if adjective.endswith(masculine):
            index = 2 if head.tag.number == "plur" else {"femn": 0, "neut": 1}.get(head.tag.gender, -1)
            if index < 0:
                return adjective
            return adjective[: -len(masculine)] + forms[index]
    return adjective


def ru_preposition(preposition: str, following: str) -> str:
    """The form of в/о/с/к a Russian word needs ("во вторник", "об укладке", "со стрижкой")."""
    word = following.casefold()
    base = preposition.casefold()
    if base in ("в", "во"):
        long = word in ("мне", "мной", "всём", "всем", "всех", "все", "всё", "многом") or (
            len(word) > 1 and word[0] in "вф" and word[1] in RU_CONSONANTS
        )
        return "во" if long else "в"
    if base in ("о", "об", "обо"):
        if word in ("мне", "всём", "всех", "всем", "всё"):
            return "обо"
        return "об" if word[:1] in "аоуэи" else "о"
    if base in ("с", "со"):
        long = word in ("мной", "мною", "всеми", "всем") or (
            len(word) > 1 and word[0] in "сзшж" and word[1] in RU_CONSONANTS
        )
        return "со" if long else "с"
    if base in ("к", "ко"):
        return "ко" if word in ("мне", "всем", "всему") else "к"
    return preposition


def ru_with(preposition: str, phrase: str, case: str) -> str:
    """Preposition + phrase in `case`, the preposition in the form the next word needs."""
    inflected = ru_inflect(phrase, case)
    return f"{ru_preposition(preposition, inflected.split()[0])} {inflected}"


def ru_district(name: str) -> str:
    """A district as people write it: an adjective alone ("Ленинский") becomes "Ленинский район"."""
    tokens = name.split()
    if len(tokens) == 1 and _ru_parse(tokens[0], {"ADJF"}).tag.POS == "ADJF":
        return f"{name} район"
    return name


def ru_in_district(district: str, city: str) -> str:
    """The district in the locative, the city it belongs to in the genitive: "в Ленинском районе
    Оренбурга". `district` as ru_district gives it."""
    return f"{ru_with('в', district, 'loct')} {ru_inflect(city, 'gent')}"


# --- Slovak ---------------------------------------------------------------------------------------

SK_SOFT = ("dz", "c", "č", "š", "ž", "j", "ď", "ť", "ň", "ľ")
# Before -i these letters lose the caron: "i" already softens them (ň + i → "ni").
SK_PLAIN = str.maketrans("ďťňľ", "dtnl")
SK_VELAR = ("ch", "k", "g", "h")
# Nouns whose stem changes, as (nominative → locative, genitive), lower case.
IRREGULAR_SK = {
    "ves": ("vsi", "vsi"),
    "viedeň": ("viedni", "viedne"),
    "mesto": ("meste", "mesta"),
    "dom": ("dome", "domu"),
}


def _ends(word: str, endings) -> bool:
    return any(word.endswith(e) for e in endings)


def _sk_noun(word: str, case: str) -> str:
    low = word.casefold()
    proper = word[:1].isupper()
    if low in IRREGULAR_SK:
        return IRREGULAR_SK[low][0 if case == "loc" else 1]
    if case == "loc":
        if low.endswith("ice") or low.endswith("ce"):
            return low[:-1] + "iach"
        if low.endswith("ie"):
            return low[:-2] + "í"
        if low.endswith("y"):
            return low[:-1] + "ách"
        if low.endswith("e"):
            return low[:-1] + "iach"
        if low.endswith("a"):
            return low[:-1] + ("i" if _ends(low[:-1], SK_SOFT) else "e")
        if low.endswith("o"):
            return low[:-1] + ("u" if _ends(low[:-1], SK_VELAR) else "e")
        if low.endswith("ok"):
            return low[:-2] + "ku"
        if low.endswith("ec"):
            return low[:-2] + "ci"
        if _ends(low, SK_VELAR):
            return low + "u"
        if _ends(low, SK_SOFT):
            return low[:-1] + low[-1].translate(SK_PLAIN) + "i"
        return low + "e"
    if low.endswith("ice"):
        return low[:-3] + "íc"
    if low.endswith("y") or low.endswith("e"):
        return low  # plural genitives are too irregular to guess; the nominative reads acceptably
    if low.endswith("a"):
        return low[:-1] + ("e" if _ends(low[:-1], SK_SOFT) else "y")
    if low.endswith("o"):
        return low[:-1] + "a"
    if low.endswith("ok"):
        return low[:-2] + "ku"
    if low.endswith("ec"):
        return low[:-2] + "ca"
    # Masculine inanimate: place names take -a ("Ružinova", "Prešova"), things mostly -u ("strihu").
    return low + ("a" if proper else "u")


def _sk_adjective(word: str, case: str, plural: bool) -> str | None:
    """The adjective in `case`, or None when the word is not an adjective. Short endings (-y, -a, -e
    after a long syllable, "dámsky") stay short by the rhythmic law: "dámskom", "dámskeho"."""
    low = word.casefold()
    if low.endswith(("ova", "ina")):  # possessive: "Karlova" → "Karlovej"
        return low[:-1] + "ej"
    if low.endswith(("ov", "in")):
        return low + ("om" if case == "loc" else "a")
    if low.endswith("ia") or low.endswith(("á", "a")):
        return low[: -2 if low.endswith("ia") else -1] + "ej"
    long = low.endswith(("ý", "é", "í"))
    if not (long or low.endswith(("y", "e"))):
        return None
    if plural and low.endswith(("é", "e")):
        return low[:-1] + ("ých" if long else "ych")
    if case == "loc":
        return low[:-1] + "om"
    if low.endswith("í"):
        return low[:-1] + "ieho"
    return low[:-1] + ("ého" if long else "eho")


SK_PREPOSITIONS = frozenset("pre na s so z zo do po pri v vo k ku od za o".split())


@lru_cache(maxsize=50_000)
def sk_inflect(phrase: str, case: str) -> str:
    """A Slovak noun phrase (adjectives + noun [+ a prepositional tail]) in the locative ("loc") or
    genitive ("gen"): "dámsky strih" → "dámskom strihu", "strih pre ženy" → "strihu pre ženy"."""
    if case not in ("loc", "gen"):
        raise ValueError(f"unknown case {case!r}")
    tokens = phrase.split()
    tail = next((i for i, token in enumerate(tokens) if i and token.casefold() in SK_PREPOSITIONS), None)
    if tail is not None:
        return " ".join([sk_inflect(" ".join(tokens[:tail]), case), *tokens[tail:]])
    if not tokens:
        return phrase
    noun = tokens[-1]
    plural = noun.casefold().endswith(("ice", "ce", "y")) and not noun.casefold().endswith("ý")
    out = [_keep_case(noun, _sk_noun(noun, case))]
    for token in reversed(tokens[:-1]):
        form = _sk_adjective(token, case, plural)
        out.insert(0, _keep_case(token, form) if form else token)
    return " ".join(out)


def sk_agree(adjective: str, phrase: str) -> str:
    """A hard adjective in the nominative ("najlepší") agreeing with the phrase's gender."""
    first = phrase.split()[0].casefold() if phrase.split() else ""
    stem = adjective[:-1]
    if first.endswith(("á", "ia")) or (first.endswith("a") and not first.endswith(("ova", "ina"))):
        return stem + ("ia" if stem.endswith(("š", "č", "ž", "j")) else "á")
    if first.endswith(("é", "ie", "o")):
        return stem + ("ie" if stem.endswith(("š", "č", "ž", "j")) else "é")
    return adjective


def sk_preposition(preposition: str, following: str) -> str:
    word = following.casefold()
    base = preposition.casefold()
    if base in ("v", "vo"):
        return "vo" if word[:1] in "vf" else "v"
    if base in ("s", "so"):
        return "so" if word[:1] in "szšž" else "s"
    if base in ("k", "ku"):
        return "ku" if word[:1] in "kg" else "k"
    if base in ("z", "zo"):
        return "zo" if word[:1] in "szšž" else "z"
    return preposition


def sk_with(preposition: str, phrase: str, case: str = "loc") -> str:
    inflected = sk_inflect(phrase, case)
    return f"{sk_preposition(preposition, inflected)} {inflected}"


def sk_in_district(district: str, city: str) -> str:
    """Both places in the locative, each with its own "v": "v Petržalke v Bratislave". A nominative
    city after a locative district ("v Petržalke Bratislava") reads as two queries glued together."""
    return f"{sk_with('v', district)} {sk_with('v', city)}"


# --- English --------------------------------------------------------------------------------------

TRANSLIT = dict(
    zip(
        "абвгдезийклмнопрстуфхцчшщъыьэюяё",
        "a b v g d e z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya yo".split(),
        strict=True,
    )
)
TRANSLIT["ж"] = "zh"
TRANSLIT["ъ"] = TRANSLIT["ь"] = ""


def _translit_word(word: str) -> str:
    low = word.casefold()
    for ending, latin in (("ский", "sky"), ("цкий", "tsky"), ("ый", "y"), ("ий", "y")):
        if low.endswith(ending):
            return _keep_case(word, _translit_word(low[: -len(ending)]) + latin)
    out = []
    for i, letter in enumerate(low):
        if letter == "е" and (i == 0 or low[i - 1] in RU_VOWELS + "ъь"):
            out.append("ye")
        else:
            out.append(TRANSLIT.get(letter, letter))
    return _keep_case(word, "".join(out))


def transliterate(text: str) -> str:
    """Russian place names in Latin letters ("Ленинский" → "Leninsky", "Оренбург" → "Orenburg")."""
    return re.sub(r"[А-Яа-яЁё]+", lambda m: _translit_word(m.group(0)), text)


def en_district(name: str) -> str:
    """A Russian adjectival district in English ("Ленинский" → "Leninsky district")."""
    if re.search(r"[А-Яа-яЁё]", name):
        russian = ru_district(name)
        if russian.endswith(" район"):
            return f"{transliterate(russian[: -len(' район')])} district"
        return transliterate(russian)
    return name


def en_place(name: str) -> str:
    return transliterate(name)


def en_in_district(district: str, city: str) -> str:
    """The way people type it: "in Leninsky district Orenburg". Not "…district, Orenburg": Google Ads
    refuses a comma in a keyword, and these queries become the keywords of ads campaigns."""
    return f"in {district} {city}"
