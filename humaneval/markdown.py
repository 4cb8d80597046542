"""Markdown pieces shared by every report."""
from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; floats are shown with 2 decimals unless already formatted as str."""
    def cell(v):
        if isinstance(v, float):
            return "n/a" if v != v else f"{v:.2f}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def percent(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:.{digits}f}%"
