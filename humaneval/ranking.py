"""Choosing one sample out of n by the model's log-probability (Codex paper §3.3, Fig. 7).

Per problem the n samples are ranked by a score (mean or sum token log-probability; ties keep sample
order). "Pick the best of k samples drawn at random" is computed exactly, not by simulation: the
sample ranked r-th (0 = best) of n is the best of a random k-subset with probability
C(n-1-r, k-1) / C(n, k). Random choice has expected pass rate c/n (pass@1) for every k; the oracle,
which picks a correct sample whenever there is one, is pass@k (the same formula with correct samples
ranked first: 1 - C(n-c, k) / C(n, k)).
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np


RANKERS = ("mean_logprob", "sum_logprob")


@functools.lru_cache(maxsize=64)  # the same (n, ks) for every problem of a run
def best_of_k_weights(n: int, ks: tuple[int, ...]) -> np.ndarray:
    """[len(ks), n]: row k holds P(rank r is the best of a random k-subset of n), r = 0 (best) .. n-1."""
    from scipy.special import gammaln

    def log_comb(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    ks_arr = np.asarray(ks, dtype=np.float64)[:, None]
    rest = (n - 1 - np.arange(n, dtype=np.float64))[None, :]  # samples ranked below r
    ok = rest >= ks_arr - 1
    weights = np.exp(log_comb(np.where(ok, rest, 0.0), np.where(ok, ks_arr - 1, 0.0)) - log_comb(n, ks_arr))
    return np.where(ok, weights, 0.0)


def ranked_pass(passed: Sequence[bool], scores: Sequence[float], ks: Sequence[int]) -> np.ndarray:
    """Expected pass rate of taking the highest-scored of k random samples, for each k."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked = np.asarray(passed, dtype=np.float64)[order]
    return best_of_k_weights(len(ranked), tuple(ks)) @ ranked


def ranking(problems: dict[str, list[dict]]) -> dict:
    """{task_id: its result rows} (n >= 1 each, with `passed` and the RANKERS' scores) ->
    {"n", "pass_rate": {ranker | "random" | "oracle": rate}, "curve": {"k": [...], <same keys>: [...]}}.
    pass_rate is the pick among all n; the curve goes k = 1 .. n (smallest n over problems)."""
    if not problems:
        raise ValueError("ranking needs at least one problem")
    n = min(len(rows) for rows in problems.values())
    ks = list(range(1, n + 1))
    names = (*RANKERS, "random", "oracle")
    curve = {name: np.zeros(n) for name in names}
    picked = dict.fromkeys(names, 0.0)  # choosing among all of a problem's samples
    for task_id, rows in problems.items():
        passed = [bool(r["passed"]) for r in rows]
        for name in RANKERS:
            scores = [r.get(name) for r in rows]
            if any(s is None for s in scores):
                raise ValueError(f"{task_id}: a sample has no {name!r}; ranking needs `humaneval generate` samples")
            curve[name] += ranked_pass(passed, scores, ks)
            picked[name] += passed[int(np.argmax(scores))]  # argmax: the first of tied best
        c = sum(passed)
        curve["random"] += c / len(rows)
        curve["oracle"] += ranked_pass(passed, passed, ks)  # ranking correct ones first gives pass@k
        picked["random"] += c / len(rows)
        picked["oracle"] += c > 0
    return {"n": n, "pass_rate": {name: picked[name] / len(problems) for name in names},
            "curve": {"k": ks, **{name: (values / len(problems)).tolist() for name, values in curve.items()}}}
