"""Run MTPB samples in the execution engine and score them (library behind `mtpb evaluate`).

Input rows are reference mtpb_sample.py output: id, input (the test case's input dict), gold_output,
completions (the whole multi-turn program), optionally prompts_completions; other fields are kept.
Every program has its last statement rewritten into print (mtpb.program), runs in the engine with
capture="last_print", and the observed value is judged under both comparison modes (mtpb.equivalence).
Execution, resume and the harness-error policy are humaneval.runner's (shared with humaneval evaluate);
results go to `<samples>_results.jsonl`, in input order. Rows hold no timings, so an interrupted and
resumed run writes the same bytes as an uninterrupted one.

Pass rate (reference / paper): per (sample, test case), averaged per problem, then over problems.
"""
from __future__ import annotations

import json
import os
import pathlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from humaneval.data import read_jsonl
from humaneval.results import file_sha256, write_text_atomic
from mtpb import data
from mtpb.analysis import first_failing_turns
from mtpb.equivalence import MODES, decode_observed, equal
from mtpb.per_turn import FirstFailingSearch, failure_kind, turn_prefixes
from mtpb.program import rewrite_last_print

DEFAULT_TIMEOUT_S = 20.0  # reference eval_problem: time_limit(20)
PRELOAD = ("numpy", "pandas")
FORMAT_VERSION = 2  # bump when a row's content or the fingerprint changes, so old partial logs are not resumed
OBSERVED_REPR_CHARS = 200
ERROR_CHARS = 500


@dataclass(frozen=True)
class Sample:
    index: int  # position in the samples file (0-based, blank lines skipped)
    line: int
    row: dict
    problem: data.Problem
    case: int  # test case index within the problem
    gold: Any
    program: str
    prefixes: tuple[str, ...] = ()  # with --per-turn: the program after each turn (mtpb.per_turn)


def match_case(problem: data.Problem, inputs: Any, gold: Any, has_gold: bool, where: str) -> int:
    """Index of the test case whose input dict equals `inputs`; with duplicates (problem 10 lists
    {"a1": "0xAA"} twice) the first whose gold equals the row's gold."""
    key = data.case_key(inputs)
    cases = [c for c, inp in enumerate(problem.inputs) if data.case_key(inp) == key]
    if not cases:
        raise ValueError(f"{where}: field 'input' matches no test case of problem {problem.id}: {key[:200]}")
    if not has_gold:
        golds = {data.case_key(problem.outputs[c]) for c in cases}
        if len(golds) > 1:
            raise ValueError(f"{where}: field 'gold_output' is missing and the input matches test cases "
                             f"{cases} of problem {problem.id} with different golds")
        return cases[0]
    for c in cases:
        if data.case_key(problem.outputs[c]) == data.case_key(gold):
            return c
    raise ValueError(f"{where}: field 'gold_output' {data.case_key(gold)[:200]} differs from problem "
                     f"{problem.id}'s gold for this input")


def read_samples(path: str | os.PathLike, problems: dict[str, data.Problem], per_turn: bool = False) -> list[Sample]:
    """Parse and check every row before anything runs; errors name the line and field."""
    samples = []
    for number, row in read_jsonl(path):
        where = f"{path} line {number}"
        for field in ("id", "input", "completions"):
            if field not in row:
                raise ValueError(f"{where}: missing field '{field}'")
        if not isinstance(row["completions"], str):
            raise ValueError(f"{where}: field 'completions' must be a string (the whole program)")
        problem = problems.get(str(row["id"]))
        if problem is None:
            raise ValueError(f"{where}: field 'id': unknown problem id {row['id']!r}")
        has_gold = "gold_output" in row
        case = match_case(problem, row["input"], row.get("gold_output"), has_gold, where)
        gold = row["gold_output"] if has_gold else problem.outputs[case]
        prefixes = tuple(turn_prefixes(row, problem.render(case), where)) if per_turn else ()
        samples.append(Sample(len(samples), number, row, problem, case, gold, row["completions"], prefixes))
    if not samples:
        raise ValueError(f"{path}: no samples found")
    return samples


