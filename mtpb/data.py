"""MTPB problems: find the file, load and validate it, render a problem's prompts for one test case.

Each line of mtpb.jsonl is one problem: id, name, description, category, prompts (str.format templates,
one per turn), inputs (5 dicts), outputs (5 gold values), optional max_gen_length (default 256, as
reference mtpb_sample.py). Loading checks every problem and names the line, problem id and field of the
first thing that is wrong, so a broken file fails before anything runs.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import string
import urllib.request
from dataclasses import dataclass
from typing import Any

from humaneval.data import parse_jsonl
from jaxformer.fileio import write_text_atomic

N_TEST_CASES = 5
DEFAULT_MAX_GEN_LENGTH = 256  # reference sample_completions(max_gen_length=256) for problems without one
ENV_VAR = "MTPB_PATH"
UPSTREAM_URL = "https://raw.githubusercontent.com/salesforce/CodeGen/main/codegen1/benchmark/mtpb.jsonl"
DOWNLOAD_TIMEOUT_S = 10.0
TEXT_FIELDS = ("name", "description", "category")
# Prompts of problems 38 and 46 read CSV files that upstream never shipped ("./datasets/melb_data.csv").
DATASET_FILE = re.compile(r"(?:\./)?(datasets/[\w.\-]+)")


@dataclass(frozen=True)
class Problem:
    id: str
    name: str
    description: str
    category: str
    prompts: tuple[str, ...]
    inputs: tuple[dict, ...]
    outputs: tuple[Any, ...]  # aligned with inputs
    max_gen_length: int
    line: int
    notes: tuple[str, ...] = ()  # tolerated dataset oddities found while loading

    def render(self, case: int) -> list[str]:
        """The prompts filled in with test case `case`'s inputs (reference: p.format(**input))."""
        return render_prompts(self.prompts, self.inputs[case])

    @property
    def dataset_files(self) -> tuple[str, ...]:
        """Relative paths (under the program's cwd) of data files the prompts tell the program to read."""
        found = []
        for prompt in self.prompts:
            for path in DATASET_FILE.findall(prompt):
                if path not in found:
                    found.append(path)
        return tuple(found)


def render_prompts(prompts, inputs: dict) -> list[str]:
    return [prompt.format(**inputs) for prompt in prompts]


