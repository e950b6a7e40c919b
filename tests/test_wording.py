"""queries.wording: one way to write numbers, so a page never says "1 referrals", "p = 0" or "16.00"."""

from __future__ import annotations

import math

import pytest

from queries import wording


def test_counts_have_thousands_separators_and_protected_ones_the_symbol():
    assert wording.count(1545) == "1,545"
    assert wording.count(16.0) == "16"
    assert wording.count(None) == "c"
    assert wording.count(math.nan) == "c"  # never "nan"


@pytest.mark.parametrize(
    ("value", "word", "expected"),
    [
        (1, "referral", "1 referral"),
        (2, "referral", "2 referrals"),
        (0, "referral", "0 referrals"),
        (1, "child", "1 child"),
        (1545, "child", "1,545 children"),
        (1, "young person", "1 young person"),
        (3, "young person", "3 young people"),
        (None, "child", "c children"),
        (1, "degree", "1 degree"),
    ],
)
def test_a_count_with_its_noun_agrees_in_number(value, word, expected):
    assert wording.counted(value, word) == expected


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.234, "23%"), (0.995, "100%"), (0, "0%"), (0.004, "0.4%"), (0.0004, "< 0.1%"), (0.05, "5%"), (None, "c")],
)
def test_percentages_are_whole_unless_small(share, expected):
    assert wording.percent(share) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [(6.6e-24, "< 0.001"), (0.0, "< 0.001"), (0.00099, "< 0.001"), (0.0042, "0.004"), (0.028, "0.03"), (0.41, "0.41")],
)
def test_p_values_are_never_zero_or_scientific(p, expected):
    assert wording.p_value(p) == expected


def test_p_values_in_a_sentence():
    assert wording.p_text(3.4e-22) == "p < 0.001"
    assert wording.p_text(0.19) == "p = 0.19"


def test_money_and_measures():
    assert wording.money(16720.0) == "£16,720"
    assert wording.number(16.0, 0) == "16"
    assert wording.number(2.345, 1) == "2.3"
    assert wording.number(None) == "c"
