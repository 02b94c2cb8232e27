"""The "comment matches" condition: a plain piece of text or a regular expression. Pure Python.

A regular expression is a program run on text strangers write, so a careless one (`(a+)+$`) could take
minutes on one comment. Instead of a timeout, only patterns whose backtracking is bounded are accepted,
and only the first TEXT_LIMIT characters of a comment are searched:
- at most MAX_PATTERN characters; it must compile;
- no back-references; no repeat inside a repeat; no alternatives (|) inside a repeat (the causes of
  exponential time);
- the repeats together stay within BUDGET: each repeat counts its largest count plus one (an open-ended
  one, *, + or {n,}, counts TEXT_LIMIT + 1), multiplied. So one * or + per pattern, beside a few small
  bounded repeats (?, {0,10}); two open-ended repeats are refused (their cost grows with the cube of the
  comment's length).
Both kinds ignore case.
"""

from __future__ import annotations

import re
from collections.abc import Callable

try:  # the parser behind re.compile; re._parser since Python 3.11
    from re import _constants as sre
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older layouts
    import sre_constants as sre
    import sre_parse

MAX_PATTERN = 200
TEXT_LIMIT = 500
BUDGET = 6_000
REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
BACKREFS = {sre.GROUPREF, sre.GROUPREF_EXISTS}


class PatternError(ValueError):
    pass


def _children(op, av) -> list:
    """The sub-pattern lists directly inside one parsed item."""
    if op in REPEATS:
        return [av[2]]
    if op == sre.SUBPATTERN:
        return [av[3]]
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    if op == getattr(sre, "ATOMIC_GROUP", None):
        return [av]
    if op == sre.BRANCH:
        return list(av[1])
    return []


def _cost(items, in_repeat: bool) -> int:
    cost = 1
    for op, av in items:
        if op in BACKREFS:
            raise PatternError("back-references (\\1, (?P=name)) are not allowed")
        if op in REPEATS:
            if in_repeat:
                raise PatternError("a repeat inside a repeat is not allowed, e.g. (a+)+")
            _low, high, body = av
            cost *= (TEXT_LIMIT if high == sre.MAXREPEAT else min(high, TEXT_LIMIT)) + 1
            cost *= _cost(body, True)
        elif op == sre.BRANCH:
            if in_repeat:
                raise PatternError("alternatives (|) inside a repeat are not allowed, e.g. (a|b)+")
            cost *= sum(_cost(branch, in_repeat) for branch in av[1])
        else:
            for child in _children(op, av):
                cost *= _cost(child, in_repeat)
        if cost > BUDGET:
            raise PatternError(
                "too many repeats: use at most one *, + or {n,} and a few small ones such as ? or {0,10}"
            )
    return cost


def validate(pattern: str, is_regex: bool) -> None:
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"at most {MAX_PATTERN} characters")
    if not is_regex or not pattern:
        return
    try:
        re.compile(pattern, re.IGNORECASE)
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error as exc:
        raise PatternError(f"not a valid regular expression: {exc.msg} at position {exc.pos}")
    except (OverflowError, RecursionError):
        raise PatternError("not a valid regular expression: too large")
    _cost(parsed, False)


def matcher(pattern: str, is_regex: bool) -> Callable[[str], bool]:
    """A test for one comment's text; the pattern must have passed validate()."""
    if not pattern:
        return lambda text: True
    if is_regex:
        compiled = re.compile(pattern, re.IGNORECASE)
        return lambda text: compiled.search((text or "")[:TEXT_LIMIT]) is not None
    needle = pattern.casefold()
    return lambda text: needle in (text or "")[:TEXT_LIMIT].casefold()
