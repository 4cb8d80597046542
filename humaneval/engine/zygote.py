"""A pre-warmed worker: preloads common modules once, then forks one sandboxed child per job.

Run as `python -m humaneval.engine.zygote <mode> <preload,...>` by the pool. Protocol on the zygote's own
stdin/stdout (moved to private fds at start so nothing else writes there): one JSON job per line in, one
JSON ExecResult per line out. The zygote is trusted: it enforces the wall clock, reads the child's
output, and builds the verdict; user code only ever runs in the forked grandchild.
"""
from __future__ import annotations

import json
import os
import select
import signal
import sys
import tempfile
import time

from humaneval.engine import cgroup, driver, isolation
from humaneval.engine.limits import Job, Limits, job_from_wire
from humaneval.engine.verdicts import ExecResult, classify

# Preloaded in every zygote: samples import these for free (and an import inside the sandbox is slow).
PRELOAD_STDLIB = tuple((
    "abc array ast base64 bisect calendar cmath collections collections.abc contextlib copy csv dataclasses "
    "datetime decimal difflib enum fractions functools hashlib heapq io itertools json math numbers operator "
    "pprint queue random re statistics string struct subprocess textwrap threading time typing unicodedata "
    "encodings.idna encodings.latin_1 encodings.ascii encodings.utf_16 encodings.utf_32 encodings.cp1252"
).split())
RESULT_FD = 1023  # where the driver finds its private pipe (high, away from fds a program opens)
MAX_REPORT_BYTES = 32 << 20
READ_CHUNK = 1 << 16


class Zygote:
    """State of one zygote process: sandbox mode, root plan, cgroup, own PID namespace handle."""

    def __init__(self, mode: str):
        if mode == "namespaces" and os.environ.get("HUMANEVAL_ENGINE_DISABLE_NAMESPACES"):
            # Lets tests and users exercise the fallback path as if in a locked-down container.
            raise isolation.SandboxError(1, "namespaces disabled by HUMANEVAL_ENGINE_DISABLE_NAMESPACES")
        self.mode = mode  # "namespaces" or "rlimits"
        self.pid_ns_fd = None
        self.plan = None
        self.cgroup = None
        if mode == "namespaces":
            self.pid_ns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
            new_root = tempfile.mkdtemp(prefix="humaneval-engine-root-")
            os.chmod(new_root, 0o755)
            exposed = isolation.blocked_paths([sys.prefix, sys.base_prefix, sys.exec_prefix] + sys.path
                                              + [os.path.dirname(os.path.dirname(os.path.dirname(__file__)))])
            self.plan = isolation.RootPlan(new_root, exposed=exposed)
            self.cgroup = cgroup.create()  # None where the pids controller is not writable

    @property
    def sandbox(self) -> str:
        if self.mode != "namespaces":
            return "rlimits"
        return "namespaces+pids_cgroup" if self.cgroup else "namespaces"

    def close(self):
        if self.cgroup:
            cgroup.remove(self.cgroup)
        if self.plan:
            try:
                os.rmdir(self.plan.new_root)
            except OSError:
                pass

    def run(self, job: Job) -> ExecResult:
        limits = job.limits
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        st_r, st_w = os.pipe()
        nonce = os.urandom(16).hex()
        base_vm = isolation.current_vm_bytes()
        scratch = None
        if self.cgroup:
            cgroup.set_max(self.cgroup, limits.max_procs + 1)  # +1: the init process
        t0 = time.monotonic()
        if self.mode == "namespaces":
            isolation.unshare(isolation.CLONE_NEWPID)  # our next child is pid 1 of a fresh namespace
            try:
                pid = os.fork()
            finally:
                if os.getpid() != 1:
                    isolation.setns(self.pid_ns_fd, isolation.CLONE_NEWPID)  # back, for the next job
            if pid == 0:
                self._init_main(job, nonce, base_vm, (out_w, err_w, res_w, st_w))
        else:
            scratch = tempfile.mkdtemp(prefix="humaneval-engine-scratch-")
            pid = os.fork()
            if pid == 0:
                try:
                    os.chdir(scratch)
                    isolation.write_scratch_files(scratch, job.files)
                    _program_main(job, nonce, base_vm, out_w, err_w, res_w, nproc=os.geteuid() != 0,
                                  scratch=scratch, sandboxed=False)
                except BaseException as e:
                    _report_setup_error(res_w, nonce, e)
        for fd in (out_w, err_w, res_w, st_w):
            os.close(fd)
        try:
            outcome = _supervise(pid, t0, limits.timeout_s, out_r, err_r, res_r, st_r, limits.max_output_bytes,
                                 kill_group=self.mode != "namespaces")
        finally:
            for fd in (out_r, err_r, res_r, st_r):
                os.close(fd)
            if scratch:
                _remove_tree(scratch)
        return _result(job, outcome, nonce, self.sandbox)

    def _init_main(self, job, nonce, base_vm, fds) -> None:
        """pid 1 of the sample's PID namespace (real root): build the sandbox, fork the program, wait."""
        out_w, err_w, res_w, st_w = fds
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 then ignores every signal from the sample
            isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # zygote gone -> namespace gone
            _close_fds_except(fds)
            if self.cgroup:
                cgroup.join(self.cgroup)
            isolation.build_root(self.plan, job.limits, job.files)
            child = os.fork()
            if child == 0:
                os.close(st_w)
                _program_main(job, nonce, base_vm, out_w, err_w, res_w, nproc=True, scratch=self.plan.scratch,
                              sandboxed=True)
            for fd in (out_w, err_w, res_w):
                os.close(fd)
            _, status = os.waitpid(child, 0)
            os.write(st_w, str(status).encode())
        except BaseException as e:
            _report_setup_error(res_w, nonce, e)
        os._exit(0)


