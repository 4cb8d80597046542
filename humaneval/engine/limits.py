"""What a sample may use (Limits) and what to run (Job). Plain frozen dataclasses, validated on creation."""
from __future__ import annotations

import base64
import math
import os
from dataclasses import asdict, dataclass, field

CAPTURES = ("none", "last_print")


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 3.0  # wall clock, enforced by the zygote with SIGKILL of the whole tree
    cpu_s: float | None = None  # RLIMIT_CPU; None = ceil(timeout_s) + 1, a backstop if the zygote dies
    memory_bytes: int = 4 << 30  # address space on top of what the zygote already maps
    max_procs: int = 64  # tasks (processes + threads) in the sample's tree
    max_file_bytes: int = 64 << 20  # largest file, and the size of the scratch tmpfs
    max_open_files: int = 256
    max_output_bytes: int = 1 << 20  # kept per stream; the rest is counted and dropped
    # Extra paths samples may read (e.g. a datasets directory, a compiler toolchain), on top of the
    # allowlist in rootfs.py. Absolute; the zygotes' filesystem is built from the Engine's limits.
    read_only_paths: tuple[str, ...] = ()

    def __post_init__(self):
        if isinstance(self.read_only_paths, list):  # the JSON wire form
            object.__setattr__(self, "read_only_paths", tuple(self.read_only_paths))
        check_read_only_paths(self.read_only_paths)
        if not (self.timeout_s > 0 and math.isfinite(self.timeout_s)):
            raise ValueError(f"Limits.timeout_s must be a positive number of seconds, got {self.timeout_s!r}")
        if self.cpu_s is not None and not (self.cpu_s > 0 and math.isfinite(self.cpu_s)):
            raise ValueError(f"Limits.cpu_s must be None or a positive number, got {self.cpu_s!r}")
        for name in ("memory_bytes", "max_procs", "max_file_bytes", "max_open_files", "max_output_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")
        if self.max_open_files < 16:
            raise ValueError(f"Limits.max_open_files must be >= 16 (the interpreter needs a few), got {self.max_open_files}")

    def to_dict(self) -> dict:
        """JSON-ready (read_only_paths as a list): the wire form, and what fingerprints hold."""
        return {**asdict(self), "read_only_paths": list(self.read_only_paths)}

    @property
    def cpu_seconds(self) -> int:
        """The RLIMIT_CPU value actually applied (whole seconds, rounded up)."""
        return math.ceil(self.cpu_s) if self.cpu_s is not None else math.ceil(self.timeout_s) + 1


@dataclass(frozen=True)
class Job:
    key: str
    program: str
    limits: Limits | None = None
    capture: str = "none"  # "last_print": record the first argument of the last print() call
    files: tuple[tuple[str, bytes], ...] = field(default=())  # written into the scratch dir (the cwd)

    def __post_init__(self):
        if not isinstance(self.key, str):
            raise ValueError(f"Job.key must be a str, got {type(self.key).__name__}")
        if not isinstance(self.program, str):
            raise ValueError(f"Job {self.key!r}: program must be a str, got {type(self.program).__name__}")
        if self.capture not in CAPTURES:
            raise ValueError(f"Job {self.key!r}: capture must be one of {CAPTURES}, got {self.capture!r}")
        if self.limits is not None and not isinstance(self.limits, Limits):
            raise ValueError(f"Job {self.key!r}: limits must be a Limits or None")
        for entry in self.files:
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], (bytes, bytearray))):
                raise ValueError(f"Job {self.key!r}: files entries must be (name, bytes) pairs, got {entry!r:.80}")
            check_file_name(self.key, entry[0])


def check_read_only_paths(paths) -> None:
    if not isinstance(paths, tuple):
        raise ValueError(f"Limits.read_only_paths must be a tuple of absolute paths, got {paths!r}")
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
            raise ValueError(f"Limits.read_only_paths: {path!r} is not an absolute path")
        normal = os.path.normpath(path)
        if normal == "/":
            raise ValueError("Limits.read_only_paths: '/' would show samples the whole filesystem")
        if normal == "/tmp" or normal.startswith("/tmp/"):
            raise ValueError(f"Limits.read_only_paths: {path!r} is under /tmp, which every sample's scratch "
                             "tmpfs covers; move it elsewhere (e.g. /var/tmp)")


def check_file_name(key: str, name) -> None:
    """Scratch file names are plain relative paths that stay inside the scratch dir."""
    parts = name.split("/") if isinstance(name, str) else None
    if not parts or name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in name:
        raise ValueError(f"Job {key!r}: file name {name!r} must be a relative path inside the scratch dir")


def job_to_wire(job: Job, default: Limits) -> dict:
    """The JSON form sent to a zygote (bytes as base64)."""
    return {
        "key": job.key,
        "program": job.program,
        "limits": (job.limits or default).to_dict(),
        "capture": job.capture,
        "files": [[name, base64.b64encode(bytes(data)).decode("ascii")] for name, data in job.files],
    }


def job_from_wire(wire: dict) -> Job:
    files = tuple((name, base64.b64decode(data)) for name, data in wire["files"])
    return Job(wire["key"], wire["program"], Limits(**wire["limits"]), wire["capture"], files)
