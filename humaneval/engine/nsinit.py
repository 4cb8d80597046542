"""The init (pid 1) of each sample's PID namespace: a 160-byte static x86-64 program, `cat` elsewhere.

pid 1 only has to exist: the zygote SIGKILLs it to end the sample (the kernel then kills every process
in the namespace), and it must exit by itself if the zygote dies. It first makes itself non-dumpable
(in the user-namespace mode it runs under the sample's kernel uid; its capabilities in the zygote's user
namespace already keep the sample from tracing it, this is a second lock). Like `cat` on the zygote's lifeline
pipe, it reads stdin until EOF and exits. Being static, its exec costs a fraction of `cat`'s, which
spends ~0.5 ms per sample in the dynamic loader. The whole program, with its assembly:
"""
from __future__ import annotations

import os
import platform
import shutil
import struct

CODE_X86_64 = bytes.fromhex(
    "bf04000000"      # mov edi, 4          PR_SET_DUMPABLE
    "31f6"            # xor esi, esi        0: no ptrace or /proc/1/mem by a same-uid sample
    "b89d000000"      # mov eax, 157        syscall 157 = prctl
    "0f05"            # syscall
    "31c0"            # xor eax, eax        syscall 0 = read
    "31ff"            # xor edi, edi        fd 0: the lifeline
    "488d7424f8"      # lea rsi, [rsp-8]    a 1-byte buffer below the stack pointer
    "ba01000000"      # mov edx, 1
    "0f05"            # syscall
    "4885c0"          # test rax, rax
    "7feb"            # jg -21              read again while bytes arrive
    "b83c000000"      # mov eax, 60         EOF or error: exit(0)
    "31ff"            # xor edi, edi
    "0f05"            # syscall
)
BASE = 0x400000


def elf_x86_64() -> bytes:
    """One PT_LOAD segment (R+X) holding headers and code; entry right after the headers."""
    size = 64 + 56 + len(CODE_X86_64)
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, BASE + 64 + 56, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)
    return header + segment + CODE_X86_64


def install(directory: str) -> str | None:
    """Write the static init into directory (the zygote's private tmpfs); None to use `cat` instead."""
    if platform.machine() != "x86_64" or os.environ.get("HUMANEVAL_ENGINE_CAT_INIT"):
        return shutil.which("cat", path="/usr/bin:/bin")
    path = os.path.join(directory, "humaneval-init")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o500)
    try:
        os.write(fd, elf_x86_64())
    finally:
        os.close(fd)
    return path
