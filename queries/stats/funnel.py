"""Funnel-plot control limits for proportions (Spiegelhalter 2005, Stat Med 24:1185).

Each unit (a local authority, a team) with denominator n is compared with a target proportion p0;
the limits show where a unit's observed proportion would fall with probability `level` if its true
proportion were p0.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from queries.stats._inputs import as_array, z_value
from queries.stats.distributions import binom_cdf, binom_ppf, chi2_sf


def _exact_limit(p0: float, n: np.ndarray, tail: float) -> np.ndarray:
    """Spiegelhalter (2005) Appendix A.1.1: interpolated binomial quantile (r - a) / n.

    r is the `tail` quantile of Binomial(n, p0) (smallest r with P(Y <= r) >= tail) and
    a = (P(Y <= r) - tail) / (P(Y <= r) - P(Y <= r - 1)) spreads the probability step at r linearly
    over [r - 1, r] (the quantile of Y - U, U ~ Uniform(0, 1)), so limits sit slightly low: for p0 = 0.5,
    n = 100 the 95% limits are 0.3968 and 0.5932, not symmetric about 0.5. p0 of 0 or 1 gives p0.
    """
    if p0 in (0.0, 1.0):
        return np.where(n > 0, p0, np.nan)
    r = binom_ppf(tail, n, p0)
    cdf_r = binom_cdf(r, n, p0)
    cdf_below = binom_cdf(r - 1, n, p0)
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


OVERDISPERSION_ALPHA = 0.05  # adjust the limits when the test of no overdispersion gives p below this
WINSOR_TAIL = 0.10  # Spiegelhalter (2005): z-scores Winsorised at the 10th and 90th percentiles


def overdispersion(events, n_values, p0: float, tail: float = WINSOR_TAIL) -> dict:
    """Spiegelhalter's (2005, section 3.2.1) multiplicative overdispersion: its test and its size.

    Each unit's z-score is (y/n - p0) / sqrt(p0 (1 - p0) / n). With I units:

    - the test: the Pearson heterogeneity statistic I * phi_raw = sum of z squared, against chi-square
      on I - 1 degrees of freedom (p0 estimated from the same units). The raw z-scores are used here
      because that is the statistic whose null distribution is chi-square.
    - the size: phi = mean of the squared Winsorised z-scores: those below the `tail` percentile
      (linear interpolation, as numpy's and R's default quantile) are set to it, those above the
      1 - `tail` percentile to that (as FunnelPlotR does), so one or two extreme units cannot widen
      the limits enough to hide themselves.

    `adjusted` is True when the test gives p below OVERDISPERSION_ALPHA and phi > 1: the limits should
    then be widened by phi. Units with n = 0 are left out. Returns phi, phi_raw, chi_square, df,
    p_value, units, adjusted; fewer than 2 units, or p0 of 0 or 1, gives nan and adjusted False.
    """
    y, n = as_array(events, "events"), as_array(n_values, "n_values")
    if y.shape != n.shape:
        raise ValueError(f"events and n_values differ in length: {y.size} and {n.size}")
    keep = n > 0
    y, n = y[keep], n[keep]
    units = int(n.size)
    if units < 2 or p0 <= 0 or p0 >= 1:
        return {"phi": np.nan, "phi_raw": np.nan, "chi_square": np.nan, "df": max(units - 1, 0),
                "p_value": np.nan, "units": units, "adjusted": False}  # fmt: skip
    z = (y / n - p0) / np.sqrt(p0 * (1 - p0) / n)
    low, high = np.percentile(z, [100 * tail, 100 * (1 - tail)])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    chi_square = float(np.sum(z**2))
    p_value = float(chi2_sf(chi_square, units - 1))
    return {"phi": phi, "phi_raw": chi_square / units, "chi_square": chi_square, "df": units - 1,
            "p_value": p_value, "units": units, "adjusted": bool(phi > 1 and p_value < OVERDISPERSION_ALPHA)}  # fmt: skip


def adjusted_funnel_limits(p0: float, n_values, phi: float, levels=(0.95, 0.998)) -> pl.DataFrame:
    """Funnel limits widened for overdispersion (Spiegelhalter 2005, multiplicative model, section 3.2.1).

    p0 +/- z * sqrt(phi * p0 (1 - p0) / n), clipped to [0, 1]; n = 0 gives nan. Same columns and order
    as `funnel_limits`. phi = 1 gives the normal-approximation limits.
    """
    if not phi > 0:
        raise ValueError(f"phi must be positive, got {phi}")
    n = as_array(n_values, "n_values")
    frames = []
    for level in levels:
        with np.errstate(divide="ignore", invalid="ignore"):
            half_width = z_value(level) * np.sqrt(phi * p0 * (1 - p0) / n)
        empty = n == 0
        frames.append(
            pl.DataFrame(
                {
                    "n": n,
                    "level": np.full(n.size, float(level)),
                    "lower": np.where(empty, np.nan, np.clip(p0 - half_width, 0.0, 1.0)),
                    "upper": np.where(empty, np.nan, np.clip(p0 + half_width, 0.0, 1.0)),
                }
            )
        )
    return pl.concat(frames)
