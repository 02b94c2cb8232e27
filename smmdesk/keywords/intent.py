"""What a searcher wants: commercial, local, navigational or informational.

Rules first, by lemma, per language (the word lists below). They are checked in this order and the first
that matches decides:

1. navigational — the query names the business itself (its name, passed as `brand`);
2. informational — a question word ("как", "how", "ako") or a know-how word ("своими руками", "ideas",
   "návod"): a question stays informational even when it mentions a price ("how much does ... cost" is
   the exception: "сколько стоит" / "how much" are commercial words);
3. commercial — price, buy, order, book, cheap, discount, reviews, and "best" in any form (SUPERLATIVES:
   the lemmatisers turn "лучшая", "best", "najlepšia" into хороший / good / dobrý, so these are matched
   on the words as written, and a plain "хороший" / "good" / "dobrý" stays out);
4. local — a place: "рядом", "near me", "blízko", a district or street word, a toponym (pymorphy3 tags
   Russian city names `Geox`) or a place the caller names (`places`: the profile's city, districts,
   landmarks);
5. otherwise undecided.

An undecided query is a bare service or topic ("мужская стрижка", "шампунь от перхоти"). `classify` calls
it commercial: for a local business a bare service name is someone choosing where to buy it.
`classify_many` does better for a batch: it embeds the queries (e5) and trains a small logistic
regression on the batch's rule-decided queries, then lets it decide the undecided ones, so "шампунь от
перхоти" follows "какой шампунь лучше" rather than the default. It only does so when the rules decided at
least MIN_TRAINING queries in at least two intents; otherwise the default stands.

Where each is used: a query is stored with `classify` when it is generated, imported or added by hand
(one at a time, no model). Re-clustering (clusters.recluster: the Re-cluster button, the API, `smmdesk
keywords generate`) then re-decides every free query of a language with `classify_many` over that
language's queries, whenever it clusters them with embeddings; the lemma-only path (the demo,
`use_embeddings=False`) and batches too big for embeddings keep the rules and the default. The `smmdesk
keywords cluster` command uses `classify_many` on its input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from smmdesk.keywords.models import Intent
from smmdesk.nlp.lemmas import lemma, words


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


COMMERCIAL = {
    "ru": _words("""
    цена стоимость стоить сколько прайс купить заказать заказ записаться запись недорого недорогой
    дешево дешёвый дешевый скидка акция отзыв салон услуга мастер онлайн сертификат
    бронь забронировать
"""),
    "en": _words("""
    price prices pricing cost buy order book booking appointment cheap affordable discount
    deal offer review reviews top salon service hire much
"""),
    "sk": _words("""
    cena cenník koľko stáť kúpiť objednať objednávka rezervácia rezervovať lacný lacno zľava
    akcia recenzia salón služba
"""),
}
LOCAL = {
    "ru": _words("""
    рядом около возле недалеко поблизости район улица ул проспект метро адрес остановка
    микрорайон центр город
"""),
    "en": _words("near nearby me district street address downtown around local city"),
    "sk": _words("blízko neďaleko okolie okres ulica adresa centrum mesto pri"),
}
INFORMATIONAL = {
    "ru": _words("""
    как что почему зачем какой когда чем можно ли сам свой руками
    рука идея уход ухаживать совет фото видео самостоятельно домашний условие выбрать своими
    значит отличаться вред польза нужно
"""),
    "en": _words("""
    how what why when which can should idea ideas care tip tips
    guide diy home vs meaning choose photo video yourself tutorial
"""),
    "sk": _words("""
    ako čo prečo kedy ktorý aký môcť nápad starostlivosť tip návod doma
    sám vybrať foto video postup
"""),
}
# "Best" in every form, matched on the word as written: its lemma is the positive degree (лучший →
# хороший), and "хорошая стрижка" is no more commercial than "стрижка". The Russian endings leave out the
# comparative "лучше" ("что лучше, кератин или ботокс" compares, it does not shop).
SUPERLATIVES = {
    "ru": re.compile(r"(?:наи)?лучш(?:ий|ая|ее|ие|его|ей|ему|им|ем|ую|их|ими|ею)"),
    "en": re.compile(r"best"),
    "sk": re.compile(r"najlepš\w*"),
}
# "сколько стоит" / "how much" asks a price, not know-how.
PRICE_QUESTIONS = {"ru": {"сколько"}, "en": {"much"}, "sk": {"koľko"}}

MIN_TRAINING = 12


def _lemmas(query: str, language: str) -> list[str]:
    return [lemma(word, language) for word in words(query)]


def is_superlative(word: str, language: str) -> bool:
    pattern = SUPERLATIVES.get(language)
    return pattern is not None and pattern.fullmatch(word.casefold().replace("ё", "е")) is not None


def _is_toponym(word: str, language: str) -> bool:
    if language != "ru":
        return False
    from smmdesk.nlp.lemmas import _morph

    return "Geox" in _morph().parse(word.casefold())[0].tag


def _place_lemmas(places: Iterable[str], language: str) -> set[str]:
    found: set[str] = set()
    for place in places:
        found.update(_lemmas(place, language))
    return found


def rule(query: str, language: str, brand: Sequence[str] = (), places: Sequence[str] = ()) -> Intent | None:
    """The intent the rules give, or None when no rule matches."""
    language = language if language in COMMERCIAL else "en"
    lemmas = _lemmas(query, language)
    if not lemmas:
        return None
    lemma_set = set(lemmas)
    for name in brand:
        name_lemmas = set(_lemmas(name, language))
        if name_lemmas and name_lemmas <= lemma_set:
            return Intent.NAVIGATIONAL
    asks_price = bool(lemma_set & PRICE_QUESTIONS[language])
    if lemma_set & INFORMATIONAL[language] and not asks_price:
        return Intent.INFORMATIONAL
    if lemma_set & COMMERCIAL[language] or any(is_superlative(word, language) for word in words(query)):
        return Intent.COMMERCIAL
    if lemma_set & (LOCAL[language] | _place_lemmas(places, language)):
        return Intent.LOCAL
    if any(_is_toponym(word, language) for word in words(query)):
        return Intent.LOCAL
    return None


def classify(query: str, language: str, brand: Sequence[str] = (), places: Sequence[str] = ()) -> Intent:
    return rule(query, language, brand, places) or Intent.COMMERCIAL


def classify_many(
    queries: Sequence[str],
    language: str,
    brand: Sequence[str] = (),
    places: Sequence[str] = (),
    use_embeddings: bool = True,
) -> list[Intent]:
    decided = [rule(query, language, brand, places) for query in queries]
    undecided = [i for i, intent in enumerate(decided) if intent is None]
    known = [i for i, intent in enumerate(decided) if intent is not None]
    if use_embeddings and undecided and len(known) >= MIN_TRAINING:
        labels = [decided[i] for i in known]
        if len(set(labels)) >= 2:
            guesses = _learned(queries, known, labels, undecided)
            for i, guess in zip(undecided, guesses, strict=True):
                decided[i] = guess
    return [intent or Intent.COMMERCIAL for intent in decided]


def _learned(queries, known, labels, undecided) -> list[Intent]:
    from sklearn.linear_model import LogisticRegression

    from smmdesk.nlp.embed import embed

    vectors = embed([queries[i] for i in known + undecided])
    model = LogisticRegression(max_iter=500, class_weight="balanced")
    model.fit(vectors[: len(known)], [str(label) for label in labels])
    return [Intent(label) for label in model.predict(vectors[len(known) :])]
