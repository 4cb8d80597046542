"""The HumanEval run directory (written by `humaneval generate`, read by `humaneval evaluate/report`).

    RUN/run.json                          model, fingerprint, settings, problems, toolkit, machine, stages
    RUN/samples_t{T}.jsonl                one file per temperature, T exactly as the user wrote it
    RUN/samples_greedy.jsonl              --greedy (temperature 0, one sample per problem)
    RUN/samples_t{T}.part{i}-of-{P}.jsonl multi-host: process i of P wrote the rows whose global index
                                          is i mod P, in order

A file's rows are in global order: problem order of the problems file, then sample_index. The
label of a samples file is "t{T}" or "greedy"; `load_run_samples` merges part files back into that
order. Other files in RUN (results, `.partial` logs, reports) are not samples files.
"""
from __future__ import annotations

import json
import os
import pathlib
import re

from humaneval.data import read_jsonl
from humaneval.results import write_text_atomic
from jaxformer.fileio import parse_json_object

RUN_JSON = "run.json"
GREEDY = "greedy"
_SAMPLES = re.compile(r"^samples_(greedy|t[^_/]+?)(?:\.part(\d+)-of-(\d+))?\.jsonl$")


def temperature_label(temperature: str) -> str:
    """The label for a temperature written as the user wrote it: "0.2" -> "t0.2"."""
    return f"t{temperature}"


def samples_path(run_dir: str | os.PathLike, label: str, part: tuple[int, int] | None = None) -> pathlib.Path:
    """RUN/samples_{label}.jsonl, or the part file of process part[0] of part[1] (None or (0, 1): whole file)."""
    if part is None or part[1] == 1:
        return pathlib.Path(run_dir) / f"samples_{label}.jsonl"
    index, count = part
    if not 0 <= index < count:
        raise ValueError(f"part {index} of {count} is out of range")
    return pathlib.Path(run_dir) / f"samples_{label}.part{index}-of-{count}.jsonl"


def read_run(run_dir: str | os.PathLike) -> dict:
    """RUN/run.json as a dict; a clear error when it is missing or not a JSON object."""
    path = pathlib.Path(run_dir) / RUN_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a HumanEval run directory (no {RUN_JSON}; "
                                f"`humaneval generate --out {run_dir}` writes one)")
    info = parse_json_object(path.read_bytes(), path)
    if info is None:
        raise ValueError(f"{path}: empty file")
    return info


def write_run_json(run_dir: str | os.PathLike, info: dict) -> pathlib.Path:
    """Write RUN/run.json atomically (temp file + rename); returns its path."""
    path = pathlib.Path(run_dir) / RUN_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(info, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    return path


def samples_files(run_dir: str | os.PathLike) -> dict[str, list[pathlib.Path]]:
    """{label: [its file]} or {label: [part 0, ..., part P-1]}, labels sorted ("greedy", "t0.2", ...).

    Mixing a whole file with parts, parts of different P, or a missing part is an error naming the files.
    """
    found: dict[str, dict[int | None, tuple[int, pathlib.Path]]] = {}
    for path in sorted(pathlib.Path(run_dir).iterdir()):
        match = _SAMPLES.match(path.name)
        if not match or not path.is_file():
            continue
        label, index, count = match.group(1), match.group(2), match.group(3)
        key = None if index is None else int(index)
        found.setdefault(label, {})[key] = (1 if count is None else int(count), path)
    out: dict[str, list[pathlib.Path]] = {}
    for label, entries in sorted(found.items()):
        if None in entries:
            if len(entries) > 1:
                raise ValueError(f"{run_dir}: samples_{label}.jsonl and part files of it are both present; "
                                 f"remove one: {sorted(p.name for _, p in entries.values())}")
            out[label] = [entries[None][1]]
            continue
        counts = {count for count, _ in entries.values()}
        if len(counts) != 1:
            raise ValueError(f"{run_dir}: part files of {label} from runs with different process counts "
                             f"{sorted(counts)}")
        count = counts.pop()
        missing = [i for i in range(count) if i not in entries]
        if missing:
            names = ", ".join(samples_path(run_dir, label, (i, count)).name for i in missing)
            raise ValueError(f"{run_dir}: {label} is incomplete, missing part file(s) {names}")
        out[label] = [entries[i][1] for i in range(count)]
    return out


def merge_parts(parts: list[list[dict]]) -> list[dict]:
    """Interleave part rows back into global order: global row g is row g // P of part g % P."""
    count = len(parts)
    first = len(parts[0])
    for i, rows in enumerate(parts):
        # part i holds rows i, i + P, ...: each part has as many rows as part 0 or one fewer, never more
        # than the part before it
        if len(rows) not in (first, first - 1) or (i and len(rows) > len(parts[i - 1])):
            raise ValueError(f"part {i} of {count} has {len(rows)} rows but part 0 has {first} "
                             f"(was a part file cut short?)")
    total = sum(len(rows) for rows in parts)
    return [parts[g % count][g // count] for g in range(total)]


def load_run_samples(run_dir: str | os.PathLike, label: str) -> list[dict]:
    """Every sample row of one label, in global order (part files merged)."""
    files = samples_files(run_dir)
    if label not in files:
        known = ", ".join(files) or "none"
        raise KeyError(f"{run_dir}: no samples file for {label!r} (found: {known})")
    parts = [[row for _, row in read_jsonl(path)] for path in files[label]]
    return parts[0] if len(parts) == 1 else merge_parts(parts)
