"""report.md of `humaneval report`, rendered from summary.json alone (so every number shown is in it)."""
from __future__ import annotations

from humaneval import runinfo
from humaneval.markdown import percent, table

CURVE_KS = (1, 2, 5, 10, 20, 50, 100, 200)


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _pass_cell(entry: dict) -> str:
    if entry["value"] is None:
        return entry.get("note", "n/a")
    return f"{percent(entry['value'])} [{percent(entry['ci_low'])}, {percent(entry['ci_high'])}]"


def _labels(summary: dict) -> list[str]:
    return sorted(summary["labels"], key=lambda label: summary["labels"][label]["temperature"])


def header(summary: dict) -> list[str]:
    model, settings, problems = summary["model"], summary["settings"], summary["problems"]
    machine = summary["machine"]
    lines = [f"# HumanEval report: {model.get('spec', 'unknown model')}", "",
             f"- **Model:** `{model.get('spec')}`, fingerprint sha256 `{model.get('sha256')}`"]
    parts = model.get("fingerprint") or {}
    if parts:
        lines.append("  (" + ", ".join(f"{k} `{str(v)[:12]}`" for k, v in parts.items() if k != "sha256") + ")")
    scope = "all" if problems["count"] == problems["of"] else "a subset:"
    lines += [f"- **Problems:** {scope} {problems['count']} of {problems['of']} in `{problems['path']}`",
              "- **Settings:** " + ", ".join(f"{k}={v!r}" for k, v in settings.items() if k != "task_ids"),
              f"- **Evaluation:** timeout {summary['evaluation']['timeout_s']} s per sample; "
              f"{summary['evaluation']['evaluated_now']} samples executed by this report "
              f"({summary['evaluation']['unique_programs_now']} unique programs); bootstrap seed {summary['seed']}"]
    if machine.get("generate"):
        lines.append(f"- **Generated on:** {runinfo.describe_machine(machine['generate'])}")
    lines.append(f"- **Reported on:** {runinfo.describe_machine(machine['report'])}, toolkit {summary['toolkit']}")
    stages = summary["stages"]
    lines += ["", table(["stage", "wall time"], [[name, _seconds(v)] for name, v in stages.items()])]
    return lines


def pass_at_k_section(summary: dict) -> list[str]:
    ks = [str(k) for k in summary["ks"]]
    rows = [[label, summary["labels"][label]["n"], summary["labels"][label]["problems"],
             *(_pass_cell(summary["labels"][label]["pass_at_k"][k]) for k in ks)] for label in _labels(summary)]
    best = summary["best_temperature"]
    best_rows = [[f"pass@{k}", best[k]["label"] or "n/a",
                  _pass_cell(best[k]) if best[k]["label"] else best[k].get("note", "n/a")] for k in ks]
    return ["## pass@k", "",
            "Unbiased estimator (Codex eq. 1, `humaneval.passk`), mean over problems; in brackets a 95% "
            "bootstrap CI over problems. A k above n has no estimate and is shown as n/a.", "",
            table(["samples", "n", "problems", *(f"pass@{k}" for k in ks)], rows),
            "Best temperature per k (Codex Table 1 style):", "",
            table(["metric", "temperature", "value [95% CI]"], best_rows),
            "![pass@k against temperature](plots/pass_at_k_vs_temperature.png)", ""]


def _per_label(summary: dict, key: str, ready: str, missing: str, render_one) -> list[str]:
    """A subsection per label, or one line saying why the label has none of `key` (its "note")."""
    lines = []
    for label in _labels(summary):
        result = summary["labels"][label][key]
        lines += render_one(label, result) if ready in result else [f"- {label}: {missing} ({result['note']})", ""]
    return lines


def _ranking_one(label: str, result: dict) -> list[str]:
    ks = [k for k in CURVE_KS if k <= result["n"]]
    names = ("mean_logprob", "sum_logprob", "random", "oracle")
    rows = [[name, percent(result["pass_rate"][name]), *(percent(result["curve"][name][k - 1]) for k in ks)]
            for name in names]
    return [f"### {label} (n = {result['n']})", "",
            table(["choice", "of all n", *(f"best of {k}" for k in ks)], rows),
            f"![ranking curves {label}](plots/ranking_{label}.png)", ""]


def ranking_section(summary: dict) -> list[str]:
    return ["## Choosing one sample by log-probability (Codex §3.3, Fig. 7)", "",
            "Pass rate of the one sample picked out of a problem's n: highest mean token log-prob, highest "
            "sum log-prob, at random (= pass@1), or by an oracle (= pass@n). The curve picks the best of k "
            "samples drawn at random (exact expectation).", "",
            *_per_label(summary, "ranking", "curve", "not ranked", _ranking_one)]


def bleu_section(summary: dict) -> list[str]:
    def one(label: str, result: dict) -> list[str]:
        rows = []
        for name, split in [("all problems", result["overall"]), *result["problems"].items()]:
            cells = []
            for kind in ("correct", "incorrect"):
                mean = split[kind]["mean"]
                cells += [split[kind]["count"], "n/a" if mean is None else f"{mean:.2f}"]
            rows.append([name, *cells])
        lines = [f"### {label}", "",
                 table(["problems", "correct samples", "mean BLEU", "incorrect samples", "mean BLEU"], rows)]
        if f"plots/bleu_{label}.png" in summary["plots"]:
            lines.append(f"![BLEU histograms {label}](plots/bleu_{label}.png)")
        return lines + [""]

    return ["## BLEU against correctness (Codex §7.2)", "",
            "Sentence BLEU (sacrebleu, 13a tokenizer) of each sample against the canonical solution.", "",
            *_per_label(summary, "bleu", "overall", "no BLEU", one)]


def failures_section(summary: dict) -> list[str]:
    lines = ["## Failures", "", "Categories from the engine's verdicts: syntax error, assertion (wrong answer), "
             "other exceptions by type, timeout, out of memory, crashed.", ""]
    for label in _labels(summary):
        entry = summary["labels"][label]
        verdicts = ", ".join(f"{v} {n}" for v, n in entry["verdicts"].items())
        totals = ", ".join(f"{c} {n}" for c, n in entry["failures"].items()) or "none"
        rows = [[task_id, p["samples"], p["passes"], ", ".join(f"{c} {n}" for c, n in p["failures"].items())]
                for task_id, p in entry["per_problem"].items()]
        lines += [f"### {label}", "", f"Verdicts: {verdicts}. Failures: {totals}.", "",
                  "<details><summary>per problem</summary>", "",
                  table(["problem", "samples", "passes", "failures"], rows), "</details>", ""]
    return lines


def render(summary: dict) -> str:
    lines = [*header(summary), *pass_at_k_section(summary), *ranking_section(summary), *bleu_section(summary),
             *failures_section(summary)]
    return "\n".join(lines).rstrip() + "\n"
