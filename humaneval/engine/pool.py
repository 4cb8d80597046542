"""Engine: a pool of zygote processes, one per core by default. The evaluator process never runs user code.

Jobs go to zygotes as JSON lines; results come back in completion order. Each zygote gets a second
(small) job queued behind the one it runs, so it starts the next sample without waiting for this process
to read the last result (on a loaded machine that wait is often longer than the sample). A zygote runs
its jobs one at a time, in order, so its first unanswered job is the one running. A zygote that dies (or
stops answering well past its job's timeout) is replaced and its running job is reported as
harness_error -- not retried, so a job that kills its zygote is visible rather than silently rerun; jobs
queued behind it never started and go to another zygote.
One run() at a time per Engine (it is not thread-safe); abandoning a run replaces the busy zygotes.

Fail closed: sandbox="namespaces" (the default) either gets every isolation layer or raises
SandboxUnavailable from start(), before any sample runs; sandbox="none" (rlimits and a process group only)
must be asked for, warns on stderr and records "none" in every result.
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
from humaneval.engine.unavailable import SandboxUnavailable
from humaneval.engine.verdicts import ExecResult

MODES = ("namespaces", "none")
# The zygote's environment: only what the interpreter needs to start. A forked sample's own memory holds
# its zygote's initial environment block (/proc/self/environ), so the caller's tokens must never get there.
ZYGOTE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONPATH", "PYTHONHOME",
              "LD_LIBRARY_PATH", "HUMANEVAL_ENGINE_CAT_INIT", "HUMANEVAL_ENGINE_DISABLE_NAMESPACES")
_END = object()
REPLY_GRACE_S = 10.0  # beyond timeout_s: a zygote silent for longer is presumed stuck
QUEUE_DEPTH = 2  # jobs in flight per zygote: the running one + one queued
QUEUE_MAX_BYTES = 16 << 10  # only a job this small is queued: it must fit the pipe without blocking us
_warned = False


class ZygoteError(RuntimeError):
    pass


class _Worker:
    def __init__(self, mode: str, preload: tuple[str, ...], read_only_paths: tuple[str, ...]):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {k: v for k, v in os.environ.items() if k in ZYGOTE_ENV}
        env.update(PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "humaneval.engine.zygote", mode, ",".join(preload), json.dumps(list(read_only_paths))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/", bufsize=0)
        self.fd = self.proc.stdout.fileno()
        self.jobs: collections.deque = collections.deque()  # (job, reply allowance s, wire line), in order
        self.deadline = 0.0  # for the first job's reply
        self.pending = bytearray()  # reply bytes read but not yet a complete line
        self.broken = False  # a write failed: take no more jobs
        self.sandbox = None
        self.cgroup = None  # the zygote's pids cgroup directory, if it has one

    def handshake(self) -> dict:
        while b"\n" not in self.pending:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise ZygoteError(f"zygote {self.proc.pid} exited during start-up (code {self.proc.wait()}); see stderr")
            self.pending += chunk
        return json.loads(self._pop_line())

    def send(self, line: bytes, job: Job, allowance: float) -> None:
        view = memoryview(line)
        while view:
            view = view[self.proc.stdin.write(view):]
        if not self.jobs:
            self.deadline = time.monotonic() + allowance
        self.jobs.append((job, allowance, line))

    def receive(self) -> list[ExecResult] | None:
        """Complete replies available now (after the selector said readable); None at EOF."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return None
        self.pending += chunk
        results = []
        while b"\n" in self.pending and self.jobs:
            results.append(ExecResult.from_dict(json.loads(self._pop_line())))
            self.jobs.popleft()
            if self.jobs:  # the next job starts now
                self.deadline = time.monotonic() + self.jobs[0][1]
        return results

    def _pop_line(self) -> bytes:
        end = self.pending.index(b"\n") + 1
        line = bytes(self.pending[:end])
        del self.pending[:end]
        return line

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
                 sandbox: str = "namespaces"):
        if sandbox not in MODES:
            raise ValueError(f"Engine sandbox must be one of {MODES}, got {sandbox!r}")
        self.n_workers = workers or os.cpu_count() or 1
        if self.n_workers < 1:
            raise ValueError(f"Engine workers must be >= 1, got {workers}")
        self.preload = tuple(preload)
        self.limits = limits or Limits()
        self.mode = sandbox
        self.sandbox = None  # filled from the zygotes' handshake, e.g. "namespaces+pids_cgroup" or "none"
        self.workers: list[_Worker] = []

    def __enter__(self) -> "Engine":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Spawn the zygotes. Raises SandboxUnavailable (namespaces mode) before any sample has run."""
        if self.workers:
            return
        missing = [p for p in self.limits.read_only_paths if not os.path.exists(p)]
        if missing:
            raise ValueError(f"Limits.read_only_paths: {missing[0]} does not exist")
        if self.mode == "none":
            _warn_unisolated()
        self.workers = self._spawn(self.n_workers)

    def _spawn(self, count: int) -> list[_Worker]:
        workers = [_Worker(self.mode, self.preload, self.limits.read_only_paths) for _ in range(count)]
        try:
            for worker in workers:
                ready = worker.handshake()
                if not ready.get("ready"):
                    if "step" in ready:
                        raise SandboxUnavailable(ready["step"], ready.get("errno"), ready.get("error", ""))
                    raise ZygoteError(f"zygote start-up failed: {ready.get('error')}")
                worker.sandbox = self.sandbox = ready["sandbox"]
                worker.cgroup = ready.get("cgroup")
        except BaseException:
            for worker in workers:
                worker.stop(kill=True)
            raise
        return workers

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def run(self, jobs) -> "collections.abc.Iterator[ExecResult]":
        """Execute jobs (any iterable of Job); yield ExecResults in completion order."""
        self.start()
        todo = iter(jobs)
        ready: collections.deque[tuple[bytes, Job, float]] = collections.deque()  # taken, not yet sent
        busy: dict[int, _Worker] = {}  # stdout fd -> worker with jobs in flight
        selector = selectors.DefaultSelector()
        try:
            while True:
                self._dispatch(todo, ready, busy, selector)
                if not busy:
                    return
                wait = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
                replied = {key.fd for key, _ in selector.select(timeout=wait)}
                now = time.monotonic()
                done = []
                for fd, worker in list(busy.items()):
                    if fd not in replied and worker.deadline > now:
                        continue
                    results = worker.receive() if fd in replied else None  # None: EOF or silent past deadline
                    if results is not None:
                        done += results
                        if worker.jobs:
                            continue
                    del busy[fd]
                    selector.unregister(fd)
                    if results is None:
                        (job, _, _), *queued = worker.jobs
                        ready.extendleft((line, j, a) for j, a, line in reversed(queued))  # never started
                        done.append(self._harness_error(job, worker))
                        self._replace(worker)
                yield from done
        finally:
            selector.close()
            for worker in busy.values():  # abandoned mid-run: a stale reply must not leak into the next run
                self._replace(worker)

    def _dispatch(self, todo, ready, busy, selector) -> None:
        """Fill idle zygotes first, then queue one more small job behind each running one."""
        while True:
            worker = min((w for w in self.workers if not w.broken), key=lambda w: len(w.jobs), default=None)
            if worker is None or len(worker.jobs) >= QUEUE_DEPTH:
                return
            if not ready:
                job = next(todo, _END)
                if job is _END:
                    return
                if not isinstance(job, Job):
                    raise TypeError(f"Engine.run expects Job objects, got {type(job).__name__}")
                limits = job.limits or self.limits
                if not set(limits.read_only_paths) <= set(self.limits.read_only_paths):
                    raise ValueError(f"Job {job.key!r}: read_only_paths {limits.read_only_paths} are not all in the "
                                     f"Engine's {self.limits.read_only_paths}: the zygotes' filesystem is built once, "
                                     "from Engine(limits=...)")
                ready.append(((json.dumps(job_to_wire(job, self.limits)) + "\n").encode(), job,
                              limits.timeout_s + REPLY_GRACE_S))
            line, job, allowance = ready[0]
            if worker.jobs and len(line) > QUEUE_MAX_BYTES:
                return  # wait for an idle zygote
            ready.popleft()
            try:
                worker.send(line, job, allowance)
            except OSError:  # the zygote is gone: this job never reached it
                ready.appendleft((line, job, allowance))
                if worker.jobs:
                    worker.broken = True  # its EOF is handled with its running job
                else:
                    self._replace(worker)
                continue
            if worker.fd not in busy:
                busy[worker.fd] = worker
                selector.register(worker.fd, selectors.EVENT_READ)

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


def _warn_unisolated() -> None:
    global _warned
    if not _warned:
        _warned = True
        message = ("humaneval.engine: sandbox 'none': samples run with rlimits and a process group only, NOT "
                   "isolated from your files, processes or the network. Every result records sandbox='none'.")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        print("WARNING: " + message, file=sys.stderr)
