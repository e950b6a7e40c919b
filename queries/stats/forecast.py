"""Forecast accuracy: mean absolute scaled error (Hyndman & Koehler 2006, Int J Forecasting 22:679)."""

from __future__ import annotations

import math

import numpy as np

from queries.stats._inputs import as_array, same_length


def mase(actual, forecast, insample, season: int = 12) -> float:
    """Mean absolute scaled error of `forecast` against `actual` (Hyndman & Koehler 2006, eq. for MASE).

    MASE = mean|actual - forecast| / q, with q = mean over t > season of |y_t - y_(t - season)| in the
    in-sample (training) series: the MAE of the seasonal naive forecast in sample (season=1: naive).
    Below 1 beats that benchmark. Raises if the in-sample series has no more than `season` values;
    q = 0 (a flat series) gives inf, or nan when the forecast errors are also all zero.
    """
    observed = as_array(actual, "actual")
    predicted = as_array(forecast, "forecast")
    history = as_array(insample, "insample")
    same_length(actual=observed, forecast=predicted)
    if season < 1:
        raise ValueError(f"season must be a positive integer, got {season}")
    if history.size <= season:
        raise ValueError(f"insample needs more than season={season} values, got {history.size}")
    if observed.size == 0:
        return math.nan
    error = float(np.mean(np.abs(observed - predicted)))
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    if scale == 0:
        return math.nan if error == 0 else math.inf
    return error / scale
