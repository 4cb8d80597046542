"""Comparing a program's observed value with the gold output: `faithful` and `strict`.

faithful reproduces reference mtpb_exec.py check_equivalence(o1=observed, o2=gold) step by step,
quirks included (see docs/mtpb.md), except that it never raises: every case where the reference raised
(dict and None golds, unsupported types, failed coercions) is a failure, as the reference's caller
counted it.

strict compares typed values: numpy scalars/arrays, pandas Series and tuples are first turned into
plain Python values, then the JSON type of gold must match (int and float are both numbers, compared
within 1e-6 like the reference's floats), including dict and None golds; nothing is coerced from strings.
"""
from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

TOLERANCE = 1e-6  # reference check_equivalence: floats equal when abs(o1 - o2) < 1e-6
MODES = ("faithful", "strict")

# reference check_equivalence (3): exactly these numpy types are converted (not int8, uint16, ...).
_REFERENCE_INTS = (np.uint8, np.int16, np.int32, np.int64)
_REFERENCE_FLOATS = (np.float16, np.float32, np.float64)


def _is_pandas_series(value: Any) -> bool:
    # reference (1): str(type(o1)) == "<class 'pandas.core.series.Series'>", an exact-type test written
    # for pandas 1.x; pandas 3 prints that class as "pandas.Series", so compare the class itself.
    pandas = sys.modules.get("pandas")
    return pandas is not None and type(value) is pandas.Series


def _reference_check(o1: Any, o2: Any) -> bool:
    """Reference check_equivalence; may raise, exactly where the reference raised."""
    if _is_pandas_series(o1):
        o1 = o1.to_numpy()
        o2 = np.array(o2)
    elif type(o1) == list:  # noqa: E721 -- reference compares exact types
        if len(o1) > 0 and type(o1[0]) == tuple:  # noqa: E721
            o1 = [list(t) for t in o1]
    elif type(o1) in _REFERENCE_INTS:
        o1 = int(o1)
    elif type(o1) in _REFERENCE_FLOATS:
        o1 = float(o1)
    elif type(o1) == np.bool_:  # noqa: E721
        o1 = bool(o1)
    elif type(o1) == np.ndarray:  # noqa: E721
        o1 = o1.tolist()

    if type(o1) != type(o2):  # noqa: E721
        if type(o2) == bool:  # noqa: E721 -- reference: bool("False") is True, so compare as text
            o1, o2 = str(o1), str(o2)
        else:
            o1 = type(o2)(o1)  # the coercion that makes 5 == "5" and int(5.9) == 5 pass

    kind = type(o1)
    if kind in (str, int, set, list, bool, tuple):
        return bool(o1 == o2)
    if kind == float:
        return bool(abs(o1 - o2) < TOLERANCE)
    if kind == np.ndarray:
        return bool(np.allclose(o1, o2))
    raise ValueError(f"Unsupported type {kind}")  # reference: dict and None golds always end here


def faithful_equal(observed: Any, gold: Any) -> bool:
    """Reference check_equivalence, with every exception counted as a failure (as its caller did)."""
    try:
        return _reference_check(observed, gold)
    except Exception:  # noqa: BLE001 -- reference eval_problem: `except Exception` -> test_success False
        return False


def to_plain(value: Any) -> Any:
    """numpy/pandas values, tuples and nested containers as plain Python values (for strict)."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray) or _is_pandas_series(value):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _strict_match(observed: Any, gold: Any) -> bool:
    if gold is None or isinstance(gold, (bool, str)):
        return type(observed) is type(gold) and observed == gold
    if _is_number(gold):
        if not _is_number(observed):
            return False
        if isinstance(observed, int) and isinstance(gold, int):
            return observed == gold
        return math.isfinite(observed) and abs(observed - gold) < TOLERANCE
    if isinstance(gold, list):
        return (isinstance(observed, list) and len(observed) == len(gold)
                and all(_strict_match(o, g) for o, g in zip(observed, gold)))
    if isinstance(gold, dict):
        return (isinstance(observed, dict) and observed.keys() == gold.keys()
                and all(_strict_match(observed[k], gold[k]) for k in gold))
    return False


def strict_equal(observed: Any, gold: Any) -> bool:
    try:
        return _strict_match(to_plain(observed), gold)
    except Exception:  # noqa: BLE001 -- an observed value that cannot be compared is a failure
        return False


class _SeenOrderSet(set):
    """A set that iterates and prints in the order the program's own set did. The reference coerced an
    observed set with list(o1) / str(o1) inside the program's process, so that order decides e.g.
    list({"b", "a"}) == ["b", "a"]; rebuilding a plain set here would use this process's hash order."""

    def __init__(self, items=()):
        self._order = list(dict.fromkeys(items))
        super().__init__(self._order)

    def __iter__(self):
        return iter(self._order)

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self._order)) + "}" if self._order else "set()"


class _SeenOrderFrozenset(frozenset):
    def __new__(cls, items=()):
        order = list(dict.fromkeys(items))
        obj = super().__new__(cls, order)
        obj._order = order
        return obj

    def __iter__(self):
        return iter(self._order)

    def __repr__(self) -> str:
        return "frozenset({" + ", ".join(map(repr, self._order)) + "})" if self._order else "frozenset()"


def decode_observed(node: dict) -> Any:
    """humaneval.engine.values.decode_value, except that sets keep the program's iteration order."""
    from humaneval.engine.values import decode_value

    tag = node.get("t") if isinstance(node, dict) else None
    if tag in ("set", "frozenset"):
        items = [decode_observed(v) for v in node["items"]]
        return _SeenOrderSet(items) if tag == "set" else _SeenOrderFrozenset(items)
    if tag in ("list", "tuple"):
        items = [decode_observed(v) for v in node["items"]]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        return {decode_observed(k): decode_observed(v) for k, v in node["items"]}
    return decode_value(node)


def equal(observed: Any, gold: Any, mode: str) -> bool:
    if mode == "faithful":
        return faithful_equal(observed, gold)
    if mode == "strict":
        return strict_equal(observed, gold)
    raise ValueError(f"unknown comparison mode {mode!r}; choose from {', '.join(MODES)}")
