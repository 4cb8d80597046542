"""A pids cgroup (v1) per zygote: caps the tasks of the one sample running under it at a time.

The zygote moves itself into its group once, so every sample it forks is born inside it: moving a
process between v1 cgroups waits for an RCU grace period (10-30 ms measured here), far too slow per
sample. The group therefore also holds the zygote's own threads and each sample's `cat` init, which
set_max adds on top of max_procs.
We only create and remove our own child groups (humaneval-engine-<zygote pid>) under the pids hierarchy;
where it is missing or read-only the engine relies on RLIMIT_NPROC in the per-sample user namespace.
"""
from __future__ import annotations

import os

PIDS_ROOT = "/sys/fs/cgroup/pids"
PREFIX = "humaneval-engine-"
def create_and_enter() -> str | None:
    """Create this process's group and move into it; None where the pids controller is not writable."""
    if not os.access(PIDS_ROOT, os.W_OK) or not os.path.exists(os.path.join(PIDS_ROOT, "cgroup.procs")):
        return None
    _remove_stale()
    path = os.path.join(PIDS_ROOT, f"{PREFIX}{os.getpid()}")
    try:
        os.mkdir(path)
        _write(os.path.join(path, "cgroup.procs"), "0")  # "0": the writing process itself
    except OSError:
        remove(path)
        return None
    return path


def set_max(path: str, max_procs: int, zygote_tasks: int) -> None:
    _write(os.path.join(path, "pids.max"), str(max_procs + zygote_tasks + 1))  # +1: the sample's init


def tasks(path: str) -> int:
    with open(os.path.join(path, "pids.current")) as f:
        return int(f.read())


def leave_and_remove(path: str, original: str) -> None:
    try:
        _write(os.path.join(original, "cgroup.procs"), "0")
    except OSError:
        pass
    remove(path)


def current_group() -> str:
    """This process's pids group directory (where leave_and_remove moves it back to)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, rel = line.rstrip("\n").split(":", 2)
            if "pids" in controllers.split(","):
                return os.path.join(PIDS_ROOT, rel.lstrip("/"))
    return PIDS_ROOT


def remove(path: str) -> None:
    try:
        os.rmdir(path)  # only succeeds when empty
    except OSError:
        pass


def _remove_stale() -> None:
    """Empty groups left by zygotes that were killed before they could clean up."""
    for name in os.listdir(PIDS_ROOT):
        if name.startswith(PREFIX) and name[len(PREFIX):].isdigit():
            if not os.path.exists(f"/proc/{name[len(PREFIX):]}"):
                remove(os.path.join(PIDS_ROOT, name))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
