"""Accuracy of risk scores and probability forecasts: ROC AUC with a confidence interval, Brier score.

* AUC as the Mann–Whitney probability P(score of a positive > score of a negative), ties counting 1/2
  (Bamber 1975; Hanley & McNeil 1982, Radiology 143:29).
* Its standard error by Hanley & McNeil (1982), equation 1 with the exponential approximations
  Q1 = A / (2 - A) and Q2 = 2 A^2 / (1 + A).
* Brier (1950, Monthly Weather Review 78:1) score: mean squared difference between probability and outcome.
"""

from __future__ import annotations

import math

import numpy as np

from queries.stats._inputs import as_array, as_weights, z_value


def _labels(labels, length: int) -> np.ndarray:
    outcome = as_array(labels, "labels")
    if outcome.size != length:
        raise ValueError(f"labels has length {outcome.size}, expected {length}")
    if np.any((outcome != 0) & (outcome != 1)):
        raise ValueError("labels must be 0/1 or boolean (1 = positive)")
    return outcome


def hanley_mcneil_se(auc, n_pos, n_neg):
    """Hanley & McNeil (1982) standard error of an AUC from `n_pos` positive and `n_neg` negative cases.

    SE^2 = [A(1 - A) + (n_pos - 1)(Q1 - A^2) + (n_neg - 1)(Q2 - A^2)] / (n_pos n_neg), with
    Q1 = A / (2 - A), Q2 = 2A^2 / (1 + A). nan when either group is empty. Arrays broadcast.
    """
    area, positives, negatives = (as_array(v, name) for v, name in ((auc, "auc"), (n_pos, "n_pos"), (n_neg, "n_neg")))
    q1 = area / (2 - area)
    q2 = 2 * area**2 / (1 + area)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = (area * (1 - area) + (positives - 1) * (q1 - area**2) + (negatives - 1) * (q2 - area**2)) / (
            positives * negatives
        )
    se = np.where((positives > 0) & (negatives > 0), np.sqrt(np.maximum(variance, 0.0)), np.nan)
    return float(se[0]) if all(np.ndim(v) == 0 for v in (auc, n_pos, n_neg)) else se


def auc_with_ci(scores, labels, weights=None, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """ROC AUC with Hanley–McNeil standard error and a Wald interval: returns (auc, se, low, high).

    AUC is the Mann–Whitney estimate, ties between a positive and a negative counting 1/2 (so rating-scale
    data give the trapezoidal area). `labels` are 1/True for positives; `weights` are optional frequency
    counts, so a rating table can be passed as one row per (score, label) with its count.
    The interval is auc +/- z * se clipped to [0, 1]. All nan when there are no positives or no negatives.
    """
    score = as_array(scores, "scores")
    outcome = _labels(labels, score.size)
    counts = as_weights(weights, score.size)
    if np.any(np.isnan(score)):
        raise ValueError("scores contain nan")
    levels, level_index = np.unique(score, return_inverse=True)
    positive = np.bincount(level_index, weights=counts * outcome, minlength=levels.size)
    negative = np.bincount(level_index, weights=counts * (1 - outcome), minlength=levels.size)
    n_pos, n_neg = positive.sum(), negative.sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan, math.nan, math.nan, math.nan
    positives_above = positive[::-1].cumsum()[::-1] - positive
    auc = float(np.sum(negative * (positives_above + 0.5 * positive)) / (n_pos * n_neg))
    se = hanley_mcneil_se(auc, n_pos, n_neg)
    z = z_value(confidence)
    return auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se)


def brier_score(probs, labels, weights=None) -> float:
    """Brier (1950) score: (weighted) mean of (probability - outcome)^2; 0 is perfect. nan for no rows."""
    probability = as_array(probs, "probs")
    outcome = _labels(labels, probability.size)
    counts = as_weights(weights, probability.size)
    if np.any(~((probability >= 0) & (probability <= 1))):
        raise ValueError("probs must lie in [0, 1]")
    if counts.sum() == 0:
        return math.nan
    return float(np.sum(counts * (probability - outcome) ** 2) / counts.sum())