def placeholders(template: str) -> set[str]:
    """Names a str.format template needs ("{{" escapes are not placeholders; "{a[0]}" needs "a")."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    return names


def case_key(inputs: Any) -> str:
    """Canonical text of a test-case input dict, so 1, 1.0 and True stay distinct when matching rows."""
    return json.dumps(inputs, sort_keys=True, ensure_ascii=False)


def _problem_from_json(obj: Any, where: str, line: int) -> Problem:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "id" not in obj:
        raise ValueError(f"{where}: missing field 'id'")
    if not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
        raise ValueError(f"{where}: field 'id' must be a string or integer")
    pid = str(obj["id"])
    at = f"{where}: problem {pid}"
    for field in (*TEXT_FIELDS, "prompts", "inputs", "outputs"):
        if field not in obj:
            raise ValueError(f"{at}: missing field '{field}'")
    for field in TEXT_FIELDS:
        if not isinstance(obj[field], str):
            raise ValueError(f"{at}: field '{field}' must be a string")

    prompts = obj["prompts"]
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise ValueError(f"{at}: field 'prompts' must be a non-empty list of strings")
    needed = set()
    for turn, prompt in enumerate(prompts):
        try:
            names = placeholders(prompt)
        except ValueError as err:
            raise ValueError(f"{at}: field 'prompts[{turn}]' is not a valid format template ({err})") from err
        if any(name == "" or name.isdigit() for name in names):
            raise ValueError(f"{at}: field 'prompts[{turn}]' has a positional placeholder; use named ones")
        needed |= names

    inputs, outputs = obj["inputs"], obj["outputs"]
    if not isinstance(inputs, list) or len(inputs) != N_TEST_CASES:
        raise ValueError(f"{at}: field 'inputs' must be a list of {N_TEST_CASES} dicts")
    # Upstream problem 57 lists 6 outputs for 5 inputs; reference mtpb_sample.py zips them, so the
    # surplus is dropped. Fewer outputs than inputs is an error.
    if not isinstance(outputs, list) or len(outputs) < N_TEST_CASES:
        raise ValueError(f"{at}: field 'outputs' must be a list of {N_TEST_CASES} gold values")
    notes = []
    if len(outputs) > N_TEST_CASES:
        notes.append(f"{len(outputs) - N_TEST_CASES} surplus output(s) dropped, as reference zip(inputs, outputs)")
    for case, inp in enumerate(inputs):
        if not isinstance(inp, dict):
            raise ValueError(f"{at}: field 'inputs[{case}]' must be a dict")
        missing = sorted(needed - set(inp))
        if missing:
            raise ValueError(f"{at}: field 'inputs[{case}]' lacks key(s) {missing} used by the prompts")
        extra = sorted(set(inp) - needed)
        if extra:  # upstream problem 57 case 4 carries an unused "B"; str.format ignores it
            notes.append(f"inputs[{case}] has key(s) {extra} no prompt uses")
        try:
            render_prompts(prompts, inp)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
            raise ValueError(f"{at}: field 'prompts' cannot be filled with inputs[{case}] ({err!r})") from err

    max_gen = obj.get("max_gen_length", DEFAULT_MAX_GEN_LENGTH)
    if not isinstance(max_gen, int) or isinstance(max_gen, bool) or max_gen < 1:
        raise ValueError(f"{at}: field 'max_gen_length' must be a positive integer")
    return Problem(
        id=pid, name=obj["name"], description=obj["description"], category=obj["category"],
        prompts=tuple(prompts), inputs=tuple(inputs), outputs=tuple(outputs[:N_TEST_CASES]),
        max_gen_length=max_gen, line=line, notes=tuple(notes))


def parse(text: str, source: str = "mtpb.jsonl") -> dict[str, Problem]:
    """Problems by id, in file order; raises ValueError naming the line, problem id and field."""
    problems: dict[str, Problem] = {}
    for number, obj in parse_jsonl(text.splitlines(), source):
        where = f"{source} line {number}"
        problem = _problem_from_json(obj, where, number)
        if problem.id in problems:
            raise ValueError(f"{where}: problem {problem.id}: duplicate id (first on line "
                             f"{problems[problem.id].line})")
        problems[problem.id] = problem
    if not problems:
        raise ValueError(f"{source}: no problems found")
    return problems


def load(path: str | os.PathLike) -> dict[str, Problem]:
    path = pathlib.Path(path)
    return parse(path.read_text(encoding="utf-8"), source=str(path))


def cache_path() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "codelm" / "mtpb" / "mtpb.jsonl"


def download(url: str, dest: pathlib.Path, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> bool:
    """Best effort: fetch url, check it parses as MTPB, then move it onto dest. False on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            text = response.read().decode("utf-8")
        parse(text, source=url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(dest, text)
        return True
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def resolve_path(explicit: str | os.PathLike | None = None, allow_download: bool = True) -> pathlib.Path:
    """--problems PATH, else $MTPB_PATH, else the cache (filled from upstream when online)."""
    for given, origin in ((explicit, "--problems"), (os.environ.get(ENV_VAR), f"${ENV_VAR}")):
        if given:
            path = pathlib.Path(given)
            if not path.is_file():
                raise FileNotFoundError(f"{origin}: MTPB problems file not found: {path}")
            return path
    cached = cache_path()
    if cached.is_file():
        return cached
    if allow_download and download(UPSTREAM_URL, cached):
        return cached
    raise FileNotFoundError(
        f"MTPB problems file not found: no --problems, no ${ENV_VAR}, nothing at {cached}, and "
        f"downloading {UPSTREAM_URL} failed. Pass --problems PATH, set {ENV_VAR}=PATH, or put mtpb.jsonl "
        f"at {cached}.")
