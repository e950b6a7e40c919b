"""Survival analysis on individual or aggregated (count-weighted) durations.

* Kaplan–Meier product-limit estimate (Kaplan & Meier 1958, JASA 53:457) with Greenwood's (1926)
  variance and pointwise confidence intervals on the log-log scale (Kalbfleisch & Prentice 2002, s.1.3)
  or the plain linear scale.
* Median survival with a Brookmeyer & Crowley (1982, Biometrics 38:29) style confidence interval.
* The log-rank test for two or more groups (Mantel 1966; Peto & Peto 1972).

Every function takes optional frequency `weights`: pass one row per distinct (duration, event[, group])
with its count, e.g. straight from a DuckDB GROUP BY. Censorings tied with events at the same time
are counted at risk at that time (the usual convention).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from queries.stats._inputs import as_array, as_weights, same_length, z_value
from queries.stats.distributions import chi2_sf

KM_COLUMNS = ("time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high")


def _survival_data(durations, events, weights, groups=None):
    """Checked (times, observed, counts, group_index) with zero-weight rows dropped; group_index None if no groups."""
    times = as_array(durations, "durations")
    observed = as_array(events, "events")
    same_length(durations=times, events=observed)
    counts = as_weights(weights, times.size)
    if np.any(~np.isfinite(times)):
        raise ValueError("durations must be finite")
    if np.any((observed != 0) & (observed != 1)):
        raise ValueError("events must be 0/1 or boolean (1 = event observed, 0 = censored)")
    keep = counts > 0
    group_index = None
    if groups is not None:
        labels = groups.to_numpy() if isinstance(groups, pl.Series) else np.asarray(groups)
        same_length(durations=times, groups=labels)
        group_index = np.unique(labels[keep], return_inverse=True)[1].reshape(-1)
    return times[keep], observed[keep], counts[keep], group_index


def _risk_table(times, observed, counts, group_index):
    """Distinct times and per-(time, group) event, censoring and at-risk counts (arrays of shape (T, G))."""
    unique_times, time_index = np.unique(times, return_inverse=True)
    n_groups = int(group_index.max()) + 1 if group_index.size else 1
    events = np.zeros((unique_times.size, n_groups))
    censored = np.zeros((unique_times.size, n_groups))
    np.add.at(events, (time_index, group_index), counts * observed)
    np.add.at(censored, (time_index, group_index), counts * (1 - observed))
    leaving = events + censored
    at_risk = leaving[::-1].cumsum(axis=0)[::-1]
    return unique_times, at_risk, events, censored


def kaplan_meier(durations, events, weights=None, confidence: float = 0.95, ci_method: str = "log-log") -> pl.DataFrame:
    """Kaplan–Meier survival table with Greenwood variance and pointwise confidence intervals.

    `durations`: time to event or censoring; `events`: 1 (or True) if the event was observed, 0 if censored;
    `weights`: optional frequency counts per row (aggregated input). Returns one row per distinct time with
    columns time, at_risk, events, censored, survival, ci_low, ci_high (counts are integers when the
    weights are whole numbers).

    Greenwood: Var S(t) = S(t)^2 * sum over event times t_j <= t of d_j / (n_j (n_j - d_j)).
    ci_method="log-log" (default, Kalbfleisch & Prentice): S(t) ** exp(+/- z * se / (S(t) |log S(t)|)),
    which stays inside [0, 1]; ci_method="plain": S(t) +/- z * se, clipped to [0, 1].
    Where S(t) = 1 (before any event) the interval is (1, 1); where S(t) = 0 it is (0, nan) because the
    variance is undefined.
    """
    if ci_method not in ("log-log", "plain"):
        raise ValueError(f"ci_method must be 'log-log' or 'plain', got {ci_method!r}")
    z = z_value(confidence)
    times, observed, counts, _ = _survival_data(durations, events, weights)
    unique_times, at_risk, event_counts, censored = _risk_table(times, observed, counts, np.zeros(times.size, int))
    at_risk, event_counts, censored = at_risk[:, 0], event_counts[:, 0], censored[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - event_counts / at_risk)
        greenwood_terms = np.where(event_counts > 0, event_counts / (at_risk * (at_risk - event_counts)), 0.0)
        greenwood = np.cumsum(greenwood_terms)
        if ci_method == "log-log":
            spread = np.exp(z * np.sqrt(greenwood) / np.abs(np.log(survival)))
            ci_low, ci_high = survival**spread, survival ** (1 / spread)
        else:
            half_width = z * survival * np.sqrt(greenwood)
            ci_low, ci_high = np.clip(survival - half_width, 0, 1), np.clip(survival + half_width, 0, 1)
    no_drop_yet = survival == 1
    ci_low = np.where(no_drop_yet, 1.0, np.where(survival == 0, 0.0, ci_low))
    ci_high = np.where(no_drop_yet, 1.0, np.where(survival == 0, np.nan, ci_high))
    whole = bool(np.all(counts == np.round(counts)))
    count_type = pl.Int64 if whole else pl.Float64
    return pl.DataFrame(
        {
            "time": unique_times,
            "at_risk": pl.Series(at_risk).cast(count_type),
            "events": pl.Series(event_counts).cast(count_type),
            "censored": pl.Series(censored).cast(count_type),
            "survival": survival,
            "ci_low": ci_low,
            "ci_high": ci_high,
        }
    )


def _first_time_at_or_below(times: np.ndarray, curve: np.ndarray, level: float) -> float:
    hits = np.flatnonzero(curve <= level)
    return float(times[hits[0]]) if hits.size else math.nan


def km_median(table: pl.DataFrame) -> tuple[float, float, float]:
    """Median survival time and its confidence interval from a `kaplan_meier` table.

    Median: the smallest time with S(t) <= 0.5 (no averaging when S is exactly 0.5 over an interval).
    Interval: inverts the pointwise intervals in the table, as in Brookmeyer & Crowley (1982) and R's
    survfit: low = smallest time with ci_low(t) <= 0.5, high = smallest time with ci_high(t) <= 0.5.
    The confidence level and scale are those the table was built with. Any quantity the curve never
    reaches (e.g. the median or upper limit when fewer than half have had the event) is nan.
    """
    missing = [column for column in ("time", "survival", "ci_low", "ci_high") if column not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; build it with kaplan_meier()")
    times = table["time"].to_numpy()
    return (
        _first_time_at_or_below(times, table["survival"].to_numpy(), 0.5),
        _first_time_at_or_below(times, table["ci_low"].to_numpy(), 0.5),
        _first_time_at_or_below(times, table["ci_high"].to_numpy(), 0.5),
    )


def logrank_test(durations, events, groups, weights=None) -> tuple[float, int, float]:
    """Log-rank test that two or more groups share one survival curve. Returns (chi2, df, p).

    At each distinct event time j, group g expects E_gj = n_gj d_j / n_j events, with hypergeometric
    covariance V_gh = d_j (n_j - d_j) / (n_j - 1) * (n_gj / n_j) (delta_gh - n_hj / n_j). The statistic is
    U' V^- U with U = O - E summed over times (a generalised inverse, so df = rank of V, normally
    groups - 1). A group with no events is fine; with no events at all the result is (nan, 0, nan).
    `weights` are optional frequency counts per row.
    """
    times, observed, counts, group_index = _survival_data(durations, events, weights, groups)
    _, at_risk, event_counts, _ = _risk_table(times, observed, counts, group_index)
    total_at_risk = at_risk.sum(axis=1)
    total_events = event_counts.sum(axis=1)
    share = at_risk / total_at_risk[:, None]
    observed_minus_expected = (event_counts - share * total_events[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(total_at_risk > 1, total_events * (total_at_risk - total_events) / (total_at_risk - 1), 0.0)
    covariance = np.diag(spread @ share) - np.einsum("t,tg,th->gh", spread, share, share)
    df = int(np.linalg.matrix_rank(covariance))
    if df == 0:
        return math.nan, 0, math.nan
    chi2 = float(observed_minus_expected @ np.linalg.pinv(covariance) @ observed_minus_expected)
    return chi2, df, float(chi2_sf(chi2, df))
