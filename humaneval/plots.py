"""Plot helpers shared by every report: matplotlib on the Agg backend, PNGs written atomically."""
from __future__ import annotations

import os
import pathlib


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> pathlib.Path:
    """Save `fig` as PNG via a temp file and rename, then close it."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(fig)
    os.replace(tmp, path)
    return path
