"""The sample's filesystem: a read-only allowlist, not a copy of `/`.

In the unprivileged mode the sample runs under the caller's own kernel uid, so a read-only view of `/`
would show it everything the caller can read (~/.ssh, cloud credentials, other projects). The tree holds:
  - /usr, /bin, /sbin, /lib* (system libraries and binaries, compiler toolchains under /usr included);
  - the few /etc entries programs need (ETC), a handful of /dev nodes (DEV), the /dev/fd links;
  - the interpreter's prefixes and site-packages; a virtual environment under $HOME: only its subtree;
  - the toolkit's own package (humaneval/);
  - Limits.read_only_paths (e.g. a datasets directory or a toolchain);
  - per sample: a fresh tmpfs on /tmp (the scratch dir, also HOME and the cwd) and a fresh /proc.
Every symlink on the way to an entry is recreated (/lib -> usr/lib, /etc/localtime, /etc/alternatives/*
targets stay in /usr), so paths resolve as on the host.

prepare_root (once per zygote, in its private mount namespace) builds the tree on a tmpfs: a mount point per
entry, bind-mounted (small /etc files are copied instead), then the whole tree made read-only and nosuid; enter_root pivots the zygote into it and
detaches the host's tree. build_root (per sample) copies that namespace and adds the scratch and /proc.
Paths under /tmp cannot be shown: the scratch tmpfs covers /tmp (the zygote imported our code already).
"""
from __future__ import annotations

import glob
import os
import shutil
import site
import sys
from dataclasses import dataclass

from humaneval.engine import isolation
from humaneval.engine.isolation import MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC, mount

SYSTEM = ("/usr", "/bin", "/sbin", "/lib*")
ETC = ("passwd", "group", "nsswitch.conf", "hosts", "host.conf", "resolv.conf", "gai.conf", "localtime",
       "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "mime.types", "protocols",
       "services", "os-release", "locale.alias", "ssl/certs", "ca-certificates", "python3*", "java-*")
