"""Failure categories of HumanEval results rows, from the engine's verdicts (for the per-problem table)."""
from __future__ import annotations

import collections
from collections.abc import Iterable

SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}


def failure_category(row: dict) -> str | None:
    """None for a pass; else "syntax error", "assertion", "exception: <type>", "timeout", "out of memory",
    "crashed (<signal>)" or "harness error"."""
    verdict = row["verdict"]
    if verdict == "passed":
        return None
    if verdict == "timeout":
        return "timeout"
    if verdict == "out_of_memory":
        return "out of memory"
    if verdict == "harness_error":
        return "harness error"
    error_type = row.get("error_type")
    if verdict == "crashed":
        return f"crashed ({error_type or 'signal'})"
    if error_type in SYNTAX_ERRORS:
        return "syntax error"
    if error_type == "AssertionError":  # check() found a wrong answer
        return "assertion"
    return f"exception: {error_type or 'unknown'}"


def per_problem(rows: Iterable[dict]) -> dict[str, dict]:
    """{task_id: {"samples", "passes", "failures": {category: count}}}, tasks in order of first row;
    harness-error rows are counted as samples of category "harness error", not as passes."""
    out: dict[str, dict] = {}
    for row in rows:
        entry = out.setdefault(row["task_id"], {"samples": 0, "passes": 0, "failures": collections.Counter()})
        entry["samples"] += 1
        category = failure_category(row)
        if category is None:
            entry["passes"] += 1
        else:
            entry["failures"][category] += 1
    for entry in out.values():
        entry["failures"] = dict(sorted(entry["failures"].items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def totals(table: dict[str, dict]) -> dict[str, int]:
    """Failure categories summed over problems, most common first."""
    counter = collections.Counter()
    for entry in table.values():
        counter.update(entry["failures"])
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