def load_dataset_files(problems, datasets_dir: str | os.PathLike | None) -> dict[str, bytes]:
    """Files the given problems' prompts read (e.g. datasets/melb_data.csv), found in datasets_dir either
    by relative path or by file name. Missing ones are simply absent (rows get a defect flag)."""
    found: dict[str, bytes] = {}
    if datasets_dir is None:
        return found
    root = pathlib.Path(datasets_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"--datasets-dir: not a directory: {root}")
    for problem in problems:
        for rel in problem.dataset_files:
            for candidate in (root / rel, root / pathlib.PurePosixPath(rel).name):
                if candidate.is_file():
                    found[rel] = candidate.read_bytes()
                    break
    return found


def case_defects(problem: data.Problem, gold: Any, available: dict[str, bytes]) -> list[str]:
    """Why a perfect program might still fail this test case (flagged in rows, not silently counted)."""
    flags = [f"missing_dataset:{rel}" for rel in problem.dataset_files if rel not in available]
    if isinstance(gold, dict):
        flags.append("gold_dict")  # reference check_equivalence raises "Unsupported type" on dicts
    elif gold is None:
        flags.append("gold_none")  # NoneType(o1) / Unsupported type: the reference always fails
    return flags


def reachable(problem: data.Problem, gold: Any, mode: str, available: dict[str, bytes]) -> bool:
    """Can a perfect program pass: its files exist and printing the gold itself compares equal."""
    return all(rel in available for rel in problem.dataset_files) and equal(gold, gold, mode)


def max_achievable(problems: dict[str, data.Problem], available: dict[str, bytes]) -> dict:
    """Best possible result on the whole benchmark under each mode, computed from the data."""
    out = {}
    for mode in MODES:
        per_problem = [[reachable(p, g, mode, available) for g in p.outputs] for p in problems.values()]
        cases = sum(sum(r) for r in per_problem)
        total = sum(len(r) for r in per_problem)
        rate = sum(sum(r) / len(r) for r in per_problem) / len(per_problem)
        out[mode] = {"test_cases": cases, "total": total, "pass_rate": rate}
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"


def judge(sample: Sample, result, mode: str, available: dict[str, bytes]) -> dict:
    """The fields added to a row: verdicts under both modes, engine verdict, observed, error, defects,
    sandbox. A row whose history outgrew the model's context (status "context") always fails."""
    fields: dict[str, Any] = {"test_case": sample.case, "verdict": result.verdict, "sandbox": result.sandbox}
    error = ""
    observed, has_observed = None, result.observed is not None
    if has_observed:
        try:
            observed = decode_observed(result.observed)
        except Exception as err:  # noqa: BLE001 -- an undecodable value is a failure, not a crash
            has_observed, error = False, f"observed value could not be decoded: {err!r}"
    if result.verdict == "timeout":
        error = "timed out"  # the limit is in the summary; rows hold no timings, so files are deterministic
    elif result.error_type or result.error_message:
        error = f"{result.error_type or 'error'}: {result.error_message or ''}".strip()
    elif not has_observed and not error:
        error = "no print() call observed"
    # reference eval_problem ignores do_exec's success flag: a program that printed the right value and
    # then raised (or hit the time limit inside exec) still passed. Faithful keeps that; strict requires
    # the program to finish.
    faithful = has_observed and equal(observed, sample.gold, "faithful")
    strict = has_observed and result.verdict == "passed" and equal(observed, sample.gold, "strict")
    if sample.row.get("status") == "context":  # mtpb generate: the program is cut short, so it fails
        faithful = strict = False
        error = f"history outgrew the model's context (status 'context'); {error or 'ran'}"
    fields.update({
        "passed": faithful if mode == "faithful" else strict,
        "passed_faithful": faithful,
        "passed_strict": strict,
        "observed": _clip(repr(observed), OBSERVED_REPR_CHARS) if has_observed else None,
        "error": _clip(error, ERROR_CHARS) or None,
        "defects": case_defects(sample.problem, sample.gold, available),
    })
    return fields


