"""The one execution engine for model-written code: sandboxed, pre-forked, deterministic verdicts.

    from humaneval.engine import Engine, Job, Limits, ExecResult
    with Engine(workers=None, preload=("numpy",)) as engine:
        for result in engine.run(jobs):
            ...
"""
from humaneval.engine.limits import Job, Limits
from humaneval.engine.pool import Engine
from humaneval.engine.verdicts import VERDICTS, ExecResult

__all__ = ["Engine", "Job", "Limits", "ExecResult", "VERDICTS"]
