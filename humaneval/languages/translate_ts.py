"""HumanEval-TypeScript, derived from HumanEval-X JavaScript: the same problems with typed signatures.

Rule (docs/humaneval-x.md): the entry point's arrow function `const f = (a, b) => {` becomes
`const f = (a: A, b: B): R => {`. Each type comes from the same problem's Python prompt annotation when
it has one (the JS problems follow the Python originals: tuples stay tuples, None stays null), else from
the HumanEval-X C++ signature (typed everywhere, but it sometimes changes representation, e.g. "None"
strings), else it is left out (an implicit `any`; tsc runs without --strict, as MultiPL-E's TypeScript).
Mapping: int/float/double/long -> number, str/string/char -> string, bool -> boolean, List[T]/vector<T>
-> T[], Tuple[A, B] -> [A, B], Tuple[T, ...] -> T[], Optional[T] -> T | null, Dict/map<K, V> ->
Record<K, V>, Any/boost::any -> any. The canonical solution and the tests are the JS ones, with the tests'
console.assert calls made to our throwing humanevalAssert (ts.py defines it). Nothing is dropped: every
JS problem has a TS version (164).
"""
from __future__ import annotations

import ast
import re

from humaneval.languages.mutants import signature_line, split_params

PY_NAMES = {"int": "number", "float": "number", "str": "string", "bool": "boolean", "None": "null",
            "Any": "any", "list": "any[]", "List": "any[]", "dict": "Record<string, any>",
            "Dict": "Record<string, any>", "tuple": "any[]", "Tuple": "any[]"}
CPP_SCALARS = {"int": "number", "long": "number", "long long": "number", "float": "number", "double": "number",
               "bool": "boolean", "string": "string", "char": "string", "boost::any": "any", "list_any": "any[]"}
ARROW = re.compile(r"^const (\w+) = \((.*)\) => \{\s*$")


def python_type(node: ast.expr | None) -> str | None:
    """The TS type of a Python annotation node (None when there is no annotation)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and node.value is None:
        return "null"
    if isinstance(node, ast.Name):
        return PY_NAMES.get(node.id, "any")
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        outer = node.value.id
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        inner = [python_type(arg) if not (isinstance(arg, ast.Constant) and arg.value is Ellipsis) else "..."
                 for arg in args]
        if outer in ("List", "list") and len(inner) == 1:
            return array_of(inner[0])
        if outer in ("Tuple", "tuple"):
            return array_of(inner[0]) if "..." in inner else "[" + ", ".join(inner) + "]"
        if outer == "Optional":
            return f"{inner[0]} | null"
        if outer == "Union":
            return " | ".join(inner)
        if outer in ("Dict", "dict") and len(inner) == 2:
            return f"Record<{inner[0]}, {inner[1]}>"
    return "any"


def array_of(element: str) -> str:
    return f"({element})[]" if "|" in element else f"{element}[]"


def cpp_type(text: str) -> str | None:
    text = re.sub(r"\s+", " ", text.replace("const ", "").replace("&", "")).strip()
    if text in CPP_SCALARS:
        return CPP_SCALARS[text]
    match = re.fullmatch(r"vector ?<(.*)>", text)
    if match:
        element = cpp_type(match.group(1))
        return None if element is None else array_of(element)
    match = re.fullmatch(r"(map|pair) ?<(.*)>", text)
    if match:
        parts = [cpp_type(part) for part in split_params(match.group(2))]
        if len(parts) == 2 and None not in parts:
            return f"Record<{parts[0]}, {parts[1]}>" if match.group(1) == "map" else f"[{parts[0]}, {parts[1]}]"
    return None


def python_signature(prompt: str) -> tuple[list[str | None], str | None]:
    """([parameter types], return type) of the Python prompt's entry point (its last def)."""
    entry = [node for node in ast.parse(prompt).body if isinstance(node, ast.FunctionDef)][-1]
    return [python_type(arg.annotation) for arg in entry.args.args], python_type(entry.returns)


def cpp_signature(prompt: str) -> tuple[list[str | None], str | None]:
    line = signature_line(prompt).rstrip().rstrip("{")
    match = re.match(r"^\s*(.*?)\s*\b(\w+)\s*\((.*)\)\s*$", line)
    if match is None:
        return [], None
    params = [" ".join(p.replace("&", " ").split()[:-1]) for p in split_params(match.group(3))]
    return [cpp_type(p) for p in params], cpp_type(match.group(1))


