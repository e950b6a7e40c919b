"""Confidence intervals for proportions and their differences, and relative lift.

* Wilson score interval for one proportion, without continuity correction
  (Wilson 1927, JASA 22:209; method 3 of Newcombe 1998, Stat Med 17:857).
* Newcombe's hybrid score interval for a difference of independent proportions
  (method 10 of Newcombe 1998, Stat Med 17:873), built from the two Wilson intervals.
"""

from __future__ import annotations

import numpy as np

from queries.stats._inputs import as_array, scalar_or_array, z_value


def _counts(successes, n) -> tuple[np.ndarray, np.ndarray]:
    x = as_array(successes, "successes")
    total = as_array(n, "n")
    x, total = np.broadcast_arrays(x, total)
    if np.any(total < 0) or np.any(x < 0) or np.any(x > total):
        raise ValueError("need 0 <= successes <= n")
    return x.astype(float), total.astype(float)


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson bounds; n == 0 gives nan, and the bounds are exactly 0 / 1 at x == 0 / x == n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half_width = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = np.clip(centre - half_width, 0.0, 1.0)
    high = np.clip(centre + half_width, 0.0, 1.0)
    low = np.where(x == 0, 0.0, low)
    high = np.where(x == n, 1.0, high)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction) for one proportion `successes / n`.

    Wilson (1927); Newcombe (1998, Stat Med 17:857), method 3. Returns `(low, high)`;
    n = 0 gives `(nan, nan)`. The interval stays inside [0, 1] and is never zero-width.
    """
    low, high = wilson_intervals(successes, n, confidence)
    return float(low[0]), float(high[0])


def wilson_intervals(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson score intervals: arrays (or polars Series) of successes and totals -> (lows, highs).

    Same method as `wilson_interval`; rows with n = 0 give nan.
    """
    x, total = _counts(successes, n)
    return _wilson(x, total, z_value(confidence))


def newcombe_difference_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference p1 - p2 of two independent proportions with Newcombe's hybrid score interval.

    Newcombe (1998, Stat Med 17:873), method 10: with Wilson limits (l1, u1) and (l2, u2),
    low = d - sqrt((p1 - l1)^2 + (u2 - p2)^2) and high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
    Returns `(diff, low, high)`; all nan when either n is 0. Array inputs give arrays.
    """
    a, total_a = _counts(x1, n1)
    b, total_b = _counts(x2, n2)
    z = z_value(confidence)
    low_a, high_a = _wilson(a, total_a, z)
    low_b, high_b = _wilson(b, total_b, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = a / total_a, b / total_b
    diff = p_a - p_b
    low = diff - np.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = diff + np.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    scalar = all(np.ndim(v) == 0 for v in (x1, n1, x2, n2))
    return tuple(scalar_or_array(v, scalar) for v in (diff, low, high))


def relative_lift(p_cohort, p_rest):
    """Relative lift p_cohort / p_rest of a cohort's proportion over everyone else's.

    Handling of zeros: p_rest = 0 with p_cohort > 0 gives `inf`; both 0 gives `nan` (no information);
    any nan input gives nan. Proportions must be non-negative. Scalars give a float, arrays an array.
    """
    cohort = as_array(p_cohort, "p_cohort")
    rest = as_array(p_rest, "p_rest")
    if np.any(cohort < 0) or np.any(rest < 0):
        raise ValueError("proportions must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(rest > 0, cohort / np.where(rest > 0, rest, 1.0), np.where(cohort > 0, np.inf, np.nan))
    lift = np.where(np.isnan(cohort) | np.isnan(rest), np.nan, lift)
    return scalar_or_array(lift, np.ndim(p_cohort) == 0 and np.ndim(p_rest) == 0)