DEV = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = (("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
             ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"))
HIDDEN = "/tmp"  # the scratch tmpfs covers it in every sample
MAX_LINK_DEPTH = 40
MAX_COPY_BYTES = 1 << 20


@dataclass(frozen=True)
class RootPlan:
    """The sandbox filesystem layout, computed once per zygote."""
    binds: tuple[str, ...] = ()  # real paths (dirs or files), none inside another
    copies: tuple[str, ...] = ()  # small /etc files: copied into the tree (a mount each would make every
    # sample's unshare(CLONE_NEWNS) copy a dozen more mounts)
    links: tuple[tuple[str, str], ...] = ()  # (path, target): symlinks to recreate in the tree
    new_root: str = "/tmp/humaneval-root"  # on a tmpfs private to the zygote's mount namespace
    scratch: str = "/tmp"
    owner: tuple[int, int] = (isolation.SANDBOX_UID, isolation.SANDBOX_GID)  # of the scratch, as the zygote sees it
    proc_placeholder: bool = False  # user-ns mode: a procfs must be visible before a sample may mount its own


def allowlist(package_dir: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Every path a sample may read (before symlink resolution); missing ones are dropped later."""
    paths = [p for pattern in SYSTEM for p in sorted(glob.glob(pattern))]
    paths += [p for name in ETC for p in sorted(glob.glob(os.path.join("/etc", name)))]
    paths += [os.path.join("/dev", name) for name in DEV]
    paths += python_paths() + [package_dir] + list(extra)
    return paths


def python_paths() -> list[str]:
    """The interpreter's prefixes and site-packages (a user site only when it is on sys.path)."""
    paths = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    paths += [p for p in getattr(site, "getsitepackages", lambda: [])() if p in sys.path]
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    return paths + ([user_site] if user_site in sys.path else [])


def plan(paths, **kwargs) -> RootPlan:
    """Resolve symlinks along each path; keep the outermost real paths to bind."""
    links: dict[str, str] = {}
    real = set()
    for path in paths:
        path = os.path.normpath(path)
        if os.path.isabs(path) and os.path.lexists(path):
            resolved = _resolve(path, links, 0)
            if resolved is not None and os.path.exists(resolved):
                real.add(resolved)
    shown = sorted(p for p in real if not _under(p, HIDDEN) and not any(_under(p, o) for o in real if o != p))
    kept = sorted((p, t) for p, t in links.items() if not any(_under(p, b) for b in shown) and not _under(p, HIDDEN))
    copies = [p for p in shown if p.startswith("/etc/") and os.path.isfile(p) and os.path.getsize(p) <= MAX_COPY_BYTES]
    binds = [p for p in shown if p not in copies]
    return RootPlan(binds=tuple(binds), copies=tuple(copies), links=tuple(kept), **kwargs)


def _under(path: str, other: str) -> bool:
    return path == other or path.startswith(other.rstrip("/") + "/")


def _resolve(path: str, links: dict, depth: int) -> str | None:
    """The real path of `path`, recording every symlink met on the way (each with real parent dirs)."""
    if depth > MAX_LINK_DEPTH:
        return None
    current = "/"
    for part in path.strip("/").split("/"):
        candidate = os.path.join(current, part)
        if os.path.islink(candidate):
            target = os.readlink(candidate)
            links[candidate] = target
            current = _resolve(os.path.normpath(os.path.join(current, target)), links, depth + 1)
            if current is None:
                return None
        else:
            current = candidate
    return current


def prepare_root(root: RootPlan) -> None:
    """Once per zygote, in its own mount namespace: the read-only tree every sample's namespace copies."""
    isolation.unshare(isolation.CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # A tmpfs private to the zygote: nothing is created on the host, and the host's /tmp stays invisible.
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=64,mode=755")
    new = root.new_root
    os.mkdir(new, 0o755)
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=8192,mode=755")
    for path in root.binds:
        target = new + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
        mount(path, target, None, MS_BIND | MS_REC)
    for path in root.copies:
        os.makedirs(os.path.dirname(new + path), exist_ok=True)
        shutil.copyfile(path, new + path)
        os.chmod(new + path, 0o644)
    for path, target in root.links + DEV_LINKS:
        os.makedirs(os.path.dirname(new + path), exist_ok=True)
        if not os.path.lexists(new + path):
            os.symlink(target, new + path)
    for path in (root.scratch, "/proc"):
        os.makedirs(new + path, exist_ok=True)
    if root.proc_placeholder:
        # The kernel lets a user namespace mount procfs only where one is already fully visible. This one
        # belongs to the zygote's own PID namespace (the zygote and its children) and is covered by each
        # sample's fresh /proc.
        mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def seal_root(root: RootPlan) -> None:
    """After the zygote placed its files (the init) in the tree: everything read-only and nosuid."""
    isolation.make_tree_readonly(root.new_root)


def enter_root(root: RootPlan) -> None:
    """The zygote moves into the read-only tree; the host's tree is detached from its mount namespace."""
    isolation.pivot_into(root.new_root)


def build_root(root: RootPlan, limits, files) -> None:
    """In the sample process (still privileged in its user namespace, inside its PID namespace): a private
    copy of the zygote's mount namespace with a fresh scratch tmpfs and /proc. A fresh IPC namespace too:
    SysV objects outlive processes and must not carry over to the next sample."""
    isolation.unshare(isolation.CLONE_NEWNS | isolation.CLONE_NEWIPC)
    inodes = max(64, min(1 << 16, limits.max_file_bytes // 4096))
    uid, gid = root.owner
    mount("tmpfs", root.scratch, "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={limits.max_file_bytes},nr_inodes={inodes},mode=700,uid={uid},gid={gid}")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    write_scratch_files(root.scratch, files, owner=root.owner if root.owner != (0, 0) else None)
    os.chdir(root.scratch)


def write_scratch_files(scratch: str, files, owner=None) -> None:
    for name, data in files:
        path = os.path.join(scratch, name)
        parent = os.path.dirname(path)
        if parent != scratch:
            os.makedirs(parent, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        if owner is not None:
            for p in [path] + _parents_below(scratch, parent):
                os.chown(p, *owner)


def _parents_below(scratch: str, parent: str) -> list[str]:
    result = []
    while parent != scratch and parent.startswith(scratch + "/"):
        result.append(parent)
        parent = os.path.dirname(parent)
    return result
