"""MTPB programs: assemble the multi-turn history, and make its last statement print (as the reference).

Reference mtpb_sample.py builds one program per test case: a fixed prefix, then per turn the prompt as a
comment, the truncated completion and a blank line. Reference mtpb_exec.py then rewrites the program's
last statement into a print call via the AST, runs it, and judges the first argument of the last print.
"""
from __future__ import annotations

import ast
from collections.abc import Sequence

PREFIX = "# Import libraries.\n\nimport numpy as np\n\n"


def turn_header(prompt: str) -> str:
    return f"# {prompt}\n"


def build_program(prompts: Sequence[str], completions: Sequence[str]) -> str:
    """The reference history: PREFIX, then per turn "# {prompt}\\n" + completion + "\\n\\n"."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    return PREFIX + "".join(turn_header(p) + c + "\n\n" for p, c in zip(prompts, completions))


def _already_prints(statement: ast.stmt) -> bool:
    # reference ends_with_print(): body[-1].value.func.id.startswith('print'), so `x = print(y)` and
    # `print_result()` also count as printing and are left alone.
    func = getattr(getattr(statement, "value", None), "func", None)
    return isinstance(func, ast.Name) and func.id.startswith("print")


def rewrite_last_print(code: str) -> str:
    """Wrap the value of the program's last statement in print(...), as reference rewrite_ast_with_print.

    Kept on purpose (reference behaviour): any last statement with a `value` is wrapped, so
    `x = f()` becomes `x = print(f())` and `x += 1` becomes `x += print(1)`; statements without a value
    (for, if, def, import) are left as they are; a program that does not parse, is empty, or cannot be
    unparsed is returned unchanged (reference try_rewrite_ast_with_print).
    """
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if _already_prints(last) or not hasattr(last, "value"):
            return code
        last.value = ast.Call(func=ast.Name(id="print", ctx=ast.Load()), args=[last.value], keywords=[])
        ast.fix_missing_locations(tree)
        return ast.unparse(tree)
    except Exception:  # noqa: BLE001 -- reference: any failure leaves the code as it was
        return code
