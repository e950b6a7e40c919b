"""Input coercion shared by the statistics modules.

Callers pass plain numbers, lists, numpy arrays or polars Series (typically columns of a small
DuckDB-aggregated table); these helpers turn them into float numpy arrays and check them.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import polars as pl


def as_array(values, name: str, dtype=float) -> np.ndarray:
    """Return `values` (scalar, sequence, numpy array or polars Series) as a 1-D numpy array."""
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    array = np.asarray(values, dtype=dtype)
    if array.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return np.atleast_1d(array)


def as_weights(weights, length: int) -> np.ndarray:
    """Frequency weights (counts) as a float array; None means one per row. Negative weights are refused."""
    if weights is None:
        return np.ones(length)
    array = as_array(weights, "weights")
    if array.shape != (length,):
        raise ValueError(f"weights has length {array.size}, expected {length}")
    if np.any(~np.isfinite(array)) or np.any(array < 0):
        raise ValueError("weights must be finite and non-negative")
    return array


def same_length(**arrays: np.ndarray) -> None:
    """Raise ValueError unless every named array has the same length."""
    lengths = {name: array.size for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs differ in length: {lengths}")


def z_value(confidence: float) -> float:
    """Two-sided standard-normal critical value for a `confidence` level in (0, 1), e.g. 1.95996 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    # The standard library's inverse normal (Wichura's AS241, 1e-16 relative), as scipy.stats.norm.ppf
    # gives: a Wilson interval then needs no scipy.stats, whose import alone takes most of a second.
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def scalar_or_array(array: np.ndarray, scalar_input: bool):
    """Give back a Python float when the caller passed scalars, else the numpy array."""
    return float(array[0]) if scalar_input else array
