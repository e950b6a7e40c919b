"""Drawing an audit's sample: proportional allocation, reproducible, a simple random sample in each stratum."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from workbench.sampling import SampleError, allocate, draw_key, draw_sample


def test_allocation_is_proportional_by_largest_remainder():
    # 40 of 557: shares 40*76/557 = 5.46, 12.64, 11.99, 9.34 and 0.57; the "under 1" stratum is raised
    # to its minimum of 2, the others get their whole parts 5 + 12 + 11 + 9, so 39 are placed; the one
    # left goes to the largest remainder: 16+ (0.99) before 10-15 (0.64), 1-4 (0.46) and 5-9 (0.34).
    sizes = {"1-4": 76, "10-15": 176, "16+": 167, "5-9": 130, "under 1": 8}
    assert allocate(sizes, 40) == {"1-4": 5, "10-15": 12, "16+": 12, "5-9": 9, "under 1": 2}
    assert allocate({"F": 15, "M": 15}, 10) == {"F": 5, "M": 5}
    assert allocate({"a": 1, "b": 99}, 10) == {"a": 1, "b": 9}  # a stratum of one: all of it, no more


def test_a_sample_as_large_as_the_cohort_takes_everyone():
    assert allocate({"F": 3, "M": 4}, 10) == {"F": 3, "M": 4}


def test_too_many_strata_for_the_size_is_refused_plainly():
    with pytest.raises(SampleError, match="too small for 3 strata"):
        allocate({"a": 10, "b": 10, "c": 10}, 5)
    with pytest.raises(SampleError, match="no children"):
        allocate({}, 5)
    with pytest.raises(SampleError, match="at least 1"):
        allocate({"a": 10}, 0)


def members(n: int = 60) -> list[tuple[str, str]]:
    return [(f"C{i:03d}", "F" if i % 3 else "M") for i in range(n)]


def test_same_seed_same_children_whatever_the_row_order():
    cohort = members()
    shuffled = cohort[:]
    random.Random(5).shuffle(shuffled)
    assert draw_sample(cohort, 12, seed=1) == draw_sample(shuffled, 12, seed=1)
    assert draw_sample(cohort, 12, seed=1)[1] != draw_sample(cohort, 12, seed=2)[1]


def test_sample_is_proportional_numbered_in_draw_order_and_records_the_strata():
    strata, sample = draw_sample(members(), 12, seed=3)
    assert strata == {"F": (40, 8), "M": (20, 4)}
    assert Counter(c.stratum for c in sample) == {"F": 8, "M": 4}
    assert [c.sample_order for c in sample] == list(range(1, 13))
    keys = [draw_key(3, c.child_id) for c in sample]
    assert keys == sorted(keys)  # reading order is the random draw order across strata


def test_a_child_joining_the_cohort_changes_the_sample_by_at_most_that_child():
    cohort = [(f"C{i:03d}", "all") for i in range(50)]
    before = {c.child_id for c in draw_sample(cohort, 10, seed=9)[1]}
    after = {c.child_id for c in draw_sample([*cohort, ("C999", "all")], 10, seed=9)[1]}
    assert len(before - after) <= 1 and after - before <= {"C999"}


def test_a_child_listed_twice_is_refused():
    with pytest.raises(SampleError, match="twice"):
        draw_sample([("C1", "all"), ("C1", "all"), ("C2", "all")], 1, seed=1)


def test_every_child_of_a_stratum_is_equally_likely_to_be_drawn():
    """Over 2000 seeds each child of a stratum is drawn n_h / N_h of the time (a simple random sample)."""
    cohort = members(30)  # 20 girls (F), 10 boys (M); 6 drawn: 4 girls (1 in 5), 2 boys (1 in 5)
    drawn = Counter(c.child_id for seed in range(2000) for c in draw_sample(cohort, 6, seed)[1])
    shares = np.array([drawn[child] / 2000 for child, _ in cohort])
    assert np.all(np.abs(shares - 0.2) < 0.035), shares  # 4 standard errors of sqrt(0.2 * 0.8 / 2000)
