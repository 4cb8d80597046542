"""Problem files derived from HumanEval-X at run time (TypeScript from JS, C from C++), never stored in the repo.

The translator runs on the shared data files and its output goes to the trusted toolchain cache
(toolcache.cached_dir), in a directory named after a hash of the translator's source and the input files'
contents: `problems.jsonl` (what `humaneval evaluate --language ts|c` reads) and `excluded.json`
({source task id: reason} for the problems the translation cannot cover).
"""
from __future__ import annotations

import inspect
import json
import pathlib

from humaneval.data import load_problems
from humaneval.languages import toolcache
from humaneval.results import file_sha256

REQUIRED = ("task_id", "prompt", "test")


def derived_dir(name: str, root: pathlib.Path, inputs: tuple[str, ...], translate, modules) -> pathlib.Path:
    """The cache dir holding name's problems.jsonl + excluded.json; translate(*problem dicts) -> (rows, excluded)."""
    paths = [pathlib.Path(root) / file for file in inputs]
    for path in paths:
        if not path.is_file():
            raise OSError(f"{path}: HumanEval-X problems not found (needed to derive {name}); "
                          f"set CODELM_SHARED_DATA or pass --problems FILE")
    recipe = "\n".join([name, *(f"{p.name} {file_sha256(p)}" for p in paths),
                        *(inspect.getsource(module) for module in modules)])

    def build(tmp: pathlib.Path) -> None:
        rows, excluded = translate(*(load_problems(path, required=REQUIRED) for path in paths))
        (tmp / "problems.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        (tmp / "excluded.json").write_text(json.dumps(excluded, indent=1) + "\n")
    return toolcache.cached_dir(f"derived-{name}", recipe, build)


def excluded(directory: pathlib.Path) -> dict[str, str]:
    return json.loads((directory / "excluded.json").read_text())