def typed_signature(task_id: str, js_line: str, python: tuple, cpp: tuple) -> str:
    match = ARROW.match(js_line)
    if match is None:
        raise ValueError(f"not an arrow-function signature: {js_line!r}")
    name, params = match.group(1), split_params(match.group(2))
    py_params, py_return = python
    cpp_params, cpp_return = cpp
    typed = []
    for i, param in enumerate(params):
        if i >= len(py_params):  # a JS-only extra parameter (JS/8's `int`): the tests never pass it
            typed.append(f"{param}?: any")
            continue
        candidates = [types[i] if i < len(types) and len(types) <= len(params) else None
                      for types in (py_params, cpp_params)]
        kind = next((t for t in candidates if t is not None), None)
        typed.append(param if kind is None or "=" in param else f"{param}: {kind}")
    result = RETURN_OVERRIDES.get(task_id) or (py_return if py_return is not None else cpp_return)
    suffix = f": {result}" if result is not None else ""
    return f"const {name} = ({', '.join(typed)}){suffix} => {{\n"


def translate_problem(js: dict, python: dict, cpp: dict) -> dict:
    line = signature_line(js["prompt"])
    typed = typed_signature(js["task_id"], line, python_signature(python["prompt"]), cpp_signature(cpp["prompt"]))
    number = js["task_id"].split("/")[1]

    def retype(text: str) -> str:
        head, sep, tail = text.rpartition(line)
        if not sep:
            raise ValueError(f"{js['task_id']}: signature line not found")
        return head + typed + tail.lstrip("\n")
    return {"task_id": f"TypeScript/{number}", "prompt": retype(js["prompt"]),
            "declaration": retype(js["declaration"]), "canonical_solution": canonical_ts(js["task_id"], js["canonical_solution"]),
            "test": fixed_test(js["task_id"], assert_calls(js["test"])),
            "example_test": assert_calls(js.get("example_test", ""))}


def canonical_ts(task_id: str, canonical: str) -> str:
    """The JS canonical as TS: it is JavaScript, not always type-correct (boolean arithmetic, charCodeAt()
    without an index, a parameter reassigned to another type), so every line gets `// @ts-ignore`; its
    implicit globals (`s = ...`, `for (m in t)`) are declared with `var`, since a TS module is strict mode."""
    declared = set(re.findall(r"\b(?:let|const|var|function)\s+(\w+)", canonical))
    declared |= {name for group in re.findall(r"\b(?:let|const|var)\s+([\w\s,]+?)(?:=|;|\bof\b|\bin\b)", canonical)
                 for name in re.findall(r"\w+", group)}
    assigned = re.findall(r"(?m)^\s*(\w+)\s*=[^=>]", canonical) + re.findall(r"\bfor\s*\(\s*(\w+)\s+(?:in|of)\b", canonical)
    implicit = sorted({name for name in assigned if name not in declared and not name[0].isupper()})
    if task_id in PAIR_FIXES:
        canonical = PAIRS.sub(r"[\1, \2]", canonical)
    head = f"  // @ts-ignore\n  var {', '.join(implicit)};\n" if implicit else ""
    return head + "".join(f"  // @ts-ignore\n{line}\n" for line in canonical.rstrip("\n").split("\n")) + "\n"


# JS tests mistranslated from Python that tsc rejects (they ran only because JS checks no types).
TEST_FIXES = {
    "JavaScript/2": ("Math.abs(truncateNumber(123.456 - 0.456) < 1e-6)",  # Python: abs(f(123.456) - 0.456) < 1e-6
                     "Math.abs(truncateNumber(123.456) - 0.456) < 1e-6"),
}


# JS/87 writes its (row, column) pairs with the comma operator, in the canonical and in the tests (so JS
# compared lists of columns); tsc rejects the comma operator, so both get real pairs, as in Python.
PAIRS = re.compile(r"\((\w+), (\w+)\)")
PAIR_FIXES = {"JavaScript/87"}


# The C++ type where the JS (and Python) result differs: CPP/103 returns "-1" as a string, JS -1.
RETURN_OVERRIDES = {"JavaScript/103": "string | number"}


def fixed_test(task_id: str, test: str) -> str:
    # a test's own variable first an array, then a string (JS/38, JS/50): typed any
    test = re.sub(r"\blet (\w+) = new Array\(", r"let \1: any = new Array(", test)
    if task_id in TEST_FIXES:
        old, new = TEST_FIXES[task_id]
        if old not in test:
            raise ValueError(f"{task_id}: test fix no longer applies (text {old!r} not found)")
        test = test.replace(old, new)
    if task_id in PAIR_FIXES:
        test = PAIRS.sub(r"[\1, \2]", test)
    return test


def assert_calls(test: str) -> str:
    return test.replace("console.assert(", "humanevalAssert(")


def translate(js_problems: dict, python_problems: dict, cpp_problems: dict) -> tuple[list[dict], dict[str, str]]:
    """(TypeScript problems, {excluded JS task id: reason}); no JS problem is excluded today."""
    problems = []
    for task_id, js in js_problems.items():
        number = task_id.split("/")[1]
        problems.append(translate_problem(js, python_problems[f"Python/{number}"], cpp_problems[f"CPP/{number}"]))
    return problems, {}
