"""Linux isolation primitives, via ctypes (Python 3.11 has no os.unshare), and the sample's identity.

Two ways in (see zygote.py for the whole layout):
  - real root (uid 0 of the initial user namespace with CAP_SYS_ADMIN: CI, developers' machines): the
    zygote creates its namespaces directly; each sample drops to kernel uid 65534 in a fresh user
    namespace (drop_to_sandbox_user). A non-root kernel uid makes RLIMIT_NPROC bite (root ignores it) and
    leaves root-owned files alone; the fresh user namespace makes that process count per sample instead of
    shared by every sandbox on the machine running as 65534.
  - anyone else (an ordinary user, root in a rootless container): the zygote first enters a user
    namespace of its own (enter_user_namespace: setgroups denied, a single-entry map of the caller's own
    uid/gid to 0, so no newuidmap and no subordinate ranges), then creates the rest under it. Each sample
    gets a nested user namespace mapping uid/gid 65534 onto that single id (enter_sample_user_namespace):
    the same kernel uid as the caller, so the filesystem allowlist (rootfs.py), the seccomp filter and
    the PID namespace are what keep it from the caller's files and processes; RLIMIT_NPROC, counted per
    user namespace since Linux 5.14, caps its processes.
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource

from humaneval.engine import seccomp

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
AT_RECURSIVE = 0x8000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 38
_SYSCALLS = {"x86_64": {"pivot_root": 155, "capset": 126, "mount_setattr": 442},  # ones glibc may not wrap
             "aarch64": {"pivot_root": 41, "capset": 91, "mount_setattr": 442}}
CAP_SYS_ADMIN = 21
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


def drop_to_sandbox_user(max_procs: int) -> None:
    """Real-root mode, after build_root: uid 65534 in a fresh user namespace, no capabilities,
    RLIMIT_NPROC = max_procs. NPROC is checked per (user ns, uid) and, one level up, against the limit the
    namespace was created with: create it while NPROC is still the zygote's (unlimited for root), then lower it."""
    os.setgroups([])
    os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    prctl(PR_SET_DUMPABLE, 1)  # a uid change clears it, and /proc/self/*_map then belongs to root
    prctl(PR_SET_PDEATHSIG, 9)  # also cleared by the uid change; zygote gone -> sample gone
    unshare(CLONE_NEWUSER)
    write_id_maps(SANDBOX_UID, SANDBOX_UID, SANDBOX_GID, SANDBOX_GID)
    _lock_down(max_procs)


def enter_sample_user_namespace(max_procs: int) -> None:
    """User-ns mode, after build_root: a nested user namespace whose only uid/gid, 65534, maps onto the
    zygote's single id; no capabilities, RLIMIT_NPROC = max_procs (same ordering as above)."""
    prctl(PR_SET_DUMPABLE, 1)  # the zygote is non-dumpable: /proc/self/*_map would belong to root
    prctl(PR_SET_PDEATHSIG, 9)
    unshare(CLONE_NEWUSER)
    write_id_maps(SANDBOX_UID, 0, SANDBOX_GID, 0)
    os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    _lock_down(max_procs)


def _lock_down(max_procs: int) -> None:
    drop_capabilities()
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    resource.setrlimit(resource.RLIMIT_NPROC, (max_procs, max_procs))
    if _SAMPLE_FILTER is None:
        raise SandboxError(38, f"seccomp filter: unknown architecture {_MACHINE}")
    seccomp.install(_SAMPLE_FILTER)


def write_id_maps(inside_uid: int, outside_uid: int, inside_gid: int, outside_gid: int) -> None:
    """Single-entry maps, setgroups denied first (required before an unprivileged gid_map write)."""
    write_file("/proc/self/setgroups", "deny")
    write_file("/proc/self/uid_map", f"{inside_uid} {outside_uid} 1")
    write_file("/proc/self/gid_map", f"{inside_gid} {outside_gid} 1")


def enter_user_namespace() -> None:
    """User-ns mode, once per zygote: become uid/gid 0 of a new user namespace that maps only the caller's ids."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    write_id_maps(0, uid, 0, gid)


def real_root() -> bool:
    """uid 0 of the initial user namespace, with CAP_SYS_ADMIN: the privileged path applies."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            if f.read().split() != ["0", "0", "4294967295"]:
                return False
        with open("/proc/self/status") as f:
            caps = next(line.split()[1] for line in f if line.startswith("CapEff:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caps, 16) >> CAP_SYS_ADMIN & 1)


# Built once in the zygote (see _NUMBERS); None where the architecture is unknown (error raised per use).
_SAMPLE_FILTER = seccomp.sample_filter()


def apply_rlimits(limits, base_vm_bytes: int, best_effort: bool = False) -> None:
    """Memory is counted on top of what the zygote already maps (numpy/pandas reserve a lot).
    best_effort (sandbox "none", e.g. macOS, which rejects some limits): skip what the OS refuses."""
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


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if os.name == "posix" else 4096


def open_statm() -> int | None:
    """An fd on /proc/self/statm, opened before the zygote leaves the host's /proc behind."""
    try:
        return os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        return None


def current_vm_bytes(statm_fd: int | None) -> int:
    if statm_fd is None:
        return 0
    try:
        return int(os.pread(statm_fd, 256, 0).split()[0]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0
