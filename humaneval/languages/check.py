"""Check completions in one language on the engine: jobs out, (verdict, ExecResult) back.

Verdicts: the engine's (passed, failed, timeout, out_of_memory, crashed, harness_error) plus
compile_error, taken from the launcher's exception type (launcher.ERROR_VERDICTS).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from humaneval.engine import Engine, ExecResult, Limits
from humaneval.languages.base import Language
from humaneval.languages.launcher import ERROR_VERDICTS

LANGUAGE_VERDICTS = ("passed", "failed", "compile_error", "timeout", "out_of_memory", "crashed", "harness_error")


def language_verdict(result: ExecResult) -> str:
    if result.verdict == "failed" and result.error_type in ERROR_VERDICTS:
        return ERROR_VERDICTS[result.error_type]
    return result.verdict


def check_items(language: Language, items: Iterable[tuple[str, dict, str]], engine: Engine,
                timeout_s: float = 3.0) -> Iterator[tuple[str, ExecResult]]:
    """items: (key, problem, completion). Yields (verdict, result) in completion order, key in result.key.
    Languages with a batch compiler (Java) compile many samples per sandbox first (batch.py)."""
    jobs = language.jobs(list(items), engine, timeout_s)
    for result in engine.run(jobs.values()):
        yield language_verdict(result), result


def read_only_paths() -> tuple[str, ...]:
    """What the sandbox must see besides its default view: the trusted toolchain cache (toolcache)."""
    from humaneval.languages.toolcache import cache_root
    return (str(cache_root()),)


def open_engine(workers: int | None = None, sandbox: str = "namespaces") -> Engine:
    # No numpy/pandas preload: compiled-language samples never import them, and the zygote stays small
    # (the sample's address-space cap is the zygote's mapped size plus Limits.memory_bytes).
    # the sandbox's filesystem allowlist hides everything else, so the trusted toolchain caches are added
    return Engine(workers=workers, preload=(), sandbox=sandbox, limits=Limits(read_only_paths=read_only_paths()))
