"""`humaneval report RUN`: evaluate what is not evaluated yet, then write RUN/report.md, RUN/summary.json
(every number in the report) and RUN/plots/*.png.

Analyses, each in its own module: pass@k per temperature with bootstrap CIs and the best temperature
per k (humaneval.pass_rates), ranking by log-probability (humaneval.ranking), BLEU against
correctness (humaneval.bleu), failure categories per problem (humaneval.failures). A run over a subset
of problems (`--limit`, `--task-ids`) is reported over that subset.
"""
from __future__ import annotations

import collections
import json
import os
import pathlib
import time
from collections.abc import Sequence

from humaneval import bleu, data, failures, pass_rates, ranking, rundir, runinfo
from humaneval.evaluate import default_out_path, evaluate_run, run_problems
from humaneval.results import write_text_atomic

DEFAULT_KS = (1, 10, 100)
SUMMARY_JSON = "summary.json"
REPORT_MD = "report.md"
PLOTS = "plots"


class HarnessErrors(RuntimeError):
    """Some samples could not be run: nothing is reported (rerun to retry, or exclude them)."""


def samples_per_problem(run_dir) -> dict[str, int]:
    """{label: smallest number of samples of any problem}, from the samples files (cheap, before evaluating)."""
    out = {}
    for label, paths in rundir.samples_files(run_dir).items():
        counts = collections.Counter(row.get("task_id") for path in paths for _, row in data.read_jsonl(path))
        out[label] = min(counts.values(), default=0)
    return out


def check_all_generated(run_dir, info: dict, labels) -> None:
    """Every samples file run.json asks for is there (nothing is left out of the report silently)."""
    settings = info.get("settings") or {}
    wanted = [rundir.temperature_label(t) for t in settings.get("temperatures") or []]
    wanted += [rundir.GREEDY] if settings.get("greedy") else []
    missing = [label for label in wanted if label not in labels]
    if missing:
        names = ", ".join(rundir.samples_path(run_dir, label).name for label in missing)
        raise ValueError(f"{run_dir}: run.json asks for {names} but it is not there (generation unfinished? "
                         f"rerun `humaneval generate` with the same options)")


def load_results(run_dir, label: str) -> list[dict]:
    """The results rows of one label in global order (part files' results merged)."""
    parts = [[row for _, row in data.read_jsonl(default_out_path(path))]
             for path in rundir.samples_files(run_dir)[label]]
    return parts[0] if len(parts) == 1 else rundir.merge_parts(parts)


def by_problem(rows: Sequence[dict]) -> dict[str, list[dict]]:
    """Scored rows (harness errors left out) grouped by task, in order of sample_index."""
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        if row["verdict"] != "harness_error":
            grouped.setdefault(row["task_id"], []).append(row)
    for task_rows in grouped.values():
        task_rows.sort(key=lambda r: r.get("sample_index", 0))
    return grouped


def analyse(info: dict, rows_by_label: dict[str, list[dict]], problems: dict[str, dict], ks: Sequence[int],
            seed: int) -> dict:
    """Every number of the report, from the run info and the results rows of each label."""
    counts = {label: {t: (len(r), sum(bool(x["passed"]) for x in r)) for t, r in by_problem(rows).items()}
              for label, rows in rows_by_label.items()}
    table = pass_rates.pass_at_k_by_label(counts, ks, seed)
    out = {"ks": list(ks), "seed": seed, "labels": {}, "best_temperature": pass_rates.best_temperature(table, ks)}
    for label, rows in rows_by_label.items():
        grouped = by_problem(rows)
        entry = {
            "temperature": pass_rates.temperature(label), "samples": len(rows), "problems": len(grouped),
            "n": min((len(r) for r in grouped.values()), default=0),
            "verdicts": dict(sorted(collections.Counter(r["verdict"] for r in rows).items())),
            "pass_at_k": table[label],
        }
        per_problem = failures.per_problem(rows)
        entry["failures"] = failures.totals(per_problem)
        entry["per_problem"] = per_problem
        if entry["n"] >= 2 and all(name in rows[0] for name in ranking.RANKERS):
            entry["ranking"] = ranking.ranking(grouped)
        else:
            entry["ranking"] = {"note": "needs n >= 2 samples per problem with mean_logprob and sum_logprob"}
        try:
            entry["bleu"] = bleu.bleu_analysis(rows, problems)
        except ValueError as err:  # a problem file without canonical solutions
            entry["bleu"] = {"note": str(err)}
        out["labels"][label] = entry
    return out


