"""Linux isolation primitives for one sample, via ctypes (Python 3.11 has no os.unshare).

Once per zygote: prepare_root builds a read-only copy of / (rbind, recursively read-only) and
enter_root pivots the zygote itself into it, so the mount namespace every sample copies holds just
that tree (copying, then detaching, the host's mounts per sample cost ~0.3 ms).
In the sample process, still real root (see zygote.py for the process layout):
  build_root: new mount + IPC namespaces (copies of the zygote's), a fresh tmpfs on /tmp (the scratch
      dir, also the cwd), a fresh /proc for the sample's PID namespace.
  apply_rlimits: address space/data, CPU seconds, file size, open files, no core dumps.
  drop_to_sandbox_user: uid/gid 65534 in a new user namespace (identity map), RLIMIT_NPROC, no
      capabilities, no_new_privs, parent-death signal, a seccomp filter against AF_UNIX sockets.
Why uid 65534 in its own user namespace: a non-root kernel uid makes RLIMIT_NPROC bite (root ignores it)
and leaves root-owned files alone even if a mount were writable; the fresh user namespace makes that
process count per sample, instead of shared by every sandbox on the machine running as 65534. The pids
cgroup (cgroup.py) adds an exact per-sample cap where the controller is writable.
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource
import stat
from dataclasses import dataclass

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
AT_RECURSIVE = 0x8000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 38
_SYSCALLS = {  # only the ones glibc may not wrap, plus what the seccomp filter names
    "x86_64": {"pivot_root": 155, "capset": 126, "mount_setattr": 442, "socket": 41, "io_uring_setup": 425,
               "audit_arch": 0xC000003E},
    "aarch64": {"pivot_root": 41, "capset": 91, "mount_setattr": 442, "socket": 198, "io_uring_setup": 425,
                "audit_arch": 0xC00000B7},
}
SANDBOX_UID = SANDBOX_GID = 65534  # "nobody": a non-root kernel uid, so RLIMIT_NPROC applies

_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None
# Resolved once at import, in the zygote: every name the forked child looks up itself is a page it
# copies on write (each fault costs ~5-7 us here), so the child only calls what is already bound.
_NUMBERS = _SYSCALLS.get(platform.machine(), {})
_MACHINE = platform.machine()
_c_syscall, _c_unshare, _c_setns, _c_mount, _c_umount2, _c_prctl = (
    getattr(_libc, name, None) for name in ("syscall", "unshare", "setns", "mount", "umount2", "prctl"))


class SandboxError(OSError):
    pass


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")
    return result


def _syscall(name: str, *args) -> int:
    number = _NUMBERS.get(name)
    if number is None:
        raise SandboxError(38, f"{name}: syscall number unknown on {_MACHINE}")
    return _check(_c_syscall(ctypes.c_long(number), *args), name)


def unshare(flags: int) -> None:
    if _c_unshare(ctypes.c_int(flags)) < 0:
        _check(-1, f"unshare({flags:#x})")


def setns(fd: int, nstype: int) -> None:
    if _c_setns(ctypes.c_int(fd), ctypes.c_int(nstype)) < 0:
        _check(-1, "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _c_mount(_enc(source), _enc(target), _enc(fstype), ctypes.c_ulong(flags), _enc(data)) < 0:
        _check(-1, f"mount {source} on {target} ({fstype}, {flags:#x})")


def _enc(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def umount2(target: str, flags: int) -> None:
    _check(_c_umount2(target.encode(), ctypes.c_int(flags)), f"umount2 {target}")


def prctl(option: int, arg: int) -> None:
    _check(_c_prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                    ctypes.c_ulong(0)), f"prctl({option})")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def make_tree_readonly(path: str) -> None:
    """Read-only + nosuid for path and every mount below it. A plain remount only covers the top mount,
    and an rbind of / carries /dev/shm, /tmp, ... along as writable submounts."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 0, 0)
    try:
        _syscall("mount_setattr", ctypes.c_int(-100), path.encode(), ctypes.c_uint(AT_RECURSIVE),
                 ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
        return
    except SandboxError as e:
        if e.errno != 38:  # ENOSYS: kernel < 5.12, remount each mount below
            raise
    prefix = path.rstrip("/") + "/"
    targets = [path] + [m for m in _mount_points() if m.startswith(prefix)]
    for target in targets:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4].replace("\\040", " ") for line in f]


