"""The one resumable evaluation runner behind `humaneval evaluate` and `mtpb evaluate`.

A caller describes each input row by its engine jobs and turns results into rows; the runner does the
rest the same way for every evaluator:
- resume: rows go through ResultLog (`<out>.partial`, header fingerprint, ordered atomic finalize);
  a rerun executes only the rows that are missing;
- each distinct program runs once: jobs with the same (program, capture, files, limits) execute once
  and every copy gets that verdict (identical completions are common at low temperature);
- harness errors (the engine could not run a program at all) are never model failures. By default the
  row is not logged and no final file is written (the CLI exits 3); a rerun retries just those rows.
  With exclude_harness_errors the row is logged with verdict "harness_error" right before finalizing
  and the evaluator leaves it out of its score (a row logged so and not finalized is retried on rerun);
- one error shape (HarnessError), one fingerprint (`fingerprint()`: inputs + limits + sandbox mode);
- a tqdm progress bar over rows.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Mapping

import tqdm

from humaneval.engine import Engine, ExecResult, Job, Limits
from humaneval.results import ResultLog

HARNESS_ERROR = "harness_error"
# make_row(index, job, result) -> the finished row, or None while the row waits for more of its jobs.
# result.key is the key of the job that actually ran (a copy's own job is `job`). For a harness_error
# result it must return the row that would be logged if harness errors are excluded.
MakeRow = Callable[[int, Job, ExecResult], "dict | None"]


@dataclasses.dataclass(frozen=True)
class HarnessError:
    index: int  # 0-based position of the row in the input
    error_type: str | None
    error_message: str | None

    def __str__(self) -> str:
        return f"harness error: {self.error_type}: {self.error_message}"


@dataclasses.dataclass(frozen=True)
class RunSettings:
    workers: int | None = None  # engine zygotes; None = CPU count
    preload: tuple[str, ...] = ("numpy",)  # modules the zygotes import once, before forking
    sandbox: str = "namespaces"  # the engine's: "namespaces" (fails closed) or "none" (recorded in the fingerprint)
    read_only_paths: tuple[str, ...] = ()  # extra paths samples may read (Limits.read_only_paths)
    exclude_harness_errors: bool = False
    progress: bool = False
    desc: str = "evaluate"
    unit: str = "sample"


@dataclasses.dataclass
class Outcome:
    rows: dict[int, dict]  # index -> row, every row known (harness-error rows included, logged or not)
    complete: bool  # the final file was written (no harness errors, or they were excluded)
    resumed: int  # rows taken from an interrupted earlier run
    evaluated: int  # rows finished by this run (harness errors included)
    programs: int  # jobs asked for by this run
    unique_programs: int  # jobs that actually executed (identical ones run once)
    harness_errors: list[HarnessError]


def fingerprint(evaluator: str, limits: Limits, sandbox: str = "namespaces", **inputs) -> dict:
    """The ResultLog header: a partial log is resumed only by a run with the same inputs and settings."""
    return {"evaluator": evaluator, **inputs, "limits": limits.to_dict(), "sandbox": sandbox}


def _identity(job: Job) -> tuple:
    return job.program, job.capture, job.files, job.limits


class Runner:
    """One run over `total` rows (see module docstring). `jobs_for(index)` gives a row's first jobs;
    make_row may `submit` follow-up jobs for a row it has not finished (mtpb --per-turn)."""

    def __init__(self, out_path: str | os.PathLike, header: Mapping, total: int,
                 jobs_for: Callable[[int], Iterable[Job]], make_row: MakeRow, settings: RunSettings = RunSettings()):
        self.out_path, self.header, self.total = out_path, dict(header), total
        self.jobs_for, self.make_row, self.settings = jobs_for, make_row, settings
        self.queue: collections.deque[Job] = collections.deque()  # distinct jobs not yet handed to the engine
        self.copies: dict[tuple, list[tuple[int, Job]]] = {}  # identity -> rows waiting for that program
        self.running: dict[str, tuple] = {}  # key of the executing job -> its identity
        self.finished: dict[tuple, ExecResult] = {}  # for follow-ups identical to a program already run
        self.redeliver: collections.deque[tuple[int, Job, ExecResult]] = collections.deque()
        self.submitted = 0

    def submit(self, index: int, job: Job) -> None:
        self.submitted += 1
        ident = _identity(job)
        if ident in self.finished:
            self.redeliver.append((index, job, self.finished[ident]))
        elif ident in self.copies:
            self.copies[ident].append((index, job))
        else:
            self.copies[ident] = [(index, job)]
            self.running[job.key] = ident
            self.queue.append(job)

    def run(self, engine: Engine | None = None) -> Outcome:
        """Execute what is missing and finalize when complete; `engine` (see shared_engine) lets several
        runs share one pool of zygotes instead of starting their own."""
        s = self.settings
        harness: dict[int, HarnessError] = {}
        harness_rows: dict[int, dict] = {}
        own = engine is None
        engine = shared_engine(s) if own else engine
        try:
            engine.start()  # fails closed (SandboxUnavailable) before the log, or its .partial, exists
        except BaseException:
            if own:
                engine.close()
            raise
        with contextlib.closing(engine) if own else contextlib.nullcontext(), ResultLog(self.out_path, self.header) as log:
            # A harness_error row is only logged right before finalizing; if that run died before
            # renaming, the row gets another chance now.
            todo = [i for i in range(self.total)
                    if i not in log.done or log.done[i].get("verdict") == HARNESS_ERROR]
            resumed = self.total - len(todo)
            for index in todo:
                for job in self.jobs_for(index):
                    self.submit(index, job)
            open_rows = set(todo)
            bar = tqdm.tqdm(total=self.total, initial=resumed, desc=s.desc, unit=s.unit, disable=not s.progress,
                            file=sys.stderr, dynamic_ncols=True)

            def deliver(index: int, job: Job, result: ExecResult) -> None:
                if index not in open_rows:
                    return  # the row already hit a harness error
                if result.verdict == HARNESS_ERROR:
                    harness[index] = HarnessError(index, result.error_type, result.error_message)
                    harness_rows[index] = self.make_row(index, job, result)
                else:
                    row = self.make_row(index, job, result)
                    if row is None:
                        return
                    log.append(index, row)
                open_rows.discard(index)
                bar.update(1)

            with bar:
                # Another pass picks up follow-ups submitted after the engine had drained its input.
                while self.queue or self.redeliver:
                    for result in engine.run(_drain(self.queue)):
                        ident = self.running.pop(result.key)
                        self.finished[ident] = result
                        for index, job in self.copies.pop(ident):
                            deliver(index, job, result)
                        while self.redeliver:
                            deliver(*self.redeliver.popleft())
                    while self.redeliver:
                        deliver(*self.redeliver.popleft())
            if open_rows:
                raise RuntimeError(f"evaluator bug: rows {sorted(open_rows)[:5]} never got a row from make_row")
            errors = [harness[i] for i in sorted(harness)]
            complete = not errors or s.exclude_harness_errors
            if complete:
                for index in sorted(harness_rows):
                    log.append(index, harness_rows[index])
            rows = {**log.done, **harness_rows}
            if complete:
                log.finalize(self.total)
        return Outcome(rows, complete, resumed, len(todo), self.submitted, len(self.finished), errors)


def shared_engine(settings: RunSettings) -> Engine:
    """An engine for these settings; its zygotes start on first use. Close it (or use it in `with`)."""
    return Engine(workers=settings.workers, preload=settings.preload, sandbox=settings.sandbox,
                  limits=Limits(read_only_paths=settings.read_only_paths))


def _drain(queue: collections.deque):
    while queue:
        yield queue.popleft()
