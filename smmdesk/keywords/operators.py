"""Yandex Wordstat query operators, parsed into a structure.

- `"женская стрижка"` — exact phrase: these words only (any form, any order), no extra words;
- `!стрижка` — this word in exactly this form;
- `+в` — a stop word that must be there (Wordstat ignores prepositions otherwise);
- `-бесплатно` — a minus word: queries with it are not counted (`-!слово`, `-"фраза"` work too);
- `[москва париж]` — these words in this order;
- combinations: `"[!купить !билет]"`, `стрижка -бесплатно -курсы`, `[из !москвы в !париж] +на`.

`parse` never raises: stray quotes or brackets are closed at the end of the text. `Query.text` is the
plain query for storage (the plus words' words kept, minus words dropped, no operator characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(r'-(?=["\[])|"|\[|\]|[-+!]*[^\s"\[\]]+')
WORD_CHARS = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Word:
    text: str
    fixed_form: bool = False  # !word
    required: bool = False  # +word
    ordered: bool = False  # inside [...]


@dataclass(frozen=True)
class Query:
    words: tuple[Word, ...]
    minus: tuple[str, ...] = ()
    exact: bool = False  # "..."
    ordered: bool = False  # some words are inside [...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def has_operators(self) -> bool:
        return bool(
            self.minus
            or self.exact
            or self.ordered
            or any(word.fixed_form or word.required for word in self.words)
        )


def _clean(token: str) -> str:
    return " ".join(WORD_CHARS.findall(token)).casefold()


def parse(raw: str) -> Query:
    words: list[Word] = []
    minus: list[str] = []
    exact = ordered = False
    in_quotes = in_brackets = False
    # A minus sign right before a quote or bracket applies to the whole group.
    minus_group = False
    group_words: list[str] = []
    for token in TOKEN.findall(raw or ""):
        if token == '"':
            if in_quotes and minus_group:
                minus.append(" ".join(group_words))
                minus_group, group_words = False, []
            elif not in_quotes:
                exact = exact or not minus_group
            in_quotes = not in_quotes
            continue
        if token in ("[", "]"):
            opening = token == "["
            if not opening and minus_group and not in_quotes:
                minus.append(" ".join(group_words))
                minus_group, group_words = False, []
            in_brackets = opening
            ordered = ordered or (opening and not minus_group)
            continue
        prefix = re.match(r"[-+!]*", token).group(0)
        text = _clean(token[len(prefix) :])
        if not text:
            if "-" in prefix and token.endswith("-"):
                minus_group = True
            continue
        if "-" in prefix:
            minus.append(text)
            continue
        if minus_group:
            group_words.append(text)
            continue
        for part in text.split():
            words.append(Word(part, fixed_form="!" in prefix, required="+" in prefix, ordered=in_brackets))
    if minus_group and group_words:
        minus.append(" ".join(group_words))
    return Query(tuple(words), tuple(dict.fromkeys(minus)), exact, ordered)


def plain(raw: str) -> str:
    """The query without operators or minus words: what is stored as the keyword."""
    return parse(raw).text
