"""HumanEval-X: per-language runners on the shared engine (see docs/humaneval-x.md).

    from humaneval.languages import get_language
    language = get_language("cpp"); language.prepare(); job = language.job(key, problem, completion, 3.0)
"""
from __future__ import annotations

from humaneval.languages import c, cpp, go, java, js, python, rust, ts
from humaneval.languages.base import Language, ToolchainMissing

LANGUAGES: dict[str, Language] = {module.LANGUAGE.name: module.LANGUAGE for module in (python, js, cpp, java, go, rust, ts, c)}


def get_language(name: str) -> Language:
    if name not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}; choose one of {', '.join(LANGUAGES)}")
    return LANGUAGES[name]


__all__ = ["LANGUAGES", "Language", "ToolchainMissing", "get_language"]