def report_run(run_dir: str | os.PathLike, *, ks: Sequence[int] | None = None, timeout: float = 3.0,
               workers: int | None = None, seed: int = 0, exclude_harness_errors: bool = False,
               progress: bool = False, sandbox: str = "namespaces") -> pathlib.Path:
    """Evaluate and report a `humaneval generate` run directory; returns the path of report.md.
    ks=None means 1, 10, 100 with any k > n reported as n/a; an explicit k above every label's n is an error."""
    from humaneval import report_markdown, report_plots

    run_dir = pathlib.Path(run_dir)
    info = rundir.read_run(run_dir)
    problem_file, task_ids = run_problems(run_dir, info)
    n_by_label = samples_per_problem(run_dir)
    if not n_by_label:
        raise ValueError(f"{run_dir}: no samples files (samples_t*.jsonl, samples_greedy.jsonl)")
    check_all_generated(run_dir, info, n_by_label)
    if ks is not None:
        pass_rates.check_ks(ks, n_by_label)
    ks = list(DEFAULT_KS if ks is None else ks)

    evaluations = evaluate_run(run_dir, timeout=timeout, workers=workers, ks=ks,
                               exclude_harness_errors=exclude_harness_errors, progress=progress, sandbox=sandbox)
    errors = [(e.out_path, len(e.harness_errors)) for r in evaluations.values() for e in r.evaluations
              if not e.complete]
    if errors:
        raise HarnessErrors(f"{run_dir}: {sum(n for _, n in errors)} samples could not be run (harness errors); "
                            "rerun to retry them, or pass --exclude-harness-errors")
    evaluated_now = sum(e.n_samples - e.n_resumed for r in evaluations.values() for e in r.evaluations)
    unique_now = sum(e.unique_programs for r in evaluations.values() for e in r.evaluations)
    info = rundir.read_run(run_dir)  # again: evaluate_run added its stage time

    started = time.perf_counter()
    every_problem = data.load_problems(problem_file)
    problems = every_problem if task_ids is None else {t: every_problem[t] for t in task_ids}
    rows_by_label = {label: load_results(run_dir, label) for label in evaluations}
    summary = {
        "run": str(run_dir), "model": info.get("model", {}), "settings": info.get("settings", {}),
        "problems": {"path": str(problem_file), "sha256": (info.get("problems") or {}).get("sha256"),
                     "count": len(problems), "of": len(every_problem)},
        "machine": {"generate": info.get("machine"), "report": runinfo.machine_info()},
        "toolkit": runinfo.toolkit_version(),
        "evaluation": {"evaluated_now": evaluated_now, "unique_programs_now": unique_now, "timeout_s": timeout,
                       "exclude_harness_errors": exclude_harness_errors},
        **analyse(info, rows_by_label, problems, ks, seed),
    }
    plots_dir = run_dir / PLOTS
    plots_dir.mkdir(exist_ok=True)
    summary["plots"] = [str(p.relative_to(run_dir)) for p in report_plots.write_plots(summary, plots_dir)]
    summary["stages"] = {"generate": (info.get("stages") or {}).get("generate"),
                         "evaluate": (info.get("stages") or {}).get("evaluate"),
                         "analysis": round(time.perf_counter() - started, 3)}
    write_text_atomic(run_dir / SUMMARY_JSON, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    out = run_dir / REPORT_MD
    write_text_atomic(out, report_markdown.render(summary))
    return out
