"""Funnel-plot control limits for proportions (Spiegelhalter 2005, Stat Med 24:1185).

Each unit (a local authority, a team) with denominator n is compared with a target proportion p0;
the limits show where a unit's observed proportion would fall with probability `level` if its true
proportion were p0.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from queries.stats._inputs import as_array, z_value


def _exact_limit(p0: float, n: np.ndarray, tail: float) -> np.ndarray:
    """Spiegelhalter (2005) Appendix A.1.1: interpolated binomial quantile (r - a) / n.

    r is the `tail` quantile of Binomial(n, p0) (smallest r with P(Y <= r) >= tail) and
    a = (P(Y <= r) - tail) / (P(Y <= r) - P(Y <= r - 1)) spreads the probability step at r linearly
    over [r - 1, r] (the quantile of Y - U, U ~ Uniform(0, 1)), so limits sit slightly low: for p0 = 0.5,
    n = 100 the 95% limits are 0.3968 and 0.5932, not symmetric about 0.5. p0 of 0 or 1 gives p0.
    """
    if p0 in (0.0, 1.0):
        return np.where(n > 0, p0, np.nan)
    r = stats.binom.ppf(tail, n, p0)
    cdf_r = stats.binom.cdf(r, n, p0)
    cdf_below = stats.binom.cdf(r - 1, n, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (cdf_r - tail) / (cdf_r - cdf_below)
        return (r - a) / n


def funnel_limits(p0: float, n_values, levels=(0.95, 0.998), method: str = "exact") -> pl.DataFrame:
    """Lower and upper funnel limits for a target proportion `p0` at each denominator in `n_values`.

    method="exact" (default): Spiegelhalter's (2005, Appendix A.1.1) interpolated exact binomial limits,
    which respect the skewness of small counts. method="normal": p0 +/- z * sqrt(p0 (1 - p0) / n).
    Both are clipped to [0, 1]; n = 0 gives nan. Returns a polars DataFrame with one row per (level, n):
    columns n, level, lower, upper, sorted by level then input order of n.
    """
    if not 0 <= p0 <= 1:
        raise ValueError(f"p0 must lie in [0, 1], got {p0}")
    if method not in ("exact", "normal"):
        raise ValueError(f"method must be 'exact' or 'normal', got {method!r}")
    n = as_array(n_values, "n_values")
    if np.any(n < 0) or (method == "exact" and np.any(n != np.round(n))):
        raise ValueError("n_values must be non-negative (and whole numbers for the exact method)")
    frames = []
    for level in levels:
        tail = (1 - level) / 2
        if method == "exact":
            lower, upper = _exact_limit(p0, n, tail), _exact_limit(p0, n, 1 - tail)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                half_width = z_value(level) * np.sqrt(p0 * (1 - p0) / n)
            lower, upper = p0 - half_width, p0 + half_width
        empty = n == 0
        frames.append(
            pl.DataFrame(
                {
                    "n": n,
                    "level": np.full(n.size, float(level)),
                    "lower": np.where(empty, np.nan, np.clip(lower, 0.0, 1.0)),
                    "upper": np.where(empty, np.nan, np.clip(upper, 0.0, 1.0)),
                }
            )
        )
    return pl.concat(frames)
