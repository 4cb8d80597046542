"""The numbers behind `mtpb compare`: plain functions over evaluated rows (mtpb evaluate results).

Conventions (docs/mtpb.md):
- Pass rate as the reference computes it: per (sample, test case) row, averaged per problem, then over
  problems. A "rate per problem" below is always that per-problem mean.
- A row's prompt perplexity is exp(-sum of prompt log-probs / sum of prompt tokens) over its turns, so
  a multi-turn row's value weighs every prompt token once, like the single-turn row's one prompt. A
  problem's perplexity is the mean of its rows' values; a mode's is the mean over problems.
- Undefined statistics (no data, constant inputs) are None in summary.json and "n/a" in the report.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from humaneval.statistics import paired_difference

MODES = ("multi", "single")
N_PPL_BINS = 4


def mean(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def finite_or_none(x):
    """NaN and inf become None, recursively (summary.json stays standard JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite_or_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_or_none(v) for v in x]
    return x


def per_problem(rows: list[dict], value: Callable[[dict], float | None]) -> dict[str, float | None]:
    """problem id -> mean of value(row) over its rows (rows whose value is None are left out)."""
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[str(row["id"])].append(value(row))
    return {pid: mean(values) for pid, values in groups.items()}


def pass_rates(rows: list[dict], field: str = "passed") -> dict[str, float]:
    return per_problem(rows, lambda r: float(bool(r[field])))


def row_prompt_ppl(row: dict) -> float | None:
    """exp(-sum(prompt_logprob_sum) / sum(prompt_num_tokens)) over the row's turns; None without tokens."""
    turns = row.get("turns") or []
    try:
        logprob = sum(float(t["prompt_logprob_sum"]) for t in turns)
        tokens = sum(int(t["prompt_num_tokens"]) for t in turns)
    except (KeyError, TypeError, ValueError):
        return None
    return math.exp(-logprob / tokens) if tokens > 0 else None


def paired(a: dict[str, float | None], b: dict[str, float | None], ids: Iterable[str]) -> dict:
    """Mean of a - b over the problems in ids where both are defined, with its bootstrap 95% CI."""
    ids = [p for p in ids if a.get(p) is not None and b.get(p) is not None]
    return finite_or_none(paired_difference([a[p] for p in ids], [b[p] for p in ids]))


def compare_groups(rates: dict[str, dict[str, float]], groups: dict[str, str], order=sorted) -> dict[str, dict]:
    """For each group label (in order(labels)): problem count, mean rate per mode and the paired
    multi - single difference."""
    members: dict[str, list[str]] = defaultdict(list)
    for pid, label in groups.items():
        members[label].append(pid)
    members = {label: members[label] for label in order(members)}
    return {label: {"problems": len(ids), **{m: mean(rates[m].get(p) for p in ids) for m in MODES},
                    "difference": paired(rates["multi"], rates["single"], ids)}
            for label, ids in members.items()}


def spearman(x: list[float], y: list[float]) -> dict:
    """Spearman's rho and its two-sided p-value (scipy); None for either when undefined (n < 3 or a
    constant input, e.g. every problem failing)."""
    from scipy import stats

    n = len(x)
    if n < 3:
        return {"rho": None, "p": None, "n": n}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConstantInputWarning: the result is NaN, reported as n/a
        result = stats.spearmanr(x, y)
    return finite_or_none({"rho": float(result.statistic), "p": float(result.pvalue), "n": n})


def quantile_bins(ppl: dict[str, float | None], rates: dict[str, float], n_bins: int = N_PPL_BINS) -> list[dict]:
    """Problems sorted by perplexity (ties by id) and split into n_bins groups of near-equal size;
    each bin's perplexity range and mean pass rate."""
    ids = sorted((p for p in ppl if ppl[p] is not None and p in rates), key=lambda p: (ppl[p], p))
    bins = []
    for chunk in np.array_split(np.array(ids, dtype=object), min(n_bins, len(ids))) if ids else []:
        chunk = list(chunk)
        bins.append({"ppl_low": ppl[chunk[0]], "ppl_high": ppl[chunk[-1]], "problems": len(chunk),
                     "pass_rate": mean(rates[p] for p in chunk)})
    return bins


