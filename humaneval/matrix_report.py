"""The `humaneval matrix` report: pass@1 matrix (models x languages) and its delta against the base model
(CSV + markdown), CodeM's correlations `df.corr()` of the matrix and of `df.T`, heatmaps, report.md and
summary.json (every number shown, plus fingerprints, settings, machine and stage times).

A correlation is NaN ("n/a") where a column is constant (e.g. every model at 0% on a language): pandas'
Pearson correlation is undefined there, and it is reported as such, never filled in.
"""
from __future__ import annotations

import json
import math
import pathlib

from humaneval import markdown
from humaneval.results import write_text_atomic

FILES = ("pass_at_1.csv", "delta.csv", "corr_languages.csv", "corr_models.csv", "report.md", "summary.json",
         "pass_at_1.png", "corr_languages.png", "corr_models.png")


def frames(cells: list[dict], labels, languages, base: str):
    """(pass@1 DataFrame models x languages, its delta against the base row, corr over languages, corr over models)."""
    import pandas as pd

    df = pd.DataFrame(index=list(labels), columns=list(languages), dtype=float)
    for cell in cells:
        df.loc[cell["model"], cell["language"]] = cell["pass@1"]
    df.index.name, df.columns.name = "model", "language"
    delta = df - df.loc[base]
    return df, delta, df.corr(), df.T.corr()  # CodeM: df.corr() before and after df.T


def _nan_to_none(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _as_json(df) -> dict:
    return {str(r): {str(c): _nan_to_none(float(df.loc[r, c])) for c in df.columns} for r in df.index}


def _table(df, fmt) -> str:
    rows = [[r] + [fmt(df.loc[r, c]) for c in df.columns] for r in df.index]
    return markdown.table([df.index.name or ""] + [str(c) for c in df.columns], rows)


def _signed_points(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:+.2f}"


def _corr(x: float) -> str:
    return "n/a" if x != x else f"{x:.2f}"


def heatmap(df, path, title: str, fmt, vmin=None, vmax=None, cmap="viridis"):
    from humaneval.plots import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.1 * len(df.columns) + 2.5, 0.6 * len(df.index) + 1.8))
    image = ax.imshow(df.to_numpy(dtype=float), vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
    ax.set_xticks(range(len(df.columns)), [str(c) for c in df.columns], rotation=30, ha="right")
    ax.set_yticks(range(len(df.index)), [str(r) for r in df.index])
    for i, r in enumerate(df.index):
        for j, c in enumerate(df.columns):
            ax.text(j, i, fmt(df.loc[r, c]), ha="center", va="center", color="white", fontsize=8)
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
    return save_figure(fig, path)


def write_report(out, settings, cells: list[dict], info: dict) -> dict:
    """Write every report file into OUT; returns summary.json's content. `info`: machine, toolkit, stages."""
    out = pathlib.Path(out)
    df, delta, corr_languages, corr_models = frames(cells, settings.labels, settings.languages, settings.base)
    write_text_atomic(out / "pass_at_1.csv", df.to_csv(float_format="%.6f"))
    write_text_atomic(out / "delta.csv", delta.to_csv(float_format="%.6f"))
    write_text_atomic(out / "corr_languages.csv", corr_languages.to_csv(float_format="%.6f"))
    write_text_atomic(out / "corr_models.csv", corr_models.to_csv(float_format="%.6f"))
    heatmap(df, out / "pass_at_1.png", "greedy pass@1", markdown.percent, vmin=0.0, vmax=max(0.01, df.max().max()))
    heatmap(corr_languages, out / "corr_languages.png", "df.corr(): languages", _corr, -1, 1, "coolwarm")
    heatmap(corr_models, out / "corr_models.png", "df.T.corr(): models", _corr, -1, 1, "coolwarm")
    by_model = {}
    for cell in cells:
        by_model.setdefault(cell["model"], {"spec": settings.spec(cell["model"]), "sha256": cell["model_sha256"],
                                            "fingerprint": cell["fingerprint"]})
    summary = {"settings": settings.as_json(), "pass_at_1": _as_json(df), "delta_vs_base": _as_json(delta),
               "corr_languages": _as_json(corr_languages), "corr_models": _as_json(corr_models),
               "cells": [{k: v for k, v in c.items() if k != "fingerprint"} for c in cells],
               "models": by_model, **info}
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_text_atomic(out / "report.md", report_markdown(settings, df, delta, corr_languages, corr_models, cells,
                                                         by_model, info))
    return summary


def report_markdown(settings, df, delta, corr_languages, corr_models, cells, by_model, info) -> str:
    from humaneval.runinfo import describe_machine

    problems = {c["language"]: c["problems"] for c in cells}
    lines = [
        "# Cross-language pass@1 matrix (CodeM protocol)", "",
        f"Greedy pass@1, {'CodeM instruction prompt + code extraction' if settings.instruct else 'plain prompts'}, "
        f"max_new_tokens {settings.max_new_tokens}, timeout {settings.timeout} s; problems per language: "
        + ", ".join(f"{k} {v}" for k, v in problems.items())
        + (f" (the first {settings.limit} of each)" if settings.limit else "") + ".", "",
        "## pass@1", "", _table(df, markdown.percent),
        f"## Delta against the base model `{settings.base}` (percentage points)", "", _table(delta, _signed_points),
        "## Correlation between languages (`df.corr()`)", "", _table(corr_languages, _corr),
        "## Correlation between models (`df.T.corr()`)", "", _table(corr_models, _corr),
        "n/a: undefined (a constant column, e.g. every model at the same pass@1).", "",
        "![pass@1](pass_at_1.png) ![df.corr()](corr_languages.png) ![df.T.corr()](corr_models.png)", "",
        "## Cells", "",
        markdown.table(["model", "language", "pass@1", "passed", "problems", "verdicts", "generate s", "evaluate s"],
                       [[c["model"], c["language"], markdown.percent(c["pass@1"]), c["passed"], c["problems"],
                         ", ".join(f"{k}={v}" for k, v in c["verdicts"].items()), f"{c['generate_s']:.1f}",
                         f"{c['evaluate_s']:.1f}"] for c in cells]),
        "## Models", "",
        markdown.table(["label", "spec", "sha256"], [[k, v["spec"], v["sha256"][:16]] for k, v in by_model.items()]),
        "## Machine and stage times", "",
        f"{describe_machine(info['machine'])}; toolkit {info.get('toolkit', 'unknown')}; stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in info.get("stages", {}).items()), "",
    ]
    return "\n".join(lines)
