"""A pids cgroup (v1) per zygote: caps the tasks of the one sample running in it at a time.

We only ever create and remove our own child groups (humaneval-engine-<zygote pid>) under the mounted
pids hierarchy. Where it is missing or read-only the engine relies on RLIMIT_NPROC in the per-sample
user namespace instead.
"""
from __future__ import annotations

import os

PIDS_ROOT = "/sys/fs/cgroup/pids"
PREFIX = "humaneval-engine-"


def create() -> str | None:
    if not os.access(PIDS_ROOT, os.W_OK) or not os.path.exists(os.path.join(PIDS_ROOT, "cgroup.procs")):
        return None
    _remove_stale()
    path = os.path.join(PIDS_ROOT, f"{PREFIX}{os.getpid()}")
    try:
        os.mkdir(path)
        _write(os.path.join(path, "pids.max"), "64")
    except OSError:
        return None
    return path


def set_max(path: str, value: int) -> None:
    _write(os.path.join(path, "pids.max"), str(value))


def join(path: str) -> None:
    _write(os.path.join(path, "cgroup.procs"), "0")  # "0": the writing process itself


def remove(path: str) -> None:
    try:
        os.rmdir(path)  # only succeeds when empty, which it is once every sample's namespace is gone
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
