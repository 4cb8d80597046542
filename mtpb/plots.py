"""RUN/plots/*.png of `mtpb compare`, drawn from summary.json alone (humaneval.plots: Agg, atomic PNGs)."""
from __future__ import annotations

import os
import pathlib

from humaneval.plots import pyplot, save_figure

MODES = ("multi", "single")
COLORS = {"multi": "tab:blue", "single": "tab:orange"}


def _bars(ax, groups: dict, title: str) -> None:
    labels = list(groups)
    width = 0.4
    for i, mode in enumerate(MODES):
        values = [100 * (groups[g][mode] or 0.0) for g in labels]
        ax.bar([x + (i - 0.5) * width for x in range(len(labels))], values, width, label=f"{mode}-turn",
               color=COLORS[mode])
    ax.set_xticks(range(len(labels)), [f"{g}\n({groups[g]['problems']})" for g in labels], fontsize=8)
    ax.set_ylabel("pass rate (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)


def _log_if_wide(ax, values, axis: str) -> None:
    # log axes only for ranges wider than 10x: narrow ones get unreadable minor tick labels
    if values and min(values) > 0 and max(values) / min(values) > 10:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _per_problem(s: dict, field: str, mode: str) -> list:
    return [p[mode][field] for p in s["per_problem"].values()]


def pass_rate(s: dict, path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1.3]})
    _bars(axes[0], {"all": {"problems": s["problems"], **s["pass_rate"]}, **s["by_category"]}, "by category")
    _bars(axes[1], s["difficulty"]["bins"], "by difficulty")
    save_figure(fig, path)


def perplexity(s: dict, path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    pairs = [(p["single"]["ppl"], p["multi"]["ppl"]) for p in s["per_problem"].values()
             if p["single"]["ppl"] is not None and p["multi"]["ppl"] is not None]
    if pairs:
        xs, ys = zip(*pairs)
        ax.scatter(xs, ys, s=14, alpha=0.7)
        lo, hi = min(xs + ys), max(xs + ys)
        ax.plot([lo, hi], [lo, hi], color="gray", lw=1, ls="--", label="equal")
        _log_if_wide(ax, xs + ys, "x")
        _log_if_wide(ax, xs + ys, "y")
        ax.legend(fontsize=8)
    ax.set_xlabel("single-turn prompt perplexity")
    ax.set_ylabel("multi-turn prompt perplexity")
    ax.set_title("per problem (below the line: multi lower)")
    save_figure(fig, path)


def ppl_vs_success(s: dict, path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, mode in zip(axes, MODES):
        pts = [(x, 100 * y) for x, y in zip(_per_problem(s, "ppl", mode), _per_problem(s, "pass_rate", mode))
               if x is not None and y is not None]
        if pts:
            ax.scatter(*zip(*pts), s=14, alpha=0.7, color=COLORS[mode])
            _log_if_wide(ax, [x for x, _ in pts], "x")
        ax.set_ylim(-5, 105)
        rho = s["ppl_vs_success"][mode]["spearman"]["rho"]
        ax.set_title(f"{mode}-turn (Spearman rho {'n/a' if rho is None else f'{rho:.2f}'})")
        ax.set_xlabel("prompt perplexity (problem mean)")
    axes[0].set_ylabel("pass rate (%)")
    save_figure(fig, path)


def per_turn(s: dict, path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    turns = s["per_turn"]["first_failing_turn"]["turns"]
    axes[0].bar(list(turns), list(turns.values()), color=COLORS["multi"])
    axes[0].set_xlabel("first failing turn")
    axes[0].set_ylabel("rows")
    axes[0].set_title("where multi-turn programs first fail")
    _bars(axes[1], s["per_turn"]["by_turn_count"], "pass rate by number of turns")
    save_figure(fig, path)


def write_all(s: dict, plots_dir: str | os.PathLike) -> list[pathlib.Path]:
    plots_dir = pathlib.Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for name, draw in (("pass_rate", pass_rate), ("perplexity", perplexity),
                       ("ppl_vs_success", ppl_vs_success), ("per_turn", per_turn)):
        draw(s, plots_dir / f"{name}.png")
        out.append(plots_dir / f"{name}.png")
    return out