def ppl_vs_success(ppl: dict[str, float | None], rates: dict[str, float]) -> dict:
    ids = sorted(p for p in ppl if ppl[p] is not None and p in rates)
    return {"spearman": spearman([ppl[p] for p in ids], [rates[p] for p in ids]),
            "quantile_bins": quantile_bins(ppl, rates)}


def first_failing_turns(rows: list[dict]) -> dict:
    """Distribution of first_failing_turn over rows ("none": every turn ran), and how those turns failed."""
    turns = Counter("none" if r.get("first_failing_turn") is None else str(r["first_failing_turn"]) for r in rows)
    order = sorted((k for k in turns if k != "none"), key=int) + (["none"] if "none" in turns else [])
    errors = Counter(r["first_failing_error"] for r in rows if r.get("first_failing_error"))
    return {"rows": len(rows), "turns": {k: turns[k] for k in order}, "errors": dict(errors.most_common())}


def analyse(results: dict[str, list[dict]], problems: dict, difficulty_rates: dict[str, float] | None = None,
            difficulty_source: str = "this run, multi-turn") -> dict:
    """Every analysis section of summary.json from the two modes' evaluated rows. `problems` maps id ->
    mtpb.data.Problem; difficulty_rates defaults to this run's multi-turn pass rates."""
    from mtpb import difficulty

    rates = {m: pass_rates(results[m]) for m in MODES}
    strict = {m: pass_rates(results[m], "passed_strict") for m in MODES}
    ppl = {m: per_problem(results[m], row_prompt_ppl) for m in MODES}
    counts = {m: Counter(str(r["id"]) for r in results[m]) for m in MODES}
    ids = [p for p in problems if p in rates["multi"] or p in rates["single"]]  # problems-file order
    bins = difficulty.difficulty_bins(difficulty_rates if difficulty_rates is not None else
                                      {p: rates["multi"][p] for p in ids if p in rates["multi"]})
    per_problem_out = {
        p: {"category": problems[p].category, "turns": len(problems[p].prompts), "difficulty": bins.get(p),
            **{m: {"rows": counts[m][p], "pass_rate": rates[m].get(p), "pass_rate_strict": strict[m].get(p),
                   "ppl": ppl[m].get(p)} for m in MODES}}
        for p in ids}
    return finite_or_none({
        "problems": len(ids),
        "rows": {m: len(results[m]) for m in MODES},
        "pass_rate": {**{m: mean(rates[m].get(p) for p in ids) for m in MODES},
                      "difference": paired(rates["multi"], rates["single"], ids)},
        "pass_rate_strict": {**{m: mean(strict[m].get(p) for p in ids) for m in MODES},
                             "difference": paired(strict["multi"], strict["single"], ids)},
        "by_category": compare_groups(rates, {p: problems[p].category for p in ids}),
        "difficulty": {"source": difficulty_source, "scheme": difficulty.SCHEME,
                       "bins": compare_groups(rates, {p: bins[p] for p in ids if p in bins},
                                              lambda labels: [b for b in difficulty.BINS if b in labels])},
        "perplexity": {**{m: mean(ppl[m].get(p) for p in ids) for m in MODES},
                       "difference": paired(ppl["multi"], ppl["single"], ids)},
        "ppl_vs_success": {m: ppl_vs_success(ppl[m], rates[m]) for m in MODES},
        "per_turn": {"first_failing_turn": first_failing_turns(results["multi"]),
                     "by_turn_count": compare_groups(rates, {p: str(len(problems[p].prompts)) for p in ids},
                                                     lambda labels: sorted(labels, key=int))},
        "context_rows": {m: sum(r.get("status") == "context" for r in results[m]) for m in MODES},
        "defect_rows": {m: dict(sorted(Counter(f for r in results[m] for f in r.get("defects", ())).items()))
                        for m in MODES},
        "per_problem": per_problem_out,
    })