def summarize(rows: list[dict], samples: list[Sample], mode: str, available: dict[str, bytes]) -> dict:
    """Pass rates per (sample, test case), averaged per problem, then over problems and per category."""
    by_problem: dict[str, list[tuple[dict, Sample]]] = defaultdict(list)
    for row, sample in zip(rows, samples):
        by_problem[sample.problem.id].append((row, sample))

    def rate(key_fn) -> dict[str, float]:  # problem id -> share of its rows for which key_fn holds
        return {pid: sum(key_fn(r, s) for r, s in items) / len(items) for pid, items in by_problem.items()}

    scores = {m: rate(lambda r, s, m=m: bool(r[f"passed_{m}"])) for m in MODES}
    ceilings = {m: rate(lambda r, s, m=m: reachable(s.problem, s.gold, m, available)) for m in MODES}
    categories: dict[str, list[str]] = defaultdict(list)
    for pid, items in by_problem.items():
        categories[items[0][1].problem.category].append(pid)

    def mean(values) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    return {
        "mode": mode,
        "rows": len(rows),
        "problems": len(by_problem),
        "pass_rate": mean(scores[mode].values()),
        "pass_rate_by_mode": {m: mean(scores[m].values()) for m in MODES},
        "max_pass_rate_by_mode": {m: mean(ceilings[m].values()) for m in MODES},
        "by_category": {
            cat: {"problems": len(pids), **{m: mean(scores[m][p] for p in pids) for m in MODES}}
            for cat, pids in sorted(categories.items())},
        "verdicts": dict(sorted(Counter(r["verdict"] for r in rows).items())),
        "sandboxes": dict(sorted(Counter(r["sandbox"] for r in rows).items())),
        "context_rows": sum(r.get("status") == "context" for r in rows),
        "defect_rows": dict(sorted(Counter(f for r in rows for f in r["defects"]).items())),
        "per_problem": {pid: {m: scores[m][pid] for m in MODES} for pid in by_problem},
    }


def results_path(samples_path: str | os.PathLike) -> pathlib.Path:
    return pathlib.Path(f"{samples_path}_results.jsonl")


def make_job(sample: Sample, limits, available: dict[str, bytes], turn: int | None = None):
    """The job for the whole program (turn None, capturing the last print), or for the program after
    `turn` (--per-turn; only whether it runs to completion matters)."""
    from humaneval.engine import Job

    files = tuple((rel, available[rel]) for rel in sample.problem.dataset_files if rel in available)
    if turn is None:
        return Job(key=str(sample.index), program=rewrite_last_print(sample.program), limits=limits,
                   capture="last_print", files=files)
    return Job(key=f"{sample.index}@{turn}", program=rewrite_last_print(sample.prefixes[turn - 1]),
               limits=limits, files=files)


class RowJudge:
    """humaneval.runner callbacks for MTPB rows. A row is finished by its whole program's result, and
    with --per-turn prefixes also by its first-failing-turn search (mtpb.per_turn), which submits
    the next prefix as a follow-up job."""

    def __init__(self, samples: list[Sample], limits, mode: str, available: dict[str, bytes], on_result=None):
        self.samples, self.limits, self.mode, self.available = samples, limits, mode, available
        self.on_result, self.runner = on_result, None
        self.full: dict[int, Any] = {}  # index -> the whole program's ExecResult
        self.search: dict[int, FirstFailingSearch] = {}

    def jobs_for(self, index: int) -> list:
        sample = self.samples[index]
        jobs = [make_job(sample, self.limits, self.available)]
        if sample.prefixes:
            search = self.search[index] = FirstFailingSearch(len(sample.prefixes))
            if (turn := search.start()) is not None:
                jobs.append(make_job(sample, self.limits, self.available, turn))
        return jobs

    def make_row(self, index: int, job, result) -> dict | None:
        sample, search = self.samples[index], self.search.get(index)
        if result.verdict == "harness_error":
            return {**sample.row, **judge(sample, result, self.mode, self.available)}
        _, _, turn = job.key.partition("@")
        if turn:
            following = search.on_prefix(int(turn), failure_kind(result))
            if following is not None:
                self.runner.submit(index, make_job(sample, self.limits, self.available, following))
        else:
            self.full[index] = result
            if search is not None:
                search.on_full(failure_kind(result))
        if index not in self.full or (search is not None and not search.done):
            return None
        row = {**sample.row, **judge(sample, self.full.pop(index), self.mode, self.available)}
        if search is not None:
            row.update(first_failing_turn=search.first_failing_turn, first_failing_error=search.error)
        if self.on_result is not None:
            self.on_result(index, row)
        return row


