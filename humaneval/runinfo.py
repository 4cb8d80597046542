"""What every report states about how it was made: the machine, the toolkit version, stage wall times."""
from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import time


def toolkit_version() -> str:
    try:
        return importlib.metadata.version("codelm-toolkit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def machine_info(with_jax: bool = False) -> dict:
    """Host facts (JSON-able). with_jax adds the JAX version, backend and device count (imports jax)."""
    info = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "toolkit": toolkit_version(),
    }
    if with_jax:
        import jax

        info.update({"jax": jax.__version__, "backend": jax.default_backend(), "devices": jax.device_count()})
    return info


def describe_machine(info: dict) -> str:
    """One line for a report header."""
    mem = f", {info['memory_gib']} GiB" if info.get("memory_gib") else ""
    backend = f", jax {info['jax']} on {info['devices']} {info['backend']} device(s)" if "jax" in info else ""
    return f"{info['cpu']} ({info['cpu_count']} cores{mem}), Python {info['python']}{backend}"


class StageTimer:
    """Wall time per named stage, in the order first entered: `with timer.stage("generate"): ...`.
    A stage entered twice (e.g. on resume within one process) accumulates."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}