def pivot_into(new_root: str) -> None:
    """pivot_root (not chroot: a chroot is escapable by a process holding CAP_SYS_CHROOT, and blocks
    creating the user namespace) and detach the old tree so nothing writable stays reachable."""
    os.chdir(new_root)
    _syscall("pivot_root", b".", b".")
    umount2(".", MNT_DETACH)
    os.chdir("/")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


_CAP_HEADER, _CAP_DATA = _CapHeader(0x20080522, 0), (ctypes.c_uint32 * 6)()  # two cap_user_data, all zero


def drop_capabilities() -> None:
    _syscall("capset", ctypes.byref(_CAP_HEADER), ctypes.byref(_CAP_DATA))


def write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


@dataclass(frozen=True)
class RootPlan:
    """The sandbox filesystem layout, computed once per zygote."""
    new_root: str = "/tmp/humaneval-root"  # created by prepare_root inside the zygote's mount namespace
    scratch: str = "/tmp"
    # Directories that must stay readable although an ancestor is not world-searchable (this machine's
    # Python lives under /root, mode 700): each is re-exposed on a small tmpfs laid over that ancestor.
    exposed: tuple[tuple[str, tuple[str, ...]], ...] = ()


def blocked_paths(paths, hidden: str = "/tmp") -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Group paths by their highest ancestor that "others" cannot search (e.g. /root: drwx------).
    Paths under `hidden` are left out: samples get a fresh tmpfs there, so nothing below it can be
    exposed (and needs none: the zygote imported our code before forking). A checkout in a mode-700
    `mktemp -d` folder would otherwise make the mount plan fail and the engine fall back to rlimits."""
    groups: dict[str, set[str]] = {}
    for path in paths:
        path = os.path.realpath(path)
        if not os.path.isdir(path) or path == hidden or path.startswith(hidden.rstrip("/") + "/"):
            continue
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            ancestor = "/" + "/".join(parts[:i])
            if ancestor != path and not os.stat(ancestor).st_mode & stat.S_IXOTH:
                groups.setdefault(ancestor, set()).add(path)
                break
    result = []
    for ancestor, members in sorted(groups.items()):
        kept = sorted(m for m in members if not any(m != o and m.startswith(o + "/") for o in members))
        result.append((ancestor, tuple(kept)))
    return tuple(result)


def prepare_root(plan: RootPlan) -> None:
    """Once per zygote, in its own private mount namespace: the read-only copy of / that every sample's
    mount namespace starts from (copying it per sample is cheaper than building it per sample)."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # The mount point lives on a tmpfs private to the zygote: nothing is created on the host, and the
    # host's /tmp stays invisible to samples (it is covered by their scratch tmpfs anyway).
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=64,mode=755")
    root = plan.new_root
    os.mkdir(root, 0o755)
    mount("/", root, None, MS_BIND | MS_REC)
    for ancestor, members in plan.exposed:
        mount("tmpfs", root + ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=256,mode=755")
        for member in members:
            os.makedirs(root + member, exist_ok=True)
            mount(member, root + member, None, MS_BIND | MS_REC)
    make_tree_readonly(root)


def enter_root(plan: RootPlan) -> None:
    """Once per zygote, after prepare_root: the zygote itself moves into the read-only tree; the host's
    tree is detached from its mount namespace (and so from every sample's copy of it)."""
    pivot_into(plan.new_root)


def build_root(plan: RootPlan, limits, files) -> None:
    """In the sample process (real root, inside its PID ns): a private copy of the zygote's read-only
    mount namespace with a fresh scratch tmpfs and /proc. A fresh IPC namespace too: SysV objects
    outlive processes and must not carry over to the next sample."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC)
    inodes = max(64, min(1 << 16, limits.max_file_bytes // 4096))
    mount("tmpfs", plan.scratch, "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={limits.max_file_bytes},nr_inodes={inodes},mode=700,uid={SANDBOX_UID},gid={SANDBOX_GID}")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    write_scratch_files(plan.scratch, files, owner=(SANDBOX_UID, SANDBOX_GID))
    os.chdir(plan.scratch)


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


def drop_to_sandbox_user(max_procs: int) -> None:
    """After build_root: uid 65534 in a fresh user namespace, no capabilities, RLIMIT_NPROC = max_procs.
    NPROC is checked per (user ns, uid) and, one level up, against the limit the namespace was created
    with: create it while NPROC is still the zygote's (unlimited for root), then lower it."""
    os.setgroups([])
    os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    prctl(PR_SET_DUMPABLE, 1)  # a uid change clears it, and /proc/self/*_map then belongs to root
    prctl(PR_SET_PDEATHSIG, 9)  # also cleared by the uid change; zygote gone -> sample gone
    unshare(CLONE_NEWUSER)
    write_file("/proc/self/setgroups", "deny")
    write_file("/proc/self/uid_map", f"{SANDBOX_UID} {SANDBOX_UID} 1")
    write_file("/proc/self/gid_map", f"{SANDBOX_GID} {SANDBOX_GID} 1")
    drop_capabilities()
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    resource.setrlimit(resource.RLIMIT_NPROC, (max_procs, max_procs))
    block_unix_sockets()


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def block_unix_sockets() -> None:
    """seccomp: socket(AF_UNIX, ...) fails with EACCES. The network namespace cuts IP and abstract unix
    sockets, but a read-only mount does not stop connect() to a host daemon's socket file (dbus, docker).
    socketpair() stays allowed. io_uring (which can open sockets past seccomp) and foreign syscall ABIs
    (i386, x32) are refused outright."""
    fprog = _SECCOMP_PROGRAM or _seccomp_program()
    _check(_c_prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(2), ctypes.byref(fprog), ctypes.c_ulong(0),
                    ctypes.c_ulong(0)), "prctl(PR_SET_SECCOMP)")


