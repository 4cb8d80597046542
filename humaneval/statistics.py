"""Confidence intervals shared by every report: seeded bootstrap over problems (scipy.stats.bootstrap).

Problems are the unit of resampling (a benchmark is a sample of problems); samples within a problem are
already summarised by its per-problem value (pass@k, pass rate). The percentile method is used so that a
degenerate sample (every problem 0, as for an untrained model) gives the point interval instead of NaN.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_RESAMPLES = 10_000


def bootstrap_ci(values: Sequence[float], *, confidence: float = 0.95, seed: int = 0,
                 n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """(low, high) of a bootstrap CI for the mean of `values`; (nan, nan) for an empty sequence."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"bootstrap_ci expects a 1-D sequence, got shape {values.shape}")
    if values.size == 0:
        return float("nan"), float("nan")
    if values.size == 1 or np.all(values == values[0]):
        return float(values[0]), float(values[0])
    res = stats.bootstrap((values,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                          method="percentile", rng=np.random.default_rng(seed), vectorized=True)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_difference(a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95,
                      seed: int = 0) -> dict:
    """Mean of a - b over paired items (problems), with its bootstrap CI."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference needs equal-length sequences, got {a.shape} and {b.shape}")
    diff = a - b
    low, high = bootstrap_ci(diff, confidence=confidence, seed=seed)
    return {"mean": float(diff.mean()) if diff.size else float("nan"), "ci_low": low, "ci_high": high,
            "confidence": confidence, "n": int(diff.size)}
