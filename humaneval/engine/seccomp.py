"""seccomp-BPF filters, built with ctypes: the sample's filter, and one that mimics a locked-down container.

sample_filter() (installed last in every sandboxed sample, after no_new_privs):
  - socket(AF_UNIX, ...) -> EACCES: the network namespace cuts IP and abstract sockets, but a read-only
    mount does not stop connect() to a daemon's socket file (dbus, docker). socketpair() stays allowed;
  - ptrace, process_vm_readv/writev, unshare, setns, bpf, the whole mount family and the kernel keyring
    calls -> EPERM: in the unprivileged mode the sample shares a kernel uid with the harness and the
    caller, so these are the ways to reach them;
  - clone() with any CLONE_NEW* flag -> EPERM, clone3 -> ENOSYS (glibc then falls back to clone(), whose
    flags a filter can see), io_uring (which can open sockets past seccomp) and foreign syscall ABIs
    (i386, x32) -> ENOSYS.
deny_namespaces_filter(): what Docker's default profile does to a process without CAP_SYS_ADMIN
(unshare, setns, clone with CLONE_NEW* -> EPERM, clone3 -> ENOSYS). `python -m humaneval.engine.seccomp
CMD...` runs CMD under it: a way to see (and test) what the engine does where namespaces are unavailable.
"""
from __future__ import annotations

import ctypes
import os
import platform
import sys

NUMBERS = {  # syscall numbers the filters name, plus the audit architecture
    "x86_64": {"audit_arch": 0xC000003E, "socket": 41, "clone": 56, "ptrace": 101, "pivot_root": 155,
               "mount": 165, "umount2": 166, "unshare": 272, "setns": 308, "process_vm_readv": 310,
               "process_vm_writev": 311, "bpf": 321, "io_uring_setup": 425, "open_tree": 428, "move_mount": 429,
               "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435, "mount_setattr": 442,
               "add_key": 248, "request_key": 249, "keyctl": 250},
    "aarch64": {"audit_arch": 0xC00000B7, "socket": 198, "clone": 220, "ptrace": 117, "pivot_root": 41,
                "mount": 40, "umount2": 39, "unshare": 97, "setns": 268, "process_vm_readv": 270,
                "process_vm_writev": 271, "bpf": 280, "io_uring_setup": 425, "open_tree": 428, "move_mount": 429,
                "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435, "mount_setattr": 442,
                "add_key": 217, "request_key": 218, "keyctl": 219},
}
CLONE_NEW_FLAGS = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
EPERM, EACCES, ENOSYS = 1, 13, 38
DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "bpf", "mount", "umount2",
          "pivot_root", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
          "add_key", "request_key", "keyctl")
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, JMP|JSET|K, RET|K
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | errno
_ARCH, _NR, _ARG0 = 4, 0, 16  # offsets in struct seccomp_data (arg0's low 32 bits: little-endian)


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def program(numbers: dict, errno_for: dict, arg0_rules: dict) -> list[tuple[int, int, int, int]]:
    """Instructions: other ABIs -> ENOSYS; syscall in errno_for -> that errno; syscall in arg0_rules
    (name -> (test, value, errno), test "mask": any bit of value set, "eq": arg0 == value) -> errno if the
    test holds, else allowed; everything else allowed."""
    insns = [(_LD, 0, 0, _ARCH), (_JEQ, 1, 0, numbers["audit_arch"]), (_RET, 0, 0, _ERRNO | ENOSYS),
             (_LD, 0, 0, _NR), (_JGE, 0, 1, 0x40000000), (_RET, 0, 0, _ERRNO | ENOSYS)]  # x32 numbers
    for name, errno in errno_for.items():
        insns += [(_JEQ, 0, 1, numbers[name]), (_RET, 0, 0, _ERRNO | errno)]
    for name, (test, value, errno) in arg0_rules.items():
        jump = _JSET if test == "mask" else _JEQ
        # The accumulator only changes on the matching path, which always returns.
        insns += [(_JEQ, 0, 4, numbers[name]), (_LD, 0, 0, _ARG0), (jump, 0, 1, value),
                  (_RET, 0, 0, _ERRNO | errno), (_RET, 0, 0, _ALLOW)]
    return insns + [(_RET, 0, 0, _ALLOW)]


def compile_program(insns) -> SockFprog:
    filters = (SockFilter * len(insns))(*[SockFilter(*insn) for insn in insns])
    fprog = SockFprog(len(insns), filters)
    fprog.keep = filters  # the struct only points at the instructions
    return fprog


def sample_filter(machine: str | None = None) -> SockFprog | None:
    """The sample's filter; None where the architecture is unknown (the sandbox then refuses)."""
    numbers = NUMBERS.get(machine or platform.machine())
    if numbers is None:
        return None
    errno_for = {name: EPERM for name in DENIED}
    errno_for.update(io_uring_setup=ENOSYS, clone3=ENOSYS)
    return compile_program(program(numbers, errno_for, {"clone": ("mask", CLONE_NEW_FLAGS, EPERM),
                                                        "socket": ("eq", 1, EACCES)}))  # 1 = AF_UNIX


def deny_namespaces_filter(machine: str | None = None) -> SockFprog:
    numbers = NUMBERS[machine or platform.machine()]
    return compile_program(program(numbers, {"unshare": EPERM, "setns": EPERM, "clone3": ENOSYS},
                                   {"clone": ("mask", CLONE_NEW_FLAGS, EPERM)}))


_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None
_c_prctl = getattr(_libc, "prctl", None)


def install(fprog: SockFprog, no_new_privs: bool = False) -> None:
    """Load the filter into this thread (inherited by every later child). Raises OSError on failure."""
    if no_new_privs:
        _prctl(PR_SET_NO_NEW_PRIVS, 1, 0)
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


def _prctl(option: int, arg: int, ptr: int) -> None:
    if _c_prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(ptr), ctypes.c_ulong(0), ctypes.c_ulong(0)) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) for the seccomp filter: {os.strerror(err)}")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m humaneval.engine.seccomp CMD [ARG...]\n"
              "Run CMD with unshare/setns/clone(CLONE_NEW*) failing with EPERM and clone3 with ENOSYS, as in a\n"
              "container under Docker's default seccomp profile.", file=sys.stderr)
        return 2
    install(deny_namespaces_filter(), no_new_privs=True)
    os.execvp(argv[0], argv)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
