"""Multiple-testing control: the Benjamini–Hochberg false discovery rate procedure.

Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57:289.
"""

from __future__ import annotations

import numpy as np

from queries.stats._inputs import as_array


def benjamini_hochberg(p_values) -> np.ndarray:
    """BH-adjusted p-values (q-values): q_(i) = min over j >= i of m * p_(j) / j, capped at 1.

    Benjamini & Hochberg (1995), step-up procedure written as adjusted p-values (as
    statsmodels `multipletests(method="fdr_bh")` and R `p.adjust(method="BH")`). The result is in the
    input order and monotone in p. nan p-values are left out of the count m and stay nan.
    """
    p = as_array(p_values, "p_values")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    q = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m == 0:
        return q
    order = present[np.argsort(p[present], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def bh_discoveries(p_values, alpha: float = 0.05) -> np.ndarray:
    """Boolean mask of hypotheses rejected by the BH step-up procedure at false discovery rate `alpha`.

    Equivalent to the largest k with p_(k) <= k * alpha / m, rejecting p_(1)..p_(k) (Benjamini & Hochberg 1995).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    p = as_array(p_values, "p_values")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    rejected = np.zeros(p.shape, dtype=bool)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    order = present[np.argsort(p[present], kind="stable")]
    passing = np.flatnonzero(p[order] <= np.arange(1, m + 1) * alpha / m)
    if passing.size:
        rejected[order[: passing[-1] + 1]] = True
    return rejected