def _report_setup_error(res_w: int, nonce: str, error: BaseException) -> None:
    try:
        msg = {"status": "setup_error", "message": f"{type(error).__name__}: {error}"}
        os.write(res_w, (nonce + " " + json.dumps(msg) + "\n").encode())
    finally:
        os._exit(1)


def _close_fds_except(keep) -> None:
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 16)


def _program_main(job, nonce, base_vm, out_w, err_w, res_w, *, nproc: bool, scratch: str, sandboxed: bool):
    """The process that becomes the sample: wire stdio, limits, identity; then hand over to the driver."""
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(res_w, RESULT_FD)
        _close_fds_except((0, 1, 2, RESULT_FD))
        limits = job.limits
        isolation.apply_rlimits(limits, base_vm, nproc=False)
        if sandboxed:
            isolation.drop_to_sandbox_user()
        if nproc:
            import resource
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_procs, limits.max_procs))
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch,
                           "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"})
        tempfile.tempdir = None
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except BaseException as e:
        _report_setup_error(RESULT_FD if _fd_open(RESULT_FD) else res_w, nonce, e)
    driver.run(job.program, job.capture, nonce, RESULT_FD)
    os._exit(0)


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _supervise(pid, t0, timeout_s, out_r, err_r, res_r, st_r, cap, kill_group: bool) -> dict:
    """Read all pipes concurrently until the child exits or the deadline passes; then SIGKILL the tree."""
    streams = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray(), st_r: bytearray()}
    caps = {out_r: cap, err_r: cap, res_r: MAX_REPORT_BYTES, st_r: 64}
    totals = dict.fromkeys(streams, 0)
    poller = select.poll()
    for fd in streams:
        poller.register(fd, select.POLLIN)
    pidfd = os.pidfd_open(pid)
    poller.register(pidfd, select.POLLIN)
    open_fds = set(streams)
    deadline = t0 + timeout_s
    timed_out = exited = False
    report_cutoff = None

    def read(fd):
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            poller.unregister(fd)
            open_fds.discard(fd)
            return
        totals[fd] += len(chunk)
        room = caps[fd] - len(streams[fd])
        if room > 0:
            streams[fd] += chunk[:room]

    try:
        while not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                report_cutoff = len(streams[res_r])  # only a report written before the deadline counts
                _kill(pid, kill_group)
                break
            for fd, _ in poller.poll(max(1, int(remaining * 1000) + 1)):
                if fd == pidfd:
                    exited = True
                else:
                    read(fd)
        _, status, usage = os.wait4(pid, 0)
        wall_s = time.monotonic() - t0
        if kill_group:
            _kill(pid, True)  # the process group may still hold our pipes
        end = time.monotonic() + 0.5  # after the namespace's init died every writer is gone: EOF comes fast
        while open_fds and time.monotonic() < end:
            for fd, _ in poller.poll(50):
                if fd != pidfd:
                    read(fd)
    finally:
        os.close(pidfd)
    report = bytes(streams[res_r] if report_cutoff is None else streams[res_r][:report_cutoff])
    return {"timed_out": timed_out, "status": status, "usage": usage, "report": report,
            "inner_status": bytes(streams[st_r]), "stdout": bytes(streams[out_r]), "stderr": bytes(streams[err_r]),
            "stdout_bytes": totals[out_r], "stderr_bytes": totals[err_r], "wall_s": wall_s}


