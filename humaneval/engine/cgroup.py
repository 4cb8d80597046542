"""A pids cgroup per zygote (v1, or a delegated v2 subtree): caps the tasks of the one sample running under it.

The zygote moves itself into its group once, so every sample it forks is born inside it: moving a
process between cgroups waits for an RCU grace period (10-30 ms measured here with v1), far too slow per
sample. The group therefore also holds the zygote's own threads and each sample's init, which set_max
adds on top of max_procs.
Where the group is made:
  - v1: under the pids hierarchy's root (/sys/fs/cgroup/pids), where that is writable (real root);
  - v2: under the nearest ancestor of our own cgroup that has `pids` in cgroup.subtree_control and whose
    directory and cgroup.procs we may write: a delegated subtree (systemd's user@UID.service, a container
    given its own cgroup namespace), or the root for real root. Moving there needs write access to the
    common ancestor's cgroup.procs, which that ancestor is.
We only create and remove our own child groups (humaneval-engine-<zygote pid>-<random>); where none can be made the
engine relies on RLIMIT_NPROC in the per-sample user namespace. The zygote then moves into the read-only
sandbox root, where these paths cannot be written: it keeps open what it writes later (Group).
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
    parent_fd: int  # the directory holding the group, to remove it from
    layer: str  # the sandbox layer name: "pids_cgroup" (v1) or "pids_cgroup2"


def create_and_enter(name: int) -> Group | None:
    """Create our group (named after the zygote's pid as the evaluator sees it) and move into it; None
    where no pids controller is writable."""
    for parent, home, layer in _candidates():
        # The random part: zygotes in different PID namespaces can share a pid.
        group = _try_enter(parent, home, layer, os.path.join(parent, f"{PREFIX}{name}-{os.urandom(4).hex()}"))
        if group is not None:
            return group
    return None


def _candidates() -> list[tuple[str, str, str]]:
    """(where to create the group, the group we are in now, layer): v1 first (today's path), then v2."""
    found = []
    groups = own_groups()
    if "pids" in groups and _writable(PIDS_ROOT):
        found.append((PIDS_ROOT, os.path.join(PIDS_ROOT, groups["pids"].lstrip("/")), "pids_cgroup"))
    home = v2_group_dir(groups.get(""))
    if home is not None:
        mount_dir = home
        while True:
            if _has_pids(mount_dir) and _writable(mount_dir):
                found.append((mount_dir, home, "pids_cgroup2"))
                break
            up = os.path.dirname(mount_dir)
            if up == mount_dir or not os.path.exists(os.path.join(up, "cgroup.procs")):
                break
            mount_dir = up
    return found


def _writable(directory: str) -> bool:
    return os.access(directory, os.W_OK) and os.access(os.path.join(directory, "cgroup.procs"), os.W_OK)


def _has_pids(directory: str) -> bool:
    try:
        with open(os.path.join(directory, "cgroup.subtree_control")) as f:
            return "pids" in f.read().split()
    except OSError:
        return False


def own_groups() -> dict[str, str]:
    """controller -> our group path, from /proc/self/cgroup ("" is the v2 unified hierarchy)."""
    groups = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, rel = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                groups[name] = rel
    return groups


def v2_group_dir(rel: str | None) -> str | None:
    """Our v2 group's directory, from the cgroup2 mount in /proc/self/mountinfo."""
    if rel is None:
        return None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                root, mount_point = fields[3], fields[4].replace("\\040", " ")
                if rel == root or rel.startswith(root.rstrip("/") + "/"):
                    path = os.path.join(mount_point, rel[len(root.rstrip("/")):].lstrip("/"))
                    return path.rstrip("/") or "/"
    return None


def _try_enter(parent: str, home: str, layer: str, path: str) -> Group | None:
    _remove_stale(parent)
    try:
        os.mkdir(path)
    except OSError:
        return None
    try:
        _write(os.path.join(path, "cgroup.procs"), "0")  # "0": the writing process itself
        return Group(path, os.open(os.path.join(path, "pids.max"), os.O_WRONLY),
                     os.open(os.path.join(home, "cgroup.procs"), os.O_WRONLY),
                     os.open(parent, os.O_RDONLY | os.O_DIRECTORY), layer)
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
        os.rmdir(os.path.basename(group.path), dir_fd=group.parent_fd)  # only succeeds when empty
    except OSError:
        pass
    for fd in (group.max_fd, group.home_procs_fd, group.parent_fd):
        os.close(fd)


def remove(path: str) -> None:
    try:
        os.rmdir(path)  # only succeeds when empty
    except OSError:
        pass


def _remove_stale(parent: str) -> None:
    """Empty groups left by zygotes that were killed before they could clean up."""
    for name in os.listdir(parent):
        pid = name[len(PREFIX):].split("-")[0]
        if name.startswith(PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            remove(os.path.join(parent, name))  # a group still holding processes is never removed


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
