"""Group queries so that one group is one landing page.

What a query is about is its *core*: its lemmas without function words, question words, and the
commercial and geographic modifiers of `intent` ("цена", "недорого", "лучший", "рядом", "Оренбург"),
which people add to any service and which therefore say nothing about which page answers it. "мужская
стрижка цена Оренбург" and "подстричься мужчине недорого" share no core lemma, though, so lemmas alone
are not enough.

Precise path (up to PRECISE_LIMIT distinct queries):
- lemma similarity: cosine of TF-IDF vectors of the core lemmas (IDF over the batch), blended
  (CHAR_WEIGHT) with the cosine of TF-IDF over character 3–5-grams of those lemmas, which joins compounds
  and derivations ("антибитум" / "битум", "автомойка" / "мойка"), and raised to CONTAINMENT when one
  core lemma set contains the other ("маникюр" ⊂ "маникюр гель лак");
- meaning similarity: cosine of e5 embeddings of the core text (the query's own words minus the
  modifiers), rescaled so that EMBED_FLOOR (what unrelated short Russian queries typically score with
  e5-small) maps to 0 and 1 stays 1: this is what puts "антибитум" with "средство от битума" and
  "стрижка" with "подстричься";
- combined: LEMMA_WEIGHT·lemma + (1 − LEMMA_WEIGHT)·meaning, then average-linkage agglomerative
  clustering on 1 − similarity, cut at THRESHOLD.
The constants were chosen on data/cluster_sample_ru.tsv (140 hand-labelled queries, 22 pages): ARI 0.75
there, against 0.47 for plain lemmatised TF-IDF + agglomerative clustering at its best threshold (0.43 at
the usual 0.3). Results change little around them: any LEMMA_WEIGHT 0.3–0.5 with THRESHOLD 0.35–0.45
scores 0.70–0.76, so they are not tuned to the last query.

Fast path (more than PRECISE_LIMIT distinct queries, or embeddings off and the batch large): queries with
the same core lemma set form a group; a group of three or more lemmas joins the biggest group whose core
is a subset of at least two of its lemmas. Linear in the number of queries (100k in seconds; the cost is
lemmatising, which is cached per word).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations

import numpy as np

from smmdesk.keywords import intent
from smmdesk.nlp.lemmas import CYRILLIC, lemma, words

PRECISE_LIMIT = 3000
EMBED_FLOOR = 0.80
LEMMA_WEIGHT = 0.4
CONTAINMENT = 0.9
THRESHOLD = 0.4
CHAR_WEIGHT = 0.5
CHAR_NGRAMS = (3, 5)

# Words that carry no topic, beyond the modifiers intent.py knows.
FILLER = {
    "ru": frozenset(
        """в во на за с со по для от до из у к о об при без под над через и или а но не ли же бы
        как что почему зачем какой когда чем где куда можно нужно сделать свой сам самостоятельно
        руками год""".split()
    ),
    "en": frozenset(
        """a an the in on at for to of from with by and or near me my i how what why when which where
        can do does is are your""".split()
    ),
    "sk": frozenset(
        """v vo na za s so z zo do od pre pri o u k ku a alebo ale sa si ako čo prečo kedy kde ktorý
        aký môcť ja môj""".split()
    ),
}
FUNCTION_TAGS = {"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "NUMR"}


@lru_cache(maxsize=200_000)
def _informative(word: str, language: str) -> str | None:
    """The word's lemma when it names the topic, else None."""
    word_lemma = lemma(word, language)
    if word_lemma in FILLER.get(language, ()) or len(word_lemma) < 2:
        return None
    modifiers = intent.COMMERCIAL.get(language, frozenset()) | intent.LOCAL.get(language, frozenset())
    if word_lemma in modifiers or intent.is_superlative(word, language):
        return None
    if language == "ru" and CYRILLIC.search(word):
        from smmdesk.nlp.lemmas import _morph

        tag = _morph().parse(word.casefold())[0].tag
        if tag.POS in FUNCTION_TAGS or "Geox" in tag:
            return None
    return word_lemma


def core(query: str, language: str) -> tuple[list[str], list[str]]:
    """(core lemmas, the core words as written)."""
    lemmas, kept = [], []
    for word in words(query):
        word_lemma = _informative(word, language)
        if word_lemma is not None:
            lemmas.append(word_lemma)
            kept.append(word.casefold())
    return lemmas, kept


def _first_appearance(labels: Sequence[int]) -> list[int]:
    renumber: dict[int, int] = {}
    return [renumber.setdefault(label, len(renumber)) for label in labels]


def spelled(query: str) -> str:
    """The query as clustering reads and embeds it: case folded, spaces collapsed."""
    return " ".join(query.casefold().split())


