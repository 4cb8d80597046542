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
    from jaxformer.fileio import atomic_path

    path = pathlib.Path(path)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        pyplot().close(fig)
    return path
