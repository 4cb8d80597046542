"""A pre-warmed worker: preloads common modules once, then forks one sandboxed child per job.

Run as `python -m humaneval.engine.zygote <namespaces|none> <preload,...> <read-only paths JSON>` by the pool. Protocol on the zygote's own
stdin/stdout (moved to private fds at start so nothing else writes there): one JSON job per line in, one
JSON ExecResult per line out. The zygote is trusted: it enforces the wall clock, reads the child's
output and builds the verdict; user code only ever runs in the forked child.

Per job, namespaces mode:
  zygote: unshare(PID) -> posix_spawn the init (nsinit.py: a tiny static program, or `cat`; vfork: cheap)
          = pid 1 of the new namespace, whose death takes every process of the sample with it -> fork
          the sample (fork_sample) = pid 2 -> setns back.
          The init reads a pipe only the zygote writes to: if the zygote dies, it sees EOF and the whole
          namespace goes with it (the sample itself also has a parent-death signal).
  sample: (born in the zygote's pids cgroup) build the read-only root (rootfs.build_root), take an
          unprivileged identity in its own user namespace (isolation.drop_to_sandbox_user as real root,
          isolation.enter_sample_user_namespace otherwise), run the driver.
Set-up (namespaces.py): as real root directly; otherwise the zygote first enters a user namespace of its
own and continues as pid 1 of a PID namespace of its own. Before saying ready it runs two probes (a
trivial program, and a fork that the process cap must refuse); any failure is a refusal naming the step.
The zygote itself sits in a private network (no interface up) and UTS namespace, inherited by every
sample; those hold no state a sample could leave for the next one (sockets die with their processes).
Per-sample cost is mostly copy-on-write page faults (~5 us each here): whatever the child would set up
identically every time (environment, RNG seeds, ctypes bindings, the seccomp program) is done once here.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import _signal
import sys
import tempfile
import time

from humaneval.engine import cgroup, driver, isolation, namespaces, rootfs
from humaneval.engine.limits import Job, Limits, job_from_wire
from humaneval.engine.supervise import build_result, supervise
from humaneval.engine.verdicts import ExecResult

# Preloaded in every zygote: samples import these for free (and an import inside the sandbox is slow).
PRELOAD_STDLIB = tuple((
    "abc array ast base64 bisect calendar cmath collections collections.abc contextlib copy csv dataclasses "
    "datetime decimal difflib enum fractions functools hashlib heapq io itertools json math numbers operator "
    "pprint queue random re statistics string struct subprocess textwrap threading time typing unicodedata "
    "encodings.idna encodings.latin_1 encodings.ascii encodings.utf_16 encodings.utf_32 encodings.cp1252"
).split())
RESULT_FD = 1023  # where the driver finds its private pipe (high, away from fds a program opens)
SCRATCH_PREFIX = "humaneval-engine-scratch-"  # sandbox "none" only: per-sample dirs under the temp dir
SAMPLE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}  # + HOME, TMPDIR


# libc fork() called with the GIL held (PyDLL): a fork without Python's at-fork machinery (the import
# lock, threading/random/logging hooks, GIL re-creation), which cost the child ~180 copy-on-write page
# faults (~0.9 ms) per sample. Sound only while the zygote has a single thread (checked at start-up):
# then no lock can be held by a thread that does not exist in the child. The sample itself forks with
# os.fork as usual.
_libc_fork = getattr(ctypes.PyDLL(None, use_errno=True), "fork", None) if os.name == "posix" else None


def fork_sample(bare: bool) -> int:
    if not bare:
        return os.fork()
    pid = _libc_fork()
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"fork: {os.strerror(err)}")
    return pid


def single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class Zygote:
    """State of one zygote process: sandbox mode and, in namespaces mode, what namespaces.set_up kept."""

    def __init__(self, mode: str, userns: bool = False, extra_paths: tuple[str, ...] = (), name: int | None = None):
        self.mode = mode  # "namespaces" or "none"
        self.bare_fork = _libc_fork is not None and single_threaded()
        driver.seed_rngs()  # once, here; the zygote never draws (see driver.seed_rngs)
        self.ns = None
        self.cgroup_max = None
        if mode == "namespaces":
            self.ns = namespaces.set_up(userns, extra_paths, name or os.getpid())
            self.statm_fd = self.ns.statm_fd
        else:
            _remove_stale_scratch()
            self.statm_fd = isolation.open_statm()

    @property
    def sandbox(self) -> str:
        return self.ns.layers if self.ns else "none"

    def close(self):
        if self.ns and self.ns.group:
            cgroup.leave_and_remove(self.ns.group)

    def run(self, job: Job) -> ExecResult:
        limits = job.limits
        (out_r, out_w), (err_r, err_w), (res_r, res_w) = os.pipe(), os.pipe(), os.pipe()
        nonce = os.urandom(16).hex()
        scratch = None if self.ns else tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        try:
            t0 = time.monotonic()
            try:
                pid, init_pid = self._start(job, nonce, (out_w, err_w, res_w), scratch)
            finally:
                for fd in (out_w, err_w, res_w):
                    os.close(fd)
            outcome = supervise(pid, init_pid, t0, limits.timeout_s, out_r, err_r, res_r, limits.max_output_bytes)
        finally:
            for fd in (out_r, err_r, res_r):
                os.close(fd)
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
        return build_result(job, outcome, nonce, self.sandbox)

    def _start(self, job: Job, nonce: str, pipes, scratch) -> tuple[int, int | None]:
        """Fork the sample; in namespaces mode first spawn the init of its fresh PID namespace."""
        base_vm = isolation.current_vm_bytes(self.statm_fd)
        ns = self.ns
        if ns is None:
            pid = fork_sample(self.bare_fork)
            if pid == 0:
                self._sample_main(job, nonce, base_vm, pipes, scratch=scratch)
            return pid, None
        max_procs = job.limits.max_procs
        if ns.group and self.cgroup_max != max_procs:
            cgroup.set_max(ns.group, max_procs, ns.zygote_tasks)
            self.cgroup_max = max_procs
        isolation.unshare(isolation.CLONE_NEWPID)  # our next children go to a fresh PID namespace
        try:
            init_pid = os.posix_spawn(
                ns.init, ["cat"], {}, setsid=True, setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGPIPE),
                file_actions=[(os.POSIX_SPAWN_DUP2, ns.lifeline[0], 0),
                              (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
            try:
                pid = fork_sample(self.bare_fork)
            except OSError:
                os.kill(init_pid, signal.SIGKILL)
                os.waitpid(init_pid, 0)
                raise
            if pid == 0:
                self._sample_main(job, nonce, base_vm, pipes)
        finally:
            isolation.setns(ns.pid_ns_fd, isolation.CLONE_NEWPID)  # back, for the next job
        return pid, init_pid

    def _sample_main(self, job: Job, nonce: str, base_vm: int, pipes, scratch: str | None = None) -> None:
        """The forked child that becomes the sample. Never returns."""
        out_w, err_w, res_w = pipes
        limits = job.limits
        ns = self.ns
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDONLY)
            for fd, target in ((devnull, 0), (out_w, 1), (err_w, 2), (res_w, RESULT_FD)):
                os.dup2(fd, target)
            _close_fds_except((0, 1, 2, RESULT_FD))  # above all the zygote's protocol pipes
            if ns is not None:
                rootfs.build_root(ns.root, limits, job.files)
                isolation.apply_rlimits(limits, base_vm)
                if ns.userns:
                    isolation.enter_sample_user_namespace(limits.max_procs)
                else:
                    isolation.drop_to_sandbox_user(limits.max_procs)
            else:
                os.chdir(scratch)
                rootfs.write_scratch_files(scratch, job.files)
                isolation.apply_rlimits(limits, base_vm, best_effort=True)
                if sys.platform.startswith("linux"):
                    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
                os.environ["HOME"] = os.environ["TMPDIR"] = scratch  # the rest was set once, in the zygote
            tempfile.tempdir = None
            _signal.signal(signal.SIGINT, _signal.default_int_handler)  # not signal.signal: its enum wrapping is slow
        except BaseException as error:
            _report_setup_error(RESULT_FD, nonce, error)
        driver.run(job.program, job.capture, nonce, RESULT_FD, seeded=self.bare_fork)
        os._exit(0)


def _remove_stale_scratch() -> None:
    """Fallback scratch dirs of zygotes killed mid-sample (named after the zygote's pid)."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        owner = name[len(SCRATCH_PREFIX):].split("-")[0]
        if name.startswith(SCRATCH_PREFIX) and owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _report_setup_error(fd: int, nonce: str, error: BaseException) -> None:
    try:
        msg = {"status": "setup_error", "message": f"{type(error).__name__}: {error}"}
        os.write(fd, (nonce + " " + json.dumps(msg) + "\n").encode())
    finally:
        os._exit(1)


def _close_fds_except(keep) -> None:
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 16)


