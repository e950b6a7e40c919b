"""A hypothesis's effect: the difference in two proportions, Newcombe's 95% interval and Fisher's p.

The cohort's children with the outcome, x1 of n1, against the comparison's, x2 of n2: the effect is
x1/n1 - x2/n2, its interval Newcombe's hybrid score interval (1998, Stat Med 17:873, method 10; from
queries/stats) and p the two-sided Fisher exact test of the 2x2 table. Either cohort empty: no effect.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from queries.stats import newcombe_difference_interval
from queries.stats.contingency import fisher_exact_p


class Effect(NamedTuple):
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None


def difference_in_proportions(x1: int, n1: int, x2: int, n2: int) -> Effect:
    """(x1/n1 - x2/n2, Newcombe's 95% low and high, two-sided Fisher p); all None when n1 or n2 is 0."""
    if n1 == 0 or n2 == 0:
        return Effect(None, None, None, None)
    diff, low, high = newcombe_difference_interval(x1, n1, x2, n2)
    p = fisher_exact_p(x1, n1 - x1, x2, n2 - x2)
    return Effect(*(None if math.isnan(v) else float(v) for v in (diff, low, high, p)))
