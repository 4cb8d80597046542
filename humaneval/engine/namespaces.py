"""The zygote's own namespace set-up, one named step at a time (a failure names its step and errno).

Real root (isolation.real_root()): network + UTS namespaces, the read-only allowlisted root (rootfs.py),
the pids cgroup, pivot into the root. Everyone else first runs enter_user_namespace_and_pid1(): a user
namespace mapping only the caller's uid/gid (to 0), then a PID namespace of the zygote's own, in which
the zygote continues as pid 1 (the original process just waits and passes on its exit code). Being pid 1
of a namespace its user namespace owns is what lets the zygote setns() back after each sample's
unshare(CLONE_NEWPID); it also means every process it ever starts dies with it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass

from humaneval.engine import cgroup, isolation, nsinit, rootfs

STEP_USERNS = "create the zygote's user namespace (unshare(CLONE_NEWUSER), single-entry uid/gid maps)"
STEP_PIDNS = "create the zygote's PID namespace (unshare(CLONE_NEWPID) + fork)"
STEP_NET = "create the network and UTS namespaces (unshare(CLONE_NEWNET|CLONE_NEWUTS))"
STEP_ROOT = "build the read-only filesystem allowlist (mount namespace, tmpfs, bind mounts, procfs)"
STEP_SEAL = "make the filesystem read-only (mount_setattr / remount)"
STEP_PIVOT = "enter the read-only filesystem (pivot_root)"
STEP_INIT = "install the PID namespaces' init"


class SetupFailed(Exception):
    def __init__(self, step: str, errno: int | None, detail: str):
        self.step, self.errno, self.detail = step, errno, detail
        super().__init__(f"{step}: {detail}")


@contextlib.contextmanager
def step(name: str):
    try:
        yield
    except SetupFailed:
        raise
    except OSError as error:
        raise SetupFailed(name, error.errno, str(error)) from error


def enter_user_namespace_and_pid1(keep_fds) -> None:
    """User-ns mode, first thing in the zygote (still single-threaded, as unshare(CLONE_NEWUSER) requires).
    Returns in the new pid 1; the original process waits for it and exits with its status."""
    with step(STEP_USERNS):
        isolation.enter_user_namespace()
    with step(STEP_PIDNS):
        isolation.unshare(isolation.CLONE_NEWPID)
        pid = os.fork()
    if pid == 0:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # the original killed -> so are we
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in keep_fds:  # the protocol pipes belong to the new pid 1 alone (EOF when it exits)
        os.dup2(devnull, fd)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF if os.WIFEXITED(status) else 1)


@dataclass
class Namespaces:
    """What the zygote keeps from its set-up (the real-root and user-ns modes alike)."""
    userns: bool
    root: rootfs.RootPlan
    init: str  # path of the PID namespaces' init inside the root
    pid_ns_fd: int  # the zygote's own PID namespace, to setns back to after each sample
    lifeline: tuple[int, int]  # never written; closes when the zygote dies, and every init with it
    statm_fd: int | None  # /proc/self/statm (the zygote's /proc is gone after the pivot)
    group: cgroup.Group | None
    zygote_tasks: int

    @property
    def layers(self) -> str:
        return "+".join(["namespaces"] + (["userns"] if self.userns else []) + ([self.group.layer] if self.group else []))


def set_up(userns: bool, extra_paths: tuple[str, ...], cgroup_name: int) -> Namespaces:
    """Every zygote-level namespace; the host's tree is out of reach when this returns."""
    lifeline = os.pipe()
    pid_ns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
    statm_fd = isolation.open_statm()
    with step(STEP_NET):
        isolation.unshare(isolation.CLONE_NEWNET | isolation.CLONE_NEWUTS)
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # humaneval/
    owner = (0, 0) if userns else (isolation.SANDBOX_UID, isolation.SANDBOX_GID)
    root = rootfs.plan(rootfs.allowlist(package_dir, extra_paths), owner=owner, proc_placeholder=userns)
    with step(STEP_ROOT):
        rootfs.prepare_root(root)
    with step(STEP_INIT):
        # In the tree's /tmp: each sample's scratch tmpfs covers it, the zygote's namespace keeps it.
        init = nsinit.install(root.new_root + root.scratch)
        if init is None:
            raise SetupFailed(STEP_INIT, 2, "no `cat` binary to serve as the namespaces' init")
        if init.startswith(root.new_root + "/"):
            init = init[len(root.new_root):]
    with step(STEP_SEAL):
        rootfs.seal_root(root)
    group = cgroup.create_and_enter(cgroup_name)  # None where no pids controller is writable
    zygote_tasks = cgroup.tasks(group) if group else 0  # our threads, if any
    with step(STEP_PIVOT):
        rootfs.enter_root(root)  # last: from here on the host's files are out of reach
    return Namespaces(userns, root, init, pid_ns_fd, lifeline, statm_fd, group, zygote_tasks)


def platform_supported() -> bool:
    return sys.platform.startswith("linux")
