"""Fail closed: the error (and exit code) when the sandbox cannot be set up, with what to do about it.

Raised by Engine.start() before any sample runs. Every evaluator CLI turns it into EXIT_CODE and prints
str(error) on stderr: the failing step and errno, the likely cause, how to enable isolation, and the
explicit opt-out.
"""
from __future__ import annotations

import errno as errno_names
import os

EXIT_CODE = 4  # distinct from 1 (bad input / crash), 2 (usage) and 3 (harness errors in some rows)
OPT_OUT = ("To run WITHOUT isolation (model-written code can then read, change and delete whatever your\n"
           "user can, and reach the network), pass --sandbox none (Engine(sandbox=\"none\")).")
ENABLE = (
    "How to enable isolation:\n"
    "  - Debian/Ubuntu kernels: sysctl -w kernel.unprivileged_userns_clone=1\n"
    "  - Ubuntu 23.10+ (AppArmor): sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor\n"
    "    profile that allows `userns` for this interpreter\n"
    "  - any kernel: user.max_user_namespaces must be > 0 (sysctl -w user.max_user_namespaces=15000)\n"
    "  - in a container: give it a user namespace of its own (podman, rootless Docker, a Docker daemon with\n"
    "    userns-remap) or drop the default seccomp profile (docker run --security-opt seccomp=unconfined),\n"
    "    or let it create namespaces (--cap-add SYS_ADMIN)")


class SandboxUnavailable(RuntimeError):
    """The namespace sandbox could not be set up; nothing was run."""

    def __init__(self, step: str, errno: int | None, detail: str = ""):
        self.step, self.errno, self.detail = step, errno, detail
        super().__init__(message(step, errno, detail))


def message(step: str, errno: int | None, detail: str = "") -> str:
    code = (f"errno {errno} ({errno_names.errorcode.get(errno, '?')}: {os.strerror(errno)})"
            if errno else "no errno")
    lines = [
        "humaneval.engine: the sandbox could not be set up, so NO sample was run.",
        f"Failing step: {step}: {code}" + (f" -- {detail}" if detail else ""),
        "Likely cause: " + likely_cause(step, errno),
        ENABLE,
        OPT_OUT,
    ]
    return "\n".join(lines)


def likely_cause(step: str, errno: int | None) -> str:
    if "user namespace" in step and errno == errno_names.ENOSPC:
        return "user namespaces are limited to 0 here (user.max_user_namespaces), or their limit is used up."
    if "user namespace" in step and errno in (errno_names.EPERM, errno_names.EACCES):
        return ("unprivileged user namespaces are disabled or blocked (kernel.unprivileged_userns_clone=0, "
                "an AppArmor restriction, or a container's seccomp profile).")
    if errno == errno_names.ENOSYS:
        return "the kernel lacks this feature, or a seccomp profile hides the system call."
    if errno in (errno_names.EPERM, errno_names.EACCES):
        return ("this process may not create namespaces: a container's seccomp profile or missing "
                "capabilities (Docker's default profile refuses unshare/clone with namespace flags).")
    if "process cap" in step:
        return ("neither RLIMIT_NPROC nor a pids cgroup limits the sample's processes (RLIMIT_NPROC does not "
                "apply to kernel uid 0, e.g. `unshare -r` run by real root, and no pids cgroup is writable).")
    if "platform" in step:
        return "Linux namespaces exist only on Linux."
    return "the kernel or container refused part of the set-up (see the step above)."
