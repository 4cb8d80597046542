"""ExecResult and the one function that turns what the zygote observed into a verdict.

The verdict never comes from stdout: `report` is the message the driver wrote on its private pipe (after
checking the per-run nonce), or None when the program never got that far.
"""
from __future__ import annotations

import signal as signal_module
from dataclasses import dataclass

VERDICTS = ("passed", "failed", "timeout", "out_of_memory", "crashed", "harness_error")
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class ExecResult:
    key: str
    verdict: str
    error_type: str | None = None
    error_message: str | None = None
    observed: object = None  # tagged value from values.encode_value (capture="last_print"), else None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0  # total produced, including what was dropped past the cap
    stderr_bytes: int = 0
    exit_code: int | None = None
    signal: int | None = None
    sandbox: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"ExecResult {self.key!r}: unknown verdict {self.verdict!r}")

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def to_dict(self) -> dict:
        return dict(self.__dict__)  # the fields, shallow: asdict deep-copies (~30 us vs <1 us here)

    @classmethod
    def from_dict(cls, row: dict) -> "ExecResult":
        return cls(**row)


def truncate(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more chars]"


def classify(report: dict | None, timed_out: bool, exit_code: int | None, signal: int | None,
             cpu_s: float, cpu_limit_s: int) -> tuple[str, str | None, str | None]:
    """(verdict, error_type, error_message) from the observations of one run."""
    if report is not None and report.get("status") == "setup_error":
        return "harness_error", "SandboxSetupError", truncate(report.get("message"))
    if report is not None and report.get("status") == "ok":
        return "passed", None, None
    if report is not None and report.get("status") == "oom":
        return "out_of_memory", report.get("error_type") or "MemoryError", truncate(report.get("message"))
    if report is not None and report.get("status") == "exception":
        return "failed", report.get("error_type"), truncate(report.get("message"))
    if timed_out:
        return "timeout", "WallTimeout", "wall-clock limit reached; the whole process tree was killed"
    # RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL one second later if the program survives it.
    if signal == signal_module.SIGXCPU or (signal == signal_module.SIGKILL and cpu_s >= cpu_limit_s):
        return "timeout", "CPUTimeLimit", f"CPU-time limit of {cpu_limit_s} s reached"
    if signal is not None:
        name = signal_module.Signals(signal).name if signal in signal_module.Signals._value2member_map_ else str(signal)
        return "crashed", name, f"killed by signal {name} before finishing"
    # No report and a plain exit: os._exit(), a closed result channel, or a dead interpreter.
    return "failed", "EarlyExit", f"process exited with code {exit_code} before the program finished"
