"""The PNG plots of `humaneval report` (matplotlib on Agg, via humaneval.plots), drawn from summary.json."""
from __future__ import annotations

import pathlib

from humaneval.plots import pyplot, save_figure

RANKING_STYLE = {"mean_logprob": ("mean log-prob", "-"), "sum_logprob": ("sum log-prob", "--"),
                 "random": ("random (pass@1)", ":"), "oracle": ("oracle (pass@k)", "-.")}


def pass_at_k_plot(summary: dict, path: pathlib.Path) -> pathlib.Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = sorted(summary["labels"], key=lambda label: summary["labels"][label]["temperature"])
    for k in map(str, summary["ks"]):
        points = [(summary["labels"][label]["temperature"], summary["labels"][label]["pass_at_k"][k])
                  for label in labels if summary["labels"][label]["pass_at_k"][k]["value"] is not None]
        if not points:
            continue
        xs = [t for t, _ in points]
        ys = [100 * e["value"] for _, e in points]
        err = [[100 * (e["value"] - e["ci_low"]) for _, e in points], [100 * (e["ci_high"] - e["value"]) for _, e in points]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"pass@{k}")
    ax.set_xlabel("temperature (0 = greedy)")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("pass@k (%), 95% bootstrap CI")
    ax.set_title("HumanEval pass@k against sampling temperature")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def ranking_plot(label: str, result: dict, path: pathlib.Path) -> pathlib.Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    curve = result["curve"]
    for name, (text, style) in RANKING_STYLE.items():
        ax.plot(curve["k"], [100 * v for v in curve[name]], style, label=text)
    ax.set_xscale("log")
    ticks = sorted({k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500) if k <= curve["k"][-1]} | {curve["k"][-1]})
    ax.set_xticks(ticks, [str(k) for k in ticks])
    ax.xaxis.set_minor_formatter(pyplot().NullFormatter())
    ax.set_ylim(bottom=0)
    ax.set_xlabel("k (samples drawn)")
    ax.set_ylabel("pass rate of the one chosen sample (%)")
    ax.set_title(f"Choosing 1 of k samples ({label}, Codex Fig. 7)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def bleu_plot(label: str, result: dict, path: pathlib.Path) -> pathlib.Path:
    plt = pyplot()
    panels = [("all problems", result["overall"]), *result["problems"].items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3), squeeze=False)
    bins = [i * 5 for i in range(21)]
    for ax, (title, split) in zip(axes[0], panels):
        for name, color in (("correct", "tab:green"), ("incorrect", "tab:red")):
            if split[name]["scores"]:
                ax.hist([min(max(v, 0.0), 100.0) for v in split[name]["scores"]], bins=bins, alpha=0.5, color=color, density=True,
                        label=f"{name} (mean {split[name]['mean']:.1f})")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("sentence BLEU")
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    fig.suptitle(f"BLEU against the canonical solution, by correctness ({label})", fontsize=10)
    return save_figure(fig, path)


def main_label(summary: dict) -> str:
    """The samples file the BLEU histograms show: most samples per problem, then the highest temperature."""
    return max(summary["labels"], key=lambda label: (summary["labels"][label]["n"], summary["labels"][label]["temperature"]))


def write_plots(summary: dict, plots_dir: pathlib.Path) -> list[pathlib.Path]:
    """Every plot of the report (BLEU histograms for main_label only: each is a 5-panel figure)."""
    written = [pass_at_k_plot(summary, plots_dir / "pass_at_k_vs_temperature.png")]
    for label, entry in summary["labels"].items():
        if "curve" in entry["ranking"]:
            written.append(ranking_plot(label, entry["ranking"], plots_dir / f"ranking_{label}.png"))
    label = main_label(summary)
    if "overall" in summary["labels"][label]["bleu"]:
        written.append(bleu_plot(label, summary["labels"][label]["bleu"], plots_dir / f"bleu_{label}.png"))
    return written
