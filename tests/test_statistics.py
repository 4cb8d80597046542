"""humaneval.statistics: bootstrap CIs cover the truth at about the stated rate, degenerate input, seeds."""
import numpy as np
import pytest

from humaneval.statistics import bootstrap_ci, paired_difference


def test_coverage_on_a_known_distribution():
    # 100 benchmarks of 100 problems, each problem solved with probability 0.3: the 95% interval for the
    # mean must hold 0.3 in roughly 95% of them (binomial noise over 100 trials: about +-4%)
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(100):
        values = (rng.random(100) < 0.3).astype(float)
        low, high = bootstrap_ci(values, seed=trial, n_resamples=500)
        covered += low <= 0.3 <= high
    assert 0.88 <= covered / 100 <= 0.995


def test_degenerate_input():
    assert bootstrap_ci([0.0] * 20) == (0.0, 0.0)  # an untrained model: a point, not NaN
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    low, high = bootstrap_ci([])
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError, match="1-D"):
        bootstrap_ci([[1.0, 2.0]])
    with pytest.raises(ValueError, match="equal-length"):
        paired_difference([1.0, 2.0], [1.0])


def test_seed_determinism_and_sensitivity():
    values = np.random.default_rng(0).random(50)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)
    low, high = bootstrap_ci(values, confidence=0.5)
    wide_low, wide_high = bootstrap_ci(values, confidence=0.99)
    assert wide_low < low < values.mean() < high < wide_high


def test_paired_difference():
    a = np.linspace(0.2, 0.8, 40)
    result = paired_difference(a, a - 0.1)
    assert result["mean"] == pytest.approx(0.1) and result["ci_low"] == pytest.approx(0.1)
    assert result["n"] == 40 and result["confidence"] == 0.95
