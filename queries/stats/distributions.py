"""scipy.stats' numbers for the few distributions the questions use, computed from scipy.special alone.

Importing scipy.stats takes most of a second (docs/performance.md, "Import cost per question"),
scipy.special a third of that, and a question that fits no model needs only a tail or a quantile.
Each function here is what scipy.stats 1.17's own method does for valid arguments: its edge cases
(outside the support, probabilities 0 and 1) as `rv_continuous` / `rv_discrete` handle them, then the
same scipy.special function scipy.stats calls (the binomial and hypergeometric ones are Boost's, the
private ufuncs in scipy.special._ufuncs that scipy.stats itself calls; the public `bdtr` is Cephes and
differs in the last bits). tests/test_distributions.py checks each against scipy.stats bit for bit over many
random arguments, so a scipy upgrade that changes either fails there.
"""

from __future__ import annotations

import numpy as np

from queries.libraries import library

special = library("scipy.special")


def normal_sf(x):
    """scipy.stats.norm.sf(x): the standard normal upper tail."""
    return special.ndtr(-np.asarray(x, dtype=float))


def normal_ppf(q):
    """scipy.stats.norm.ppf(q): the standard normal quantile (nan outside [0, 1])."""
    return special.ndtri(np.asarray(q, dtype=float))


def chi2_sf(x, df):
    """scipy.stats.chi2.sf(x, df) for df > 0: 1 at or below 0, else the regularised upper gamma tail."""
    x = np.asarray(x, dtype=float)
    return np.where(x <= 0, 1.0, special.chdtrc(df, np.maximum(x, 0.0)))[()]


def gamma_ppf(q, shape):
    """scipy.stats.gamma.ppf(q, shape) for q in (0, 1): also chi2.ppf(q, 2 * shape) / 2, bit for bit."""
    return special.gammaincinv(shape, q)


def t_ppf(q, df):
    """scipy.stats.t.ppf(q, df) for df > 0: Student's t quantile; -inf at q = 0, inf at q = 1, nan outside."""
    q = np.asarray(q, dtype=float)
    proper = (q > 0) & (q < 1)
    inside = special.stdtrit(df, np.where(proper, q, 0.5))
    return np.where(q == 0, -np.inf, np.where(q == 1, np.inf, np.where(proper, inside, np.nan)))[()]


def binom_cdf(k, n, p):
    """scipy.stats.binom.cdf(k, n, p) for whole n >= 0 and p in [0, 1]: 0 below 0, 1 from n on."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    inside = special._ufuncs._binom_cdf(np.floor(np.clip(k, 0, n)), n, p)
    return np.where(k >= n, 1.0, np.where(k >= 0, np.clip(inside, 0, 1), 0.0))[()]


def binom_ppf(q, n, p):
    """scipy.stats.binom.ppf(q, n, p): the smallest k with binom_cdf(k) >= q; -1 at q = 0, n at q = 1."""
    q, n = np.asarray(q, dtype=float), np.asarray(n, dtype=float)
    proper = (q > 0) & (q < 1)
    inside = special._ufuncs._binom_ppf(np.where(proper, q, 0.5), n, p)
    return np.where(q == 0, -1.0, np.where(q == 1, n, np.where(proper, inside, np.nan)))[()]


def hypergeom_sf(k, total: int, good: int, drawn: int):
    """scipy.stats.hypergeom.sf(k, total, good, drawn) for total > 0: P(X > k), X the good ones among `drawn`."""
    k = np.asarray(k, dtype=float)
    low, high = max(drawn - (total - good), 0), min(good, drawn)
    inside = special._ufuncs._hypergeom_sf(np.clip(k, low, high), good, drawn, total)
    return np.where(k < low, 1.0, np.where(k < high, np.clip(inside, 0, 1), 0.0))[()]


def hypergeom_logpmf(k, total: int, good: int, drawn: int) -> np.ndarray:
    """scipy.stats.hypergeom.logpmf(k, total, good, drawn) inside the support, by scipy's own formula (its `_logpmf`)."""
    bad = total - good
    betaln = special.betaln
    return (
        betaln(good + 1, 1)
        + betaln(bad + 1, 1)
        + betaln(total - drawn + 1, drawn + 1)
        - betaln(k + 1, good - k + 1)
        - betaln(drawn - k + 1, bad - drawn + k + 1)
        - betaln(total + 1, 1)
    )


def average_ranks(values) -> np.ndarray:
    """scipy.stats.rankdata(values): ranks from 1, ties given the mean of their ranks; all nan if any is nan."""
    values = np.asarray(values, dtype=float).reshape(-1)
    if np.isnan(values).any():
        return np.full(values.size, np.nan)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]] if values.size else np.empty(0, bool)
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], values.size]  # a tie group holds ranks starts + 1 .. ends
    ranks = np.empty(values.size)
    ranks[order] = ((starts + 1 + ends) / 2)[np.cumsum(first) - 1]
    return ranks
