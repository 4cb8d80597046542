"""The one execution engine for model-written code: sandboxed, pre-forked, deterministic verdicts.

    from humaneval.engine import Engine, Job, Limits, ExecResult
    with Engine(workers=None, preload=("numpy",)) as engine:
        for result in engine.run(jobs):
            ...
"""
from humaneval.engine.limits import Job, Limits
from humaneval.engine.pool import MODES as SANDBOX_MODES
from humaneval.engine.pool import Engine
from humaneval.engine.unavailable import EXIT_CODE as SANDBOX_UNAVAILABLE_EXIT_CODE
from humaneval.engine.unavailable import SandboxUnavailable
from humaneval.engine.verdicts import VERDICTS, ExecResult

__all__ = ["Engine", "Job", "Limits", "ExecResult", "VERDICTS", "SandboxUnavailable", "SANDBOX_MODES",
           "SANDBOX_UNAVAILABLE_EXIT_CODE"]