def preload(modules) -> None:
    import gc
    import importlib
    for name in modules:
        importlib.import_module(name)
        if name == "numpy":
            importlib.import_module("numpy.random")  # lazy in numpy 2; the driver seeds it per sample
    gc.freeze()  # keep the collector from touching (and so copying) the preloaded heap in every child


# The probes every zygote runs before it says ready: a trivial program must pass, and with max_procs=1 a
# fork must fail (RLIMIT_NPROC or the pids cgroup in force; NPROC does not bind kernel uid 0).
PROBE = Job("probe", "pass", Limits())
CAP_PROBE = Job("process-cap-probe", "import os\ntry:\n    os.fork()\nexcept BlockingIOError:\n    pass\n"
                "else:\n    raise SystemExit('fork succeeded')", Limits(max_procs=1))
STEP_PROBE = "run a probe program in the sandbox"
STEP_CAP = "check the process cap (a fork with max_procs=1 must fail)"


def main(argv) -> int:
    """argv: mode ("namespaces" | "none"), comma-separated preload modules, JSON list of extra read-only paths."""
    mode, wanted = argv[0], [m for m in argv[1].split(",") if m]
    extra_paths = tuple(json.loads(argv[2])) if len(argv) > 2 else ()
    name = os.getpid()  # the evaluator's name for us (a user-ns zygote becomes pid 1 of its own namespace)
    if sys.platform.startswith("linux"):
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # the evaluator died -> so do we
    cmd_fd, reply_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray prints in the zygote must not corrupt the protocol
    try:
        userns = False
        if mode == "namespaces":
            if os.environ.get("HUMANEVAL_ENGINE_DISABLE_NAMESPACES"):
                # Lets tests and users see the refusal as if in a locked-down container.
                raise namespaces.SetupFailed("namespaces disabled by HUMANEVAL_ENGINE_DISABLE_NAMESPACES", 1,
                                             "set in the environment")
            if not namespaces.platform_supported():
                raise namespaces.SetupFailed(f"platform check: namespaces need Linux, this is {sys.platform}", None, "")
            userns = not isolation.real_root()
            if userns:
                namespaces.enter_user_namespace_and_pid1((cmd_fd, reply_fd))
        preload(PRELOAD_STDLIB + tuple(wanted))
        zygote = Zygote(mode, userns, extra_paths, name)
    except namespaces.SetupFailed as error:
        _reply(reply_fd, {"ready": False, "step": error.step, "errno": error.errno, "error": error.detail})
        return 1
    if sys.platform.startswith("linux"):
        isolation.prctl(isolation.PR_SET_DUMPABLE, 0)  # no ptrace or /proc/<pid>/mem by anything of our uid
    # Scrub the environment here, once, rather than in every child (os.environ.clear() there alone
    # cost ~100 copy-on-write page faults, ~0.8 ms). Nothing in the zygote reads it any more.
    os.environ.clear()
    scratch = zygote.ns.root.scratch if zygote.ns else tempfile.gettempdir()  # "none": set per sample
    os.environ.update(SAMPLE_ENV, HOME=scratch, TMPDIR=scratch)
    try:
        failure = _probe(zygote)
        if failure is not None:
            _reply(reply_fd, {"ready": False, **failure})
            return 1
        _reply(reply_fd, {"ready": True, "sandbox": zygote.sandbox, "pid": os.getpid(),
                          "cgroup": zygote.ns.group.path if zygote.ns and zygote.ns.group else None})
        with os.fdopen(cmd_fd, "r", encoding="utf-8") as commands:
            for line in commands:
                job = job_from_wire(json.loads(line))
                try:
                    result = zygote.run(job)
                except OSError as error:  # e.g. fork() failing: the machine, not the sample
                    result = ExecResult(job.key, "harness_error", "ZygoteError", f"{type(error).__name__}: {error}",
                                        sandbox=zygote.sandbox)
                _reply(reply_fd, result.to_dict())
    finally:
        zygote.close()
    return 0


def _probe(zygote: Zygote) -> dict | None:
    probe = zygote.run(PROBE)
    if probe.verdict != "passed":
        return {"step": STEP_PROBE, "errno": None, "error": f"{probe.error_type}: {probe.error_message}"}
    if zygote.ns is not None:
        capped = zygote.run(CAP_PROBE)
        if capped.verdict != "passed":
            return {"step": STEP_CAP, "errno": None,
                    "error": f"{capped.verdict} {capped.error_type}: {capped.error_message}"}
    return None


def _reply(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
