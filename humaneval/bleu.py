"""BLEU against functional correctness (Codex paper §7.2): sentence BLEU of every sample against the
problem's canonical solution (sacrebleu, default 13a tokenizer, effective order), split by whether the
sample passed. Codex found the two distributions overlap heavily: BLEU is no proxy for correctness."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_PROBLEMS = 4  # problems shown one by one


def sentence_bleu(rows: Sequence[dict], problems: dict[str, dict]) -> list[float]:
    """BLEU (0-100) of each row's completion against its problem's canonical_solution; identical
    (task, completion) pairs are scored once. Equal to sacrebleu.sentence_bleu(completion, [reference]),
    with each reference tokenized once per problem (a one-segment corpus_score on cached references)."""
    from sacrebleu.metrics import BLEU

    metrics: dict[str, BLEU] = {}
    cache: dict[tuple[str, str], float] = {}
    scores = []
    for row in rows:
        task_id = row["task_id"]
        key = (task_id, row["completion"])
        if key not in cache:
            if task_id not in metrics:
                reference = problems[task_id].get("canonical_solution")
                if reference is None:
                    raise ValueError(f"problem {task_id} has no canonical_solution to compute BLEU against")
                metrics[task_id] = BLEU(effective_order=True, references=[[reference]])
            cache[key] = float(metrics[task_id].corpus_score([row["completion"]], None).score)
        scores.append(cache[key])
    return scores


def split(values: Sequence[float], passed: Sequence[bool]) -> dict:
    """{"correct": {...}, "incorrect": {...}}, each {"count", "mean", "scores"}."""
    out = {}
    for name, want in (("correct", True), ("incorrect", False)):
        chosen = [v for v, p in zip(values, passed) if bool(p) == want]
        out[name] = {"count": len(chosen), "mean": float(np.mean(chosen)) if chosen else None, "scores": chosen}
    return out


def pick_problems(rows: Sequence[dict], count: int = N_PROBLEMS) -> list[str]:
    """The problems with the most even mix of correct and incorrect samples (most informative), in
    order of that balance then problem order; problems with only one kind fill up the rest."""
    tally: dict[str, list[int]] = {}
    for row in rows:
        t = tally.setdefault(row["task_id"], [0, 0])
        t[0 if row["passed"] else 1] += 1
    order = {task_id: i for i, task_id in enumerate(tally)}
    return sorted(tally, key=lambda t: (-min(tally[t]), -sum(tally[t]), order[t]))[:count]


def bleu_analysis(rows: Sequence[dict], problems: dict[str, dict], count: int = N_PROBLEMS) -> dict:
    """{"overall": split, "problems": {task_id: split}} over scored rows (harness errors left out)."""
    rows = [r for r in rows if r["verdict"] != "harness_error"]
    scores = sentence_bleu(rows, problems)
    passed = [bool(r["passed"]) for r in rows]
    per_problem = {}
    for task_id in pick_problems(rows, count):
        mine = [i for i, r in enumerate(rows) if r["task_id"] == task_id]
        per_problem[task_id] = split([scores[i] for i in mine], [passed[i] for i in mine])
    return {"overall": split(scores, passed), "problems": per_problem}