def _seccomp_program() -> _SockFprog:
    numbers = _SYSCALLS.get(_MACHINE)
    if numbers is None:
        raise SandboxError(38, f"seccomp filter: unknown architecture {_MACHINE}")
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    allow, errno = 0x7FFF0000, 0x00050000  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | errno
    program = [
        (ld, 0, 0, 4), (jeq, 1, 0, numbers["audit_arch"]), (ret, 0, 0, errno | 38),  # other ABI: ENOSYS
        (ld, 0, 0, 0), (jge, 0, 1, 0x40000000), (ret, 0, 0, errno | 38),  # x32 syscall numbers: ENOSYS
        (jeq, 0, 1, numbers["io_uring_setup"]), (ret, 0, 0, errno | 38),
        (jeq, 0, 3, numbers["socket"]), (ld, 0, 0, 16), (jeq, 0, 1, 1), (ret, 0, 0, errno | 13),  # AF_UNIX
        (ret, 0, 0, allow),
    ]
    filters = (_SockFilter * len(program))(*[_SockFilter(*insn) for insn in program])
    fprog = _SockFprog(len(program), filters)
    fprog.keep = filters  # the struct only points at the instructions
    return fprog


# Built once in the zygote (see _NUMBERS); None where the architecture is unknown (error raised per use).
_SECCOMP_PROGRAM = _seccomp_program() if _NUMBERS else None


def apply_rlimits(limits, base_vm_bytes: int, best_effort: bool = False) -> None:
    """Memory is counted on top of what the zygote already maps (numpy/pandas reserve a lot).
    best_effort (the fallback, e.g. macOS, which rejects some limits): skip what the OS refuses."""
    memory = base_vm_bytes + limits.memory_bytes
    settings = [
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1)),
        (resource.RLIMIT_FSIZE, limits.max_file_bytes),
        (resource.RLIMIT_NOFILE, limits.max_open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in settings:
        try:
            resource.setrlimit(which, value if isinstance(value, tuple) else (value, value))
        except (ValueError, OSError):
            if not best_effort:
                raise


def current_vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
