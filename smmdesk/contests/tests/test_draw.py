"""The draw's arithmetic: same inputs, same winners; every entrant equally likely; no one twice."""

import hashlib
import hmac
from collections import Counter

import pytest
from scipy.stats import chisquare

from smmdesk.contests import draw

SEED = bytes(range(32))
LIST_HASH = hashlib.sha256(b"vk:1 Anna\nvk:2 Boris\n").hexdigest()


def test_commitment_is_the_sha256_of_the_seed_and_a_fresh_seed_is_new_each_time():
    assert draw.commitment(SEED) == hashlib.sha256(SEED).hexdigest()
    first, second = draw.new_server_seed(), draw.new_server_seed()
    assert len(first) == 32 and first != second


def test_draw_seed_joins_seed_list_hash_and_public_value_in_that_order():
    expected = hashlib.sha256(SEED + bytes.fromhex(LIST_HASH) + "лото 7".encode()).digest()
    assert draw.draw_seed(SEED, LIST_HASH, "лото 7") == expected
    assert draw.draw_seed(SEED, LIST_HASH, "лото 8") != expected
    with pytest.raises(ValueError, match="server_seed"):
        draw.draw_seed(SEED[:31], LIST_HASH, "x")
    with pytest.raises(ValueError, match="list_hash"):
        draw.draw_seed(SEED, LIST_HASH[:62], "x")


def test_candidates_are_hmac_sha256_of_a_counter():
    stream = draw.candidates(SEED)
    for counter in range(3):
        block = hmac.new(SEED, counter.to_bytes(8, "big"), hashlib.sha256).digest()
        assert next(stream) == int.from_bytes(block, "big")


def test_same_inputs_give_the_same_winners_and_other_inputs_others():
    seed = draw.draw_seed(SEED, LIST_HASH, "04 11 17")
    first = draw.pick(seed, 50, 5)
    assert first == draw.pick(seed, 50, 5)
    assert len(set(first)) == 5 and all(0 <= p < 50 for p in first)
    other = draw.pick(draw.draw_seed(SEED, LIST_HASH, "04 11 18"), 50, 5)
    assert other != first


def test_winners_are_drawn_without_replacement_down_to_the_last_entrant():
    seed = draw.draw_seed(SEED, LIST_HASH, "all")
    assert sorted(draw.pick(seed, 7, 7)) == list(range(7))


def test_rejection_sampling_skips_candidates_past_the_last_whole_multiple():
    # 3-bit candidates (0..7) for 3 entrants: 6 and 7 would favour indexes 0 and 1, so they are skipped.
    fed = iter([7, 6, 5])
    assert draw.unbiased_index(fed.__next__, 3, bits=3) == 5 % 3
    fed = iter([6, 2])
    assert draw.unbiased_index(fed.__next__, 3, bits=3) == 2
    # A size dividing 2^bits rejects nothing.
    assert draw.unbiased_index(iter([7]).__next__, 4, bits=3) == 3


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="winners"):
        draw.pick(SEED, 5, 0)
    with pytest.raises(ValueError, match="winners: 6 asked for"):
        draw.pick(SEED, 5, 6)
    with pytest.raises(ValueError, match="size"):
        draw.unbiased_index(iter([1]).__next__, 0)


def test_every_entrant_is_equally_likely_chi_square():
    """20 entrants, 20 000 draws of one winner, each with its own public value: the counts fit a uniform
    distribution (fixed inputs, so the test is deterministic)."""
    entrants, draws = 20, 20_000
    counts = Counter(
        draw.pick(draw.draw_seed(SEED, LIST_HASH, f"draw {n}"), entrants, 1)[0] for n in range(draws)
    )
    observed = [counts[i] for i in range(entrants)]
    assert sum(observed) == draws
    assert chisquare(observed).pvalue > 0.001


def test_later_winners_are_uniform_too():
    """The second winner of each draw, over the 9 entrants left, is as fair as the first."""
    entrants, draws = 10, 10_000
    firsts, seconds = Counter(), Counter()
    for n in range(draws):
        first, second = draw.pick(draw.draw_seed(SEED, LIST_HASH, f"pair {n}"), entrants, 2)
        firsts[first] += 1
        seconds[second] += 1
    assert chisquare([firsts[i] for i in range(entrants)]).pvalue > 0.001
    assert chisquare([seconds[i] for i in range(entrants)]).pvalue > 0.001
