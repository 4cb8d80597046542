"""Captured values as a JSON-able tagged tree, and back. Never pickle: the value comes from untrusted code.

encode_value runs in the sandbox after the program finished; decode_value runs in the evaluator.
Every node is a dict with a "t" tag. Values that cannot be represented faithfully (unknown types, or past
the size budget) become {"t": "repr"} / {"t": "truncated"} and decode to an Opaque, which equals nothing
but an identical Opaque, so a checker can never mistake it for a gold value.
"""
from __future__ import annotations

import base64
import decimal
import fractions
import math
from dataclasses import dataclass

MAX_ITEMS = 100_000  # total nodes per value
MAX_CHARS = 1 << 20  # total characters of strings/bytes per value
MAX_DEPTH = 64


@dataclass(frozen=True)
class Opaque:
    type_name: str
    text: str


class _Budget:
    def __init__(self):
        self.items = MAX_ITEMS
        self.chars = MAX_CHARS

    def take(self, items: int, chars: int = 0) -> bool:
        self.items -= items
        self.chars -= chars
        return self.items >= 0 and self.chars >= 0


def _type_name(x) -> str:
    cls = type(x)
    return f"{cls.__module__}.{cls.__qualname__}" if cls.__module__ != "builtins" else cls.__qualname__


def _opaque(x, tag: str) -> dict:
    try:
        text = repr(x)
    except BaseException as e:  # a hostile __repr__ must not take the driver down
        text = f"<repr failed: {type(e).__name__}>"
    return {"t": tag, "type": _type_name(x), "v": text[:1000]}


def _float(x: float) -> dict:
    if math.isnan(x):
        return {"t": "float", "v": "nan"}
    if math.isinf(x):
        return {"t": "float", "v": "inf" if x > 0 else "-inf"}
    return {"t": "float", "v": float(x)}