def embeds(distinct: int, use_embeddings: bool | None = None) -> bool:
    """Whether a batch of this many distinct queries is clustered with embeddings: only on the precise
    path, and unless the caller turned them off."""
    return distinct <= PRECISE_LIMIT and use_embeddings is not False


def cluster_queries(queries: list[str], language: str, use_embeddings: bool | None = None) -> list[int]:
    """A cluster label per query, 0..k-1 in order of first appearance; equal queries share one."""
    if not queries:
        return []
    distinct = list(dict.fromkeys(map(spelled, queries)))
    index = {text: i for i, text in enumerate(distinct)}
    cores = [core(text, language) for text in distinct]
    if len(distinct) > PRECISE_LIMIT:
        labels = _fast(cores)
    else:
        labels = _precise(distinct, cores, embeds(len(distinct), use_embeddings))
    return _first_appearance([labels[index[spelled(q)]] for q in queries])


def lemma_similarity(core_lemmas: list[list[str]]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [" ".join(lemmas) for lemmas in core_lemmas]
    whole = TfidfVectorizer(analyzer=str.split).fit_transform(texts)
    similarity = (whole @ whole.T).toarray()
    if CHAR_WEIGHT:
        # Character n-grams inside lemmas catch compounds and derivations that share a root:
        # "антибитум" / "битум", "автомойка" / "мойка", "тонировка" / "затонировать".
        parts = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS).fit_transform(texts)
        similarity = (1 - CHAR_WEIGHT) * similarity + CHAR_WEIGHT * (parts @ parts.T).toarray()
    sets = [frozenset(lemmas) for lemmas in core_lemmas]
    for i, j in zip(*np.nonzero(similarity > 0), strict=True):
        if i != j and sets[i] and sets[j] and (sets[i] <= sets[j] or sets[j] <= sets[i]):
            similarity[i, j] = max(similarity[i, j], CONTAINMENT)
    return similarity


def meaning_similarity(texts: list[str]) -> np.ndarray:
    from smmdesk.nlp.embed import embed

    vectors = embed(texts)
    cosine = vectors @ vectors.T
    return np.clip((cosine - EMBED_FLOOR) / (1 - EMBED_FLOOR), 0, 1)


def _agglomerate(similarity: np.ndarray, threshold: float) -> list[int]:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(similarity) == 1:
        return [0]
    distance = 1 - np.clip(similarity, 0, 1)
    np.fill_diagonal(distance, 0)
    tree = linkage(squareform((distance + distance.T) / 2, checks=False), method="average")
    return [int(label) for label in fcluster(tree, t=1 - threshold, criterion="distance")]


def _precise(texts: list[str], cores, use_embeddings: bool) -> list[int]:
    core_lemmas = [lemmas or [text] for text, (lemmas, _) in zip(texts, cores, strict=True)]
    similarity = lemma_similarity(core_lemmas)
    if use_embeddings:
        core_texts = [" ".join(kept) or text for text, (_, kept) in zip(texts, cores, strict=True)]
        similarity = LEMMA_WEIGHT * similarity + (1 - LEMMA_WEIGHT) * meaning_similarity(core_texts)
    return _agglomerate(similarity, THRESHOLD)


def _fast(cores) -> list[int]:
    keys = [frozenset(lemmas) for lemmas, _ in cores]
    sizes = Counter(keys)
    parent: dict[frozenset, frozenset] = {}
    for key in sorted(sizes, key=len):
        best = None
        if len(key) >= 3:
            for width in range(len(key) - 1, 1, -1):
                for subset in combinations(sorted(key), width):
                    candidate = frozenset(subset)
                    if candidate in sizes and (best is None or sizes[candidate] > sizes[best]):
                        best = candidate
                if best is not None:
                    break
        parent[key] = parent.get(best, best) if best is not None else key
    root_ids: dict[frozenset, int] = {}
    return [root_ids.setdefault(parent[key], len(root_ids)) for key in keys]


def baseline(queries: list[str], language: str, threshold: float = 0.5) -> list[int]:
    """Lemmatised TF-IDF + average-linkage agglomerative clustering: the yardstick the issue names."""
    all_lemmas = [[lemma(word, language) for word in words(q)] or [q] for q in queries]
    vocabulary: dict[str, int] = {}
    for lemmas in all_lemmas:
        for word_lemma in lemmas:
            vocabulary.setdefault(word_lemma, len(vocabulary))
    counts = np.zeros((len(queries), len(vocabulary)), dtype=np.float32)
    for row, lemmas in enumerate(all_lemmas):
        for word_lemma in lemmas:
            counts[row, vocabulary[word_lemma]] += 1
    idf = np.log((1 + len(queries)) / (1 + (counts > 0).sum(axis=0))) + 1
    vectors = counts * idf
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return _first_appearance(_agglomerate(vectors @ vectors.T, threshold))
