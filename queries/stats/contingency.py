"""Fisher's exact test for 2x2 tables of counts (Fisher 1935, The Design of Experiments, section 2)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from queries.stats._inputs import as_array, same_length


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value for the 2x2 table [[a, b], [c, d]].

    Uses scipy.stats.fisher_exact (two-sided: sums the probabilities of all tables with the same
    margins that are no more likely than the observed one). Counts must be non-negative integers.
    """
    table = np.array([[a, b], [c, d]])
    if np.any(table < 0) or np.any(table != np.round(table)):
        raise ValueError(f"2x2 counts must be non-negative integers, got {table.tolist()}")
    return float(stats.fisher_exact(table.astype(np.int64), alternative="two-sided").pvalue)


def fisher_exact_p_values(a, b, c, d) -> np.ndarray:
    """Two-sided Fisher exact p-values for many 2x2 tables given as four equal-length count arrays.

    Row i is the table [[a[i], b[i]], [c[i], d[i]]]. Identical tables are computed once.
    """
    cells = [as_array(v, name) for v, name in ((a, "a"), (b, "b"), (c, "c"), (d, "d"))]
    same_length(a=cells[0], b=cells[1], c=cells[2], d=cells[3])
    tables = np.column_stack(cells) if cells[0].size else np.empty((0, 4))
    unique_tables, inverse = np.unique(tables, axis=0, return_inverse=True)
    unique_p = np.array([fisher_exact_p(*row) for row in unique_tables])
    return unique_p[inverse.reshape(-1)] if unique_p.size else np.empty(0)
