"""`humaneval evaluate RUN` for a run directory generated with --language LANG (not python): every samples
file through the HumanEval-X runner (humaneval.languages.evaluate), with the run's own problem file and
task subset. Python runs keep humaneval.evaluate.evaluate_run."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence

from humaneval import data, rundir
from humaneval.evaluate import RunEvaluation, run_problems


def run_language(run_dir: str | os.PathLike) -> str:
    """The language a run directory was generated in (run.json settings; python before --language existed)."""
    return rundir.read_run(run_dir).get("settings", {}).get("language", "python")


def evaluate_language_run(run_dir: str | os.PathLike, *, timeout: float = 3.0, workers: int | None = None,
                          ks: Sequence[int] = (1, 10, 100), exclude_harness_errors: bool = False,
                          progress: bool = False, sandbox: str = "namespaces") -> dict[str, RunEvaluation]:
    """{label: RunEvaluation} for every samples file of a HumanEval-X run directory (resumable: each
    results file is a humaneval.runner log)."""
    from humaneval.languages.evaluate import evaluate_language

    info = rundir.read_run(run_dir)
    language = run_language(run_dir)
    problem_file, task_ids = run_problems(run_dir, info)
    files = rundir.samples_files(run_dir)
    if not files:
        raise ValueError(f"{run_dir}: no samples files (samples_t*.jsonl, samples_greedy.jsonl)")
    wanted = set(task_ids) if task_ids is not None else set(data.load_problems(problem_file, required=("task_id",)))
    for label, paths in files.items():  # every problem of the run has samples, before anything runs
        seen = {row.get("task_id") for path in paths for _, row in data.read_jsonl(path)}
        missing = sorted(wanted - seen)
        if missing:
            raise ValueError(f"{run_dir}: {label} has no samples for {len(missing)} of the run's problems "
                             f"(first: {', '.join(missing[:3])})")
    started = time.perf_counter()
    labels = {label: RunEvaluation(label, [
        evaluate_language(path, language, problem_file, timeout=timeout, workers=workers, ks=ks,
                          ignore_incomplete=True, exclude_harness_errors=exclude_harness_errors,
                          progress=progress, sandbox=sandbox) for path in paths]) for label, paths in files.items()}
    if any(e.n_resumed < e.n_samples for r in labels.values() for e in r.evaluations):
        info = rundir.read_run(run_dir)
        stages = info.setdefault("stages", {})
        stages["evaluate"] = round(stages.get("evaluate", 0.0) + time.perf_counter() - started, 3)
        rundir.write_run_json(run_dir, info)
    return labels
