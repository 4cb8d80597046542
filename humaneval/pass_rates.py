"""pass@k per temperature with a bootstrap CI over problems, and the best temperature per k (Codex
Table 1 / CodeGen Table 1 style: each k reported at the temperature that maximises it)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from humaneval.passk import pass_at_k
from humaneval.statistics import bootstrap_ci

GREEDY = "greedy"


def temperature(label: str) -> float:
    """"greedy" -> 0.0, "t0.8" -> 0.8."""
    if label == GREEDY:
        return 0.0
    try:
        return float(label[1:])
    except ValueError:
        raise ValueError(f"samples label {label!r} is neither 'greedy' nor t<temperature>") from None


def check_ks(ks: Sequence[int], n_by_label: Mapping[str, int]) -> None:
    """A k above every label's samples per problem can never be estimated: say so before any work."""
    largest = max(n_by_label.values(), default=0)
    too_big = [k for k in ks if k > largest]
    if too_big:
        raise ValueError(f"--k {','.join(map(str, too_big))}: larger than the number of samples per problem "
                         f"(largest n = {largest}, in {max(n_by_label, key=n_by_label.get, default='none')}); "
                         f"use k <= n or generate more samples")


def pass_at_k_entry(counts: Mapping[str, tuple[int, int]], k: int, seed: int = 0) -> dict:
    """{"value", "ci_low", "ci_high", "problems"} from {task: (n, c)}; when some problem has n < k the
    estimate does not exist: {"value": None, "note": "n/a (k > n)", "n": smallest n}."""
    smallest = min(n for n, _ in counts.values())
    if smallest < k:
        return {"value": None, "ci_low": None, "ci_high": None, "problems": len(counts), "note": "n/a (k > n)",
                "n": smallest}
    values = [pass_at_k(n, c, k) for n, c in counts.values()]
    low, high = bootstrap_ci(values, seed=seed)
    return {"value": float(np.mean(values)), "ci_low": low, "ci_high": high, "problems": len(counts)}


def pass_at_k_by_label(counts_by_label: Mapping[str, Mapping[str, tuple[int, int]]], ks: Sequence[int],
                       seed: int = 0) -> dict[str, dict[str, dict]]:
    """{label: {str(k): entry}}."""
    return {label: {str(k): pass_at_k_entry(counts, k, seed) for k in ks} for label, counts in counts_by_label.items()}


def best_temperature(table: Mapping[str, Mapping[str, dict]], ks: Sequence[int]) -> dict[str, dict]:
    """{str(k): {"label", "temperature", **entry}} maximising pass@k over labels (ties: the lower
    temperature); {"label": None, "note": ...} when no label has enough samples for k."""
    best = {}
    for k in map(str, ks):
        candidates = [(entry["value"], -temperature(label), label) for label, row in table.items()
                      if (entry := row[k])["value"] is not None]
        if not candidates:
            best[k] = {"label": None, "temperature": None, "value": None, "note": "n/a (k > n)"}
            continue
        _, _, label = max(candidates)
        best[k] = {"label": label, "temperature": temperature(label), **table[label][k]}
    return best
