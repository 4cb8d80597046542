"""A seeded pseudo-random permutation of range(n), evaluated at any index in O(1) memory.

Resuming a run at step N must not need an iterator's state or an n-sized shuffled array, so the shuffled
position -> row map is a keyed Feistel network on the smallest even-bit power-of-two domain >= n, with
cycle walking (re-encrypt until the value lands below n). A Feistel network is a bijection for any round
function, so the result is a true permutation; the domain is < 4n, so walks are short.
"""
from __future__ import annotations

import numpy as np

ROUNDS = 4


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a cheap, well-mixing 64-bit hash (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _round_keys(seed: int) -> list[np.uint64]:
    with np.errstate(over="ignore"):
        base = np.uint64(seed % (1 << 64)) * np.uint64(0x9E3779B97F4A7C15)
        return [np.uint64(k) for k in _mix(np.arange(1, ROUNDS + 1, dtype=np.uint64) + base)]


def permute(indices, n: int, seed: int) -> np.ndarray:
    """pi_seed(indices) for the permutation pi_seed of range(n); indices is any int array in [0, n)."""
    x = np.asarray(indices, dtype=np.int64)
    if n <= 0:
        raise ValueError(f"cannot permute an empty range (n={n})")
    if x.size and (x.min() < 0 or x.max() >= n):
        raise ValueError(f"indices must lie in [0, {n})")
    half = max(1, ((n - 1).bit_length() + 1) // 2)
    mask = np.uint64((1 << half) - 1)
    keys = _round_keys(seed)
    with np.errstate(over="ignore"):
        x = x.astype(np.uint64)
        todo = np.ones(x.shape, bool)
        while todo.any():
            left, right = x[todo] >> np.uint64(half), x[todo] & mask
            for key in keys:
                left, right = right, left ^ (_mix(right ^ key) & mask)
            x[todo] = (left << np.uint64(half)) | right
            todo = x >= np.uint64(n)
    return x.astype(np.int64)