def _kill(pid: int, group: bool) -> None:
    try:
        os.killpg(pid, signal.SIGKILL) if group else os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _parse_report(raw: bytes, nonce: str) -> dict | None:
    """The last complete line carrying this run's nonce (a partial last line means the writer died)."""
    prefix = nonce.encode() + b" "
    for line in reversed(raw.split(b"\n")[:-1]):
        if line.startswith(prefix):
            try:
                report = json.loads(line[len(prefix):])
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None


def _result(job: Job, outcome: dict, nonce: str, sandbox: str) -> ExecResult:
    report = _parse_report(outcome["report"], nonce)
    status = outcome["status"]
    if outcome["inner_status"]:  # namespaces: the init reports how the program process ended
        status = int(outcome["inner_status"])
    code = os.waitstatus_to_exitcode(status)
    exit_code, sig = (code, None) if code >= 0 else (None, -code)
    if outcome["timed_out"]:
        exit_code, sig = None, signal.SIGKILL
    usage = outcome["usage"]
    cpu_s = usage.ru_utime + usage.ru_stime
    verdict, error_type, message = classify(report, outcome["timed_out"], exit_code, sig, cpu_s,
                                            job.limits.cpu_seconds)
    return ExecResult(
        key=job.key, verdict=verdict, error_type=error_type, error_message=message,
        observed=report.get("observed") if report else None,
        wall_s=round(outcome["wall_s"], 6), cpu_s=round(cpu_s, 6), peak_rss_bytes=usage.ru_maxrss * 1024,
        stdout=outcome["stdout"].decode("utf-8", errors="replace"),
        stderr=outcome["stderr"].decode("utf-8", errors="replace"),
        stdout_bytes=outcome["stdout_bytes"], stderr_bytes=outcome["stderr_bytes"],
        exit_code=exit_code, signal=sig, sandbox=sandbox)


def _remove_tree(path: str) -> None:
    import shutil
    shutil.rmtree(path, ignore_errors=True)


def preload(modules) -> None:
    import gc
    import importlib
    for name in modules:
        importlib.import_module(name)
        if name == "numpy":
            importlib.import_module("numpy.random")  # lazy in numpy 2; the driver seeds it per sample
    gc.freeze()  # keep the collector from touching (and so copying) the preloaded heap in every child


def main(argv) -> int:
    mode, wanted = argv[0], [m for m in argv[1].split(",") if m]
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # the evaluator died -> so do we
    cmd_fd, reply_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray prints in the zygote must not corrupt the protocol
    preload(PRELOAD_STDLIB + tuple(wanted))
    try:
        zygote = Zygote(mode)
    except OSError as error:
        _reply(reply_fd, {"ready": False, "error": str(error)})
        return 1
    try:
        probe = zygote.run(Job("probe", "pass", Limits()))
        if probe.verdict != "passed":
            _reply(reply_fd, {"ready": False, "error": f"{probe.error_type}: {probe.error_message}"})
            return 1
        _reply(reply_fd, {"ready": True, "sandbox": zygote.sandbox, "pid": os.getpid()})
        with os.fdopen(cmd_fd, "r", encoding="utf-8") as commands:
            for line in commands:
                job = job_from_wire(json.loads(line))
                _reply(reply_fd, zygote.run(job).to_dict())
    finally:
        zygote.close()
    return 0


def _reply(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
