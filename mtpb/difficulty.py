"""Problem difficulty: fixed bins of a problem's pass rate, as in the CodeGen paper's per-difficulty table.

The paper groups MTPB problems by their average pass rate into easy, medium and hard ([R]: "hard" below
30%, "easy" above 70%; not confirmed in the primary text) and reports that multi-turn prompting helps
most on medium and hard problems. We use the same fixed cut points, not quantiles, so the bins mean
the same thing for every model and a run's bins can be taken from another run:

    hard:   rate < 0.3        medium: 0.3 <= rate <= 0.7        easy: rate > 0.7

The rates come from `--difficulty-from SUMMARY.json` (another `mtpb compare` run, e.g. a stronger model,
its per-problem multi-turn pass rates) or default to this run's own multi-turn rates. A tiny model
puts every problem in "hard"; the bins are still reported, with their problem counts.
"""
from __future__ import annotations

import json
import os

HARD_BELOW = 0.3
EASY_ABOVE = 0.7
BINS = ("easy", "medium", "hard")
SCHEME = {"hard": f"rate < {HARD_BELOW}", "medium": f"{HARD_BELOW} <= rate <= {EASY_ABOVE}",
          "easy": f"rate > {EASY_ABOVE}"}


def difficulty_bin(rate: float) -> str:
    """The bin of one problem's pass rate (a share in [0, 1])."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"a pass rate must be in [0, 1], got {rate!r}")
    if rate < HARD_BELOW:
        return "hard"
    return "easy" if rate > EASY_ABOVE else "medium"


def difficulty_bins(rates: dict[str, float]) -> dict[str, str]:
    return {pid: difficulty_bin(rate) for pid, rate in rates.items()}


def rates_from_summary(path: str | os.PathLike, problem_ids) -> dict[str, float]:
    """Per-problem multi-turn pass rates of another `mtpb compare` run (its summary.json), for every id in
    problem_ids; a malformed file or a missing problem is an error naming the file and the field."""
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"--difficulty-from {path}: not valid JSON ({err})") from err
    per_problem = summary.get("per_problem") if isinstance(summary, dict) else None
    if not isinstance(per_problem, dict):
        raise ValueError(f"--difficulty-from {path}: no 'per_problem' object (expected an mtpb compare summary.json)")
    rates = {}
    for pid in problem_ids:
        entry = per_problem.get(str(pid))
        rate = entry.get("multi", {}).get("pass_rate") if isinstance(entry, dict) else None
        if entry is None:
            raise ValueError(f"--difficulty-from {path}: field 'per_problem' has no problem {pid}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"--difficulty-from {path}: field 'per_problem.{pid}.multi.pass_rate' must be a "
                             f"number in [0, 1], got {rate!r}")
        rates[str(pid)] = float(rate)
    return rates