def encode_value(x, *, _budget=None, _depth=0, _active=None) -> dict:
    """A JSON-able tagged tree for x (bounded in size; see module doc)."""
    budget = _budget or _Budget()
    active = _active if _active is not None else set()
    if not budget.take(1) or _depth > MAX_DEPTH:
        return _opaque(x, "truncated")
    kind = type(x)
    if x is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": x}
    if kind is int:
        if abs(x) < 1 << 53:
            return {"t": "int", "v": x}
        if not budget.take(0, x.bit_length() // 4):
            return _opaque(x, "truncated")
        return {"t": "int", "hex": hex(x)}  # hex avoids the 4300-digit str() limit
    if kind is float:
        return _float(x)
    if kind is complex:
        return {"t": "complex", "re": _float(x.real), "im": _float(x.imag)}
    if kind is str:
        if not budget.take(0, len(x)):
            return _opaque(x, "truncated")
        return {"t": "str", "v": x}
    if kind in (bytes, bytearray):
        if not budget.take(0, len(x)):
            return _opaque(x, "truncated")
        return {"t": kind.__name__, "b64": base64.b64encode(x).decode("ascii")}
    if kind is decimal.Decimal:
        return {"t": "decimal", "v": str(x)}
    if kind is fractions.Fraction:
        return {"t": "fraction", "n": encode_value(x.numerator, _budget=budget), "d": encode_value(x.denominator, _budget=budget)}
    if kind in (list, tuple, set, frozenset, dict):
        if id(x) in active:
            return _opaque(x, "truncated")  # self-containing container
        active.add(id(x))
        try:
            sub = dict(_budget=budget, _depth=_depth + 1, _active=active)
            if kind is dict:
                return {"t": "dict", "items": [[encode_value(k, **sub), encode_value(v, **sub)] for k, v in x.items()]}
            return {"t": kind.__name__, "items": [encode_value(v, **sub) for v in x]}
        finally:
            active.discard(id(x))
    encoded = _encode_numpy_pandas(x, budget, _depth, active)
    return encoded if encoded is not None else _opaque(x, "repr")


def _encode_numpy_pandas(x, budget, depth, active):
    import sys
    np = sys.modules.get("numpy")  # only if the program (or the zygote) imported it
    if np is not None:
        if isinstance(x, np.ndarray):
            if not budget.take(int(x.size), int(x.nbytes) if x.dtype.kind in "US" else 0):
                return _opaque(x, "truncated")
            return {"t": "ndarray", "dtype": x.dtype.str if x.dtype.kind != "O" else "object",
                    "shape": list(x.shape), "data": _encode_flat(np, x, budget, depth, active)}
        if isinstance(x, np.generic):
            flat = _encode_flat(np, np.asarray(x).reshape(1), budget, depth, active)
            return {"t": "npscalar", "dtype": x.dtype.str if x.dtype.kind != "O" else "object", "data": flat}
    pd = sys.modules.get("pandas")
    if pd is not None:
        sub = dict(_budget=budget, _depth=depth + 1, _active=active)
        if isinstance(x, pd.Series):
            return {"t": "series", "name": encode_value(x.name, **sub), "index": _encode_index(x.index, sub),
                    "values": encode_value(x.to_numpy(), **sub)}
        if isinstance(x, pd.DataFrame):
            return {"t": "dataframe", "columns": _encode_index(x.columns, sub), "index": _encode_index(x.index, sub),
                    "data": [encode_value(x.iloc[:, i].to_numpy(), **sub) for i in range(x.shape[1])]}
    return None


def _encode_index(index, sub) -> dict:
    return {"name": encode_value(index.name, **sub), "values": encode_value(list(index), **sub)}


def _encode_flat(np, arr, budget, depth, active) -> list:
    """Flat element list: plain JSON numbers/strings for simple dtypes, tagged nodes for object arrays."""
    flat = arr.reshape(-1)
    kind = arr.dtype.kind
    if kind in "biu":
        return [int(v) for v in flat.tolist()]
    if kind == "f":
        return [_float(v)["v"] for v in flat.tolist()]
    if kind == "c":
        return [[_float(v.real)["v"], _float(v.imag)["v"]] for v in flat.tolist()]
    if kind in "US":
        return [v if kind == "U" else base64.b64encode(v).decode("ascii") for v in flat.tolist()]
    if kind in "mM":
        return [str(v) for v in flat.astype(str).tolist()]
    return [encode_value(v, _budget=budget, _depth=depth + 1, _active=active) for v in flat.tolist()]


def _decode_float(v):
    return float(v) if isinstance(v, str) else v


def decode_value(node):
    """Rebuild the Python / numpy / pandas value from encode_value's tree (imports numpy/pandas only if needed)."""
    t = node["t"]
    if t == "none":
        return None
    if t in ("bool", "str"):
        return node["v"]
    if t == "int":
        return node["v"] if "v" in node else int(node["hex"], 16)
    if t == "float":
        return _decode_float(node["v"])
    if t == "complex":
        return complex(decode_value(node["re"]), decode_value(node["im"]))
    if t in ("bytes", "bytearray"):
        raw = base64.b64decode(node["b64"])
        return raw if t == "bytes" else bytearray(raw)
    if t == "decimal":
        return decimal.Decimal(node["v"])
    if t == "fraction":
        return fractions.Fraction(decode_value(node["n"]), decode_value(node["d"]))
    if t in ("list", "tuple", "set", "frozenset"):
        items = [decode_value(v) for v in node["items"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[t](items)
    if t == "dict":
        return {decode_value(k): decode_value(v) for k, v in node["items"]}
    if t in ("ndarray", "npscalar"):
        import numpy as np
        arr = _decode_array(np, node)
        return arr if t == "ndarray" else arr.reshape(-1)[0]
    if t in ("series", "dataframe"):
        import pandas as pd
        index = _decode_index(pd, node["index"])
        if t == "series":
            return pd.Series(decode_value(node["values"]), index=index, name=decode_value(node["name"]))
        columns = _decode_index(pd, node["columns"])
        data = {i: decode_value(col) for i, col in enumerate(node["data"])}
        frame = pd.DataFrame(data, index=index)
        frame.columns = columns
        return frame
    if t in ("repr", "truncated"):
        return Opaque(node.get("type", "?"), node.get("v", ""))
    raise ValueError(f"decode_value: unknown tag {t!r}")


def _decode_array(np, node):
    dtype = np.dtype(node["dtype"]) if node["dtype"] != "object" else np.dtype(object)
    data = node["data"]
    if dtype.kind == "f":
        flat = [_decode_float(v) for v in data]
    elif dtype.kind == "c":
        flat = [complex(_decode_float(re), _decode_float(im)) for re, im in data]
    elif dtype.kind == "S":
        flat = [base64.b64decode(v) for v in data]
    elif dtype.kind == "O":
        flat = [decode_value(v) for v in data]
    else:
        flat = data
    if dtype.kind == "O":
        arr = np.empty(len(flat), dtype=object)
        arr[:] = flat if flat else arr[:0]
    else:
        arr = np.array(flat, dtype=dtype)
    return arr.reshape(node.get("shape", [len(flat)]))


def _decode_index(pd, node):
    return pd.Index(decode_value(node["values"]), name=decode_value(node["name"]), tupleize_cols=True)