def evaluation_fingerprint(samples_path, problems_file, timeout_s: float, mode: str,
                           available: dict[str, bytes], per_turn: bool, sandbox: str = "namespaces") -> dict:
    """What a results file depends on (humaneval.runner.fingerprint: inputs, limits, sandbox mode); a
    leftover partial run with another fingerprint is refused."""
    from humaneval.engine import Limits
    from humaneval.runner import fingerprint

    return fingerprint(f"mtpb.evaluate/{FORMAT_VERSION}", Limits(timeout_s=timeout_s), sandbox,
                       samples_sha256=file_sha256(samples_path), problems_sha256=file_sha256(problems_file),
                       mode=mode, datasets=sorted(available), per_turn=per_turn)


def evaluate(samples_path: str | os.PathLike, problems_path: str | os.PathLike | None = None, *,
             timeout_s: float = DEFAULT_TIMEOUT_S, workers: int | None = None, mode: str = "faithful",
             datasets_dir: str | os.PathLike | None = None, per_turn: bool = False, on_result=None,
             progress: bool = False, desc: str = "mtpb evaluate", sandbox: str = "namespaces") -> dict:
    """Evaluate every row (resuming an interrupted run), write the results file, return the summary.
    per_turn also finds each multi-turn row's first failing turn (mtpb.per_turn).
    If some programs hit a harness error, no results file is written and the summary is
    {"harness_errors": [...], "results": None, "rows": n}. sandbox: "namespaces" (default; raises
    SandboxUnavailable before any program runs where it cannot be set up) or "none"."""
    if mode not in MODES:
        raise ValueError(f"unknown --mode {mode!r}; choose from {', '.join(MODES)}")
    if not timeout_s > 0:
        raise ValueError(f"--timeout must be positive, got {timeout_s}")
    problems_file = data.resolve_path(problems_path)
    problems = data.load(problems_file)
    samples = read_samples(samples_path, problems, per_turn)
    available = load_dataset_files({s.problem.id: s.problem for s in samples}.values(), datasets_dir)
    out_path = results_path(samples_path)
    fingerprint = evaluation_fingerprint(samples_path, problems_file, timeout_s, mode, available, per_turn, sandbox)
    from humaneval.engine import Limits
    from humaneval.runner import RunSettings, Runner

    started = time.perf_counter()
    row_judge = RowJudge(samples, Limits(timeout_s=timeout_s), mode, available, on_result)
    settings = RunSettings(workers=workers, preload=PRELOAD, progress=progress, desc=desc, unit="row",
                           sandbox=sandbox)
    runner = row_judge.runner = Runner(out_path, fingerprint, len(samples), row_judge.jobs_for,
                                       row_judge.make_row, settings)
    outcome = runner.run()
    if not outcome.complete:
        errors = [{"index": e.index, "line": samples[e.index].line, "error": str(e)} for e in outcome.harness_errors]
        return {"harness_errors": errors, "results": None, "rows": len(samples)}
    rows = [outcome.rows[i] for i in range(len(samples))]
    summary = summarize(rows, samples, mode, available)
    summary.update({
        "samples": str(samples_path), "results": str(out_path), "problems_file": str(problems_file),
        "timeout_s": timeout_s, "per_turn": per_turn, "fingerprint": fingerprint,
        "first_failing_turn": first_failing_turns(rows) if per_turn else None,
        "evaluated_now": outcome.evaluated, "programs_run": outcome.unique_programs,
        "wall_s": time.perf_counter() - started,
        "benchmark_max_achievable": max_achievable(problems, load_dataset_files(problems.values(), datasets_dir)),
    })
    return summary


def write_summary(path: str | os.PathLike, summary: dict) -> None:
    write_text_atomic(path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
