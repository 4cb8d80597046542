"""A pids cgroup (v1) per zygote: caps the tasks of the one sample running under it at a time.

The zygote moves itself into its group once, so every sample it forks is born inside it: moving a
process between v1 cgroups waits for an RCU grace period (10-30 ms measured here), far too slow per
sample. The group therefore also holds the zygote's own threads and each sample's init, which
set_max adds on top of max_procs.
We only create and remove our own child groups (humaneval-engine-<zygote pid>) under the pids hierarchy;
where it is missing or read-only the engine relies on RLIMIT_NPROC in the per-sample user namespace.
The zygote then moves into the read-only sandbox root, where these paths cannot be written: it keeps
open what it writes later (Group).
"""
from __future__ import annotations

import os
from typing import NamedTuple

PIDS_ROOT = "/sys/fs/cgroup/pids"
PREFIX = "humaneval-engine-"


class Group(NamedTuple):
    path: str
    max_fd: int  # pids.max
    home_procs_fd: int  # cgroup.procs of the group we came from: how we leave
    root_fd: int  # PIDS_ROOT, to remove the group from


def create_and_enter() -> Group | None:
    """Create this process's group and move into it; None where the pids controller is not writable."""
    if not os.access(PIDS_ROOT, os.W_OK) or not os.path.exists(os.path.join(PIDS_ROOT, "cgroup.procs")):
        return None
    _remove_stale()
    home = current_group()
    path = os.path.join(PIDS_ROOT, f"{PREFIX}{os.getpid()}")
    try:
        os.mkdir(path)
        _write(os.path.join(path, "cgroup.procs"), "0")  # "0": the writing process itself
        return Group(path, os.open(os.path.join(path, "pids.max"), os.O_WRONLY),
                     os.open(os.path.join(home, "cgroup.procs"), os.O_WRONLY),
                     os.open(PIDS_ROOT, os.O_RDONLY | os.O_DIRECTORY))
    except OSError:
        try:
            _write(os.path.join(home, "cgroup.procs"), "0")
        except OSError:
            pass
        remove(path)
        return None


def set_max(group: Group, max_procs: int, zygote_tasks: int) -> None:
    os.pwrite(group.max_fd, str(max_procs + zygote_tasks + 1).encode(), 0)  # +1: the sample's init


def tasks(group: Group) -> int:
    with open(os.path.join(group.path, "pids.current")) as f:
        return int(f.read())


def leave_and_remove(group: Group) -> None:
    try:
        os.write(group.home_procs_fd, b"0")
    except OSError:
        pass
    try:
        os.rmdir(os.path.basename(group.path), dir_fd=group.root_fd)  # only succeeds when empty
    except OSError:
        pass
    for fd in (group.max_fd, group.home_procs_fd, group.root_fd):
        os.close(fd)


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
