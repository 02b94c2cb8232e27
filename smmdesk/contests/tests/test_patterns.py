"""The "comment matches" condition: plain text ignoring case, or a regular expression with bounded work."""

import re
import time

import pytest

from smmdesk.contests import patterns


def test_plain_text_matches_anywhere_ignoring_case():
    match = patterns.matcher("Участвую", False)
    assert match("Я УЧАСТВУЮ!") and match("участвую") and not match("участвовал")
    assert patterns.matcher("a.b", False)("xa.bx") and not patterns.matcher("a.b", False)("axb")


def test_a_regular_expression_searches_ignoring_case():
    match = patterns.matcher(r"#конкурс\w*", True)
    assert match("Ура #КОНКУРСлокон") and not match("конкурс")


def test_an_empty_pattern_matches_everything():
    assert patterns.matcher("", True)("") and patterns.matcher("", False)("anything")


def test_only_the_first_characters_of_a_comment_are_searched():
    match = patterns.matcher("участвую", False)
    assert not match("x" * patterns.TEXT_LIMIT + "участвую")
    assert match("x" * (patterns.TEXT_LIMIT - 8) + "участвую")


@pytest.mark.parametrize(
    "pattern,message",
    [
        ("[", "not a valid regular expression: unterminated character set at position 0"),
        ("(a+)+$", "a repeat inside a repeat"),
        ("(ab|a)*c", "alternatives (|) inside a repeat"),
        (r"(\w)\1", "back-references"),
        ("a*a*b", "too many repeats"),
        (r"\w+\s+\w+", "too many repeats"),
        ("x" * 201, "at most 200 characters"),
    ],
)
def test_dangerous_or_broken_patterns_are_refused(pattern, message):
    with pytest.raises(patterns.PatternError, match=re.escape(message)):
        patterns.validate(pattern, True)


@pytest.mark.parametrize(
    "pattern", [r"#конкурс", r"участвую.*друзья", r"\d{2,4}", r"(?:да|участвую)!?", r"^\s*\+"]
)
def test_ordinary_patterns_pass(pattern):
    patterns.validate(pattern, True)


def test_plain_text_is_never_parsed_as_a_regular_expression():
    patterns.validate("(a+)+ [", False)
    assert patterns.matcher("(a+)+ [", False)("look: (A+)+ [ here")


def test_the_worst_accepted_pattern_stays_fast():
    # The bound's reason: a pattern at the edge of the budget on the worst text still takes milliseconds.
    pattern = "a{0,10}a*b"
    patterns.validate(pattern, True)
    match = patterns.matcher(pattern, True)
    start = time.perf_counter()
    for _ in range(10):
        match("a" * 5000)
    assert time.perf_counter() - start < 2.0
