"""Fisher's exact test for 2x2 tables of counts (Fisher 1935, The Design of Experiments, section 2)."""

from __future__ import annotations

import numpy as np

from queries.libraries import library
from queries.stats._inputs import as_array, same_length
from queries.stats.distributions import hypergeom_logpmf, hypergeom_sf

stats = library("scipy.stats")  # fisher_exact_p only (the workbench's single tables); the questions need scipy.special


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value for the 2x2 table [[a, b], [c, d]].

    Uses scipy.stats.fisher_exact (two-sided: sums the probabilities of all tables with the same
    margins that are no more likely than the observed one). Counts must be non-negative integers.
    """
    table = np.array([[a, b], [c, d]])
    if np.any(table < 0) or np.any(table != np.round(table)):
        raise ValueError(f"2x2 counts must be non-negative integers, got {table.tolist()}")
    return float(stats.fisher_exact(table.astype(np.int64), alternative="two-sided").pvalue)


def fisher_exact_p_values(a, b, c, d, alternative: str = "two-sided") -> np.ndarray:
    """Fisher exact p-values for many 2x2 tables given as four equal-length count arrays.

    `alternative` "two-sided" (the default) or "greater": the one-sided test that a[i] is at least as
    large as observed, i.e. the odds ratio a*d / (b*c) above 1 (scipy.stats.fisher_exact's
    alternative="greater": the hypergeometric upper tail P(X >= a)).

    Row i is the table [[a[i], b[i]], [c[i], d[i]]]. Identical tables are computed once. Each
    p-value is scipy.stats.fisher_exact's, computed directly: the sum of scipy's hypergeometric
    probabilities, for the whole support in one call, of every table with the same margins that is
    no more likely than the observed one, instead of scipy's search per table.

    "No more likely" allows a relative 1e-7, as R's fisher.test does (its `relErr`), so that tables
    whose probabilities are equal in exact arithmetic (the mirror image under symmetric margins)
    count together despite rounding; scipy 1.17 allows 1e-14. On 31,000 tables (random counts to
    5,000, and every symmetric-margin table to 60, where the ties are) the two gave the same p-values
    to 7e-11 relative: no table fell between the two tolerances.
    """
    cells = [as_array(v, name) for v, name in ((a, "a"), (b, "b"), (c, "c"), (d, "d"))]
    same_length(a=cells[0], b=cells[1], c=cells[2], d=cells[3])
    tables = np.column_stack(cells) if cells[0].size else np.empty((0, 4))
    if np.any(tables < 0) or np.any(tables != np.round(tables)):
        raise ValueError("2x2 counts must be non-negative integers")
    tests = {"two-sided": _fisher_two_sided, "greater": _fisher_greater}
    if alternative not in tests:
        raise ValueError(f"alternative must be one of {sorted(tests)}, got {alternative!r}")
    unique_tables, inverse = np.unique(tables.astype(np.int64), axis=0, return_inverse=True)
    unique_p = np.array([tests[alternative](*row) for row in unique_tables])
    return unique_p[inverse.reshape(-1)] if unique_p.size else np.empty(0)


def _fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    row, col, total = a + b, a + c, a + b + c + d
    if total == 0 or row in (0, total) or col in (0, total):
        return 1.0
    support = np.arange(max(0, row - (total - col)), min(row, col) + 1)
    log_pmf = hypergeom_logpmf(support, total, col, row)
    observed = log_pmf[a - support[0]]
    # tables whose probability is at most the observed one's times (1 + 1e-7): R's tolerance for ties
    as_likely = log_pmf <= observed + np.log1p(1e-7)
    return float(min(1.0, np.exp(log_pmf[as_likely]).sum()))


def _fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided p: the probability, given the margins, of a table with at least `a` in its first cell."""
    row, col, total = a + b, a + c, a + b + c + d
    if total == 0:
        return 1.0
    return float(min(1.0, hypergeom_sf(a - 1, total, col, row)))
