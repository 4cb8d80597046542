"""What every language runner provides: its data file, its toolchain, the prompt the model completes,
and the engine Job that checks one completion."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from humaneval.engine import Job, Limits
from humaneval.languages.launcher import Step, job_timeout, launcher_program

SANDBOX_TASKS = 128  # processes + threads: javac/JVM and the Go linker start a few dozen
SCRATCH_BYTES = 256 << 20  # the scratch tmpfs: sources, objects, binaries


class ToolchainMissing(OSError):
    """A compiler is not installed: reported per language with its install command, never as failures."""


@dataclass(frozen=True)
class Toolchain:
    executables: tuple[str, ...]
    install: str = "bash scripts/setup_toolchains.sh"

    def missing(self) -> list[str]:
        return [exe for exe in self.executables if not (os.path.isabs(exe) and os.access(exe, os.X_OK))
                and shutil.which(exe) is None]

    def check(self, language: str) -> None:
        missing = self.missing()
        if missing:
            raise ToolchainMissing(f"{language}: toolchain not installed ({', '.join(missing)} not found); "
                                   f"install it with: {self.install}")


class Language:
    """One HumanEval-X language. Subclasses set the class attributes and implement steps()."""
    name = ""
    data_file = ""  # under shared/data/humaneval-x/
    toolchain = Toolchain(())
    compile_timeout_s = 20.0

    def prepare(self) -> None:
        """Check the toolchain and build the trusted caches (once per process, outside the sandbox)."""
        self.toolchain.check(self.name)

    def problem_file(self, root) -> "os.PathLike":
        """This language's problems under shared/data/humaneval-x (TS and C derive theirs: derived.py)."""
        return root / self.data_file

    def model_prompt(self, problem: dict) -> str:
        return problem["prompt"]

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        raise NotImplementedError

    def steps(self, problem: dict, completion: str, timeout_s: float) -> list[Step]:
        raise NotImplementedError

    def jobs(self, items, engine, timeout_s: float) -> dict[str, Job]:
        """{key: job} for (key, problem, completion) items; batching languages (Java) compile on `engine` here."""
        return {key: self.job(key, problem, completion, timeout_s) for key, problem, completion in items}

    def job(self, key: str, problem: dict, completion: str, timeout_s: float) -> Job:
        steps = self.steps(problem, completion, timeout_s)
        files = tuple((name, text.encode()) for name, text in self.files(problem, completion).items())
        return Job(key, launcher_program(steps), sandbox_limits(job_timeout(steps)), files=files)


def sandbox_limits(timeout_s: float, output_bytes: int = 1 << 20) -> Limits:
    # The launcher's children get their own tighter limits (launcher.Step); these bound the whole job.
    return Limits(timeout_s=timeout_s, memory_bytes=6 << 30, max_procs=SANDBOX_TASKS, max_file_bytes=SCRATCH_BYTES,
                  max_output_bytes=output_bytes)


def compile_step(argv, compile_timeout_s: float, **kwargs) -> Step:
    kwargs.setdefault("output_bytes", 64 << 20)  # objects and binaries (a Rust test binary is ~1 MB)
    return Step(tuple(argv), "compile", compile_timeout_s, **kwargs)


def run_step(argv, timeout_s: float, **kwargs) -> Step:
    return Step(tuple(argv), "run", timeout_s, **kwargs)
