"""Engine: a pool of zygote processes, one per core by default. The evaluator process never runs user code.

Jobs go to idle zygotes as JSON lines; results come back in completion order. A zygote that dies (or
stops answering well past its job's timeout) is replaced and its in-flight job is reported as
harness_error -- not retried, so a job that kills its zygote is visible rather than silently rerun.
One run() at a time per Engine (it is not thread-safe); abandoning a run replaces the busy zygotes.
"""
from __future__ import annotations

import collections
import json
import os
import selectors
import subprocess
import sys
import time
import warnings

from humaneval.engine.limits import Job, Limits, job_to_wire
from humaneval.engine.verdicts import ExecResult

MODES = ("auto", "namespaces", "rlimits")
_END = object()
REPLY_GRACE_S = 10.0  # beyond timeout_s: a zygote silent for longer is presumed stuck
_warned = False


class ZygoteError(RuntimeError):
    pass


class _Worker:
    def __init__(self, mode: str, preload: tuple[str, ...]):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "humaneval.engine.zygote", mode, ",".join(preload)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/")
        self.job: Job | None = None
        self.deadline = 0.0
        self.sandbox = None

    def handshake(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise ZygoteError(f"zygote {self.proc.pid} exited during start-up (code {self.proc.wait()}); see stderr")
        return json.loads(line)

    def send(self, job: Job, default: Limits) -> None:
        self.job = job
        self.deadline = time.monotonic() + (job.limits or default).timeout_s + REPLY_GRACE_S
        self.proc.stdin.write((json.dumps(job_to_wire(job, default)) + "\n").encode())
        self.proc.stdin.flush()

    def receive(self) -> ExecResult | None:
        line = self.proc.stdout.readline()
        self.job = None
        return ExecResult.from_dict(json.loads(line)) if line else None

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.proc.kill()
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class Engine:
    """with Engine(workers=None, preload=("numpy",)) as engine: for result in engine.run(jobs): ..."""

    def __init__(self, workers: int | None = None, preload=("numpy",), limits: Limits | None = None,
                 sandbox: str = "auto"):
        if sandbox not in MODES:
            raise ValueError(f"Engine sandbox must be one of {MODES}, got {sandbox!r}")
        self.n_workers = workers or os.cpu_count() or 1
        if self.n_workers < 1:
            raise ValueError(f"Engine workers must be >= 1, got {workers}")
        self.preload = tuple(preload)
        self.limits = limits or Limits()
        self.requested = sandbox
        self.mode = "rlimits" if sandbox == "rlimits" else "namespaces"
        self.sandbox = None  # filled from the zygotes' handshake, e.g. "namespaces+pids_cgroup"
        self.workers: list[_Worker] = []

    def __enter__(self) -> "Engine":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if self.workers:
            return
        if self.mode == "namespaces" and not sys.platform.startswith("linux"):
            if self.requested == "namespaces":
                raise ZygoteError(f"sandbox='namespaces' needs Linux, this is {sys.platform}")
            self._fall_back(f"{sys.platform} is not Linux")
        try:
            self.workers = self._spawn(self.n_workers)
        except ZygoteError as error:
            if self.requested != "auto" or self.mode == "rlimits":
                raise
            self._fall_back(str(error))
            self.workers = self._spawn(self.n_workers)

    def _spawn(self, count: int) -> list[_Worker]:
        workers = [_Worker(self.mode, self.preload) for _ in range(count)]
        try:
            for worker in workers:
                ready = worker.handshake()
                if not ready.get("ready"):
                    raise ZygoteError(f"sandbox probe failed: {ready.get('error')}")
                worker.sandbox = self.sandbox = ready["sandbox"]
        except BaseException:
            for worker in workers:
                worker.stop(kill=True)
            raise
        return workers

    def _fall_back(self, reason: str) -> None:
        global _warned
        self.mode = "rlimits"
        if not _warned:
            _warned = True
            message = (f"humaneval.engine: Linux namespaces unavailable ({reason}); FALLING BACK to rlimits + "
                       "process group. Samples are NOT isolated from the filesystem or network. Every result "
                       "records sandbox='rlimits'.")
            warnings.warn(message, RuntimeWarning, stacklevel=3)
            print("WARNING: " + message, file=sys.stderr)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def run(self, jobs) -> "collections.abc.Iterator[ExecResult]":
        """Execute jobs (any iterable of Job); yield ExecResults in completion order."""
        self.start()
        todo = iter(jobs)
        idle = collections.deque(self.workers)
        busy: dict[int, _Worker] = {}  # stdout fd -> worker with a job in flight
        selector = selectors.DefaultSelector()
        exhausted = False
        try:
            while True:
                while idle and not exhausted:
                    job = next(todo, _END)
                    if job is _END:
                        exhausted = True
                        break
                    if not isinstance(job, Job):
                        raise TypeError(f"Engine.run expects Job objects, got {type(job).__name__}")
                    worker = idle.popleft()
                    worker.send(job, self.limits)
                    busy[worker.proc.stdout.fileno()] = worker
                    selector.register(worker.proc.stdout, selectors.EVENT_READ)
                if not busy:
                    return
                wait = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
                replied = {key.fd for key, _ in selector.select(timeout=wait)}
                now = time.monotonic()
                for fd, worker in list(busy.items()):
                    if fd not in replied and worker.deadline > now:
                        continue
                    del busy[fd]
                    selector.unregister(worker.proc.stdout)
                    job = worker.job
                    result = worker.receive() if fd in replied else None  # None: EOF or silent past deadline
                    if result is None:
                        result = self._harness_error(job, worker)
                        worker = self._replace(worker)
                    idle.append(worker)
                    yield result
        finally:
            selector.close()
            for worker in busy.values():  # abandoned mid-run: a stale reply must not leak into the next run
                self._replace(worker)

    def _harness_error(self, job: Job, worker: _Worker) -> ExecResult:
        code = worker.proc.poll()
        what = f"zygote {worker.proc.pid} died (exit {code})" if code is not None else f"zygote {worker.proc.pid} stopped answering"
        return ExecResult(key=job.key, verdict="harness_error", error_type="ZygoteLost",
                          error_message=f"{what} while running this job; it was replaced and the job not retried",
                          sandbox=worker.sandbox or "")

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop(kill=True)
        fresh = self._spawn(1)[0]
        self.workers[self.workers.index(worker)] = fresh
        return fresh
