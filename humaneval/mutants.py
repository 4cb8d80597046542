"""Known-wrong completions for HumanEval problems, for self-checks and benchmarks.

As in MultiPL-E's --testing mode: a canonical solution must pass and each of these must fail. All of
them terminate, so they measure the harness, not timeouts.
"""
from __future__ import annotations

WRONG_VALUE = """
def _wrong(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, (list, tuple)):
        return type(value)(list(value) + [None])
    return "wrong"
_right_{name} = {name}
def {name}(*args, **kwargs):
    return _wrong(_right_{name}(*args, **kwargs))
"""


def wrong_completion(problem: dict, kind: int) -> str:
    """Five ways to be wrong, all terminating: wrong value, NameError, SyntaxError, exception, echo input."""
    canonical = problem["canonical_solution"]
    return [
        canonical + WRONG_VALUE.format(name=problem["entry_point"]),
        "    return undefined_helper()\n",
        canonical + "    )\n",
        "    raise ValueError('wrong solution')\n" + canonical,
        "    return next(iter(locals().values()))\n",  # returns its first argument
    ][kind % 5]
