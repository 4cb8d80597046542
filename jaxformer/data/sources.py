"""Where training text comes from: source files, JSONL files, or files the `datasets` library reads.

`resolve(specs)` turns paths, directories and globs into a sorted, de-duplicated list of files.
Directories are walked recursively for files with a known source suffix (SOURCE_SUFFIXES) or .jsonl;
hidden files and directories are skipped. Explicit files and glob matches are taken as given, so
.parquet/.json/.arrow files are read only when named (a repo's package.json is not a dataset).

`iter_records(path)` yields `(where, record)`: `where` is "file" or "file:line" for error messages,
`record` a dict. A source file is one record {"text": contents}; a .jsonl line is one record; .parquet,
.json and .arrow files are read with `datasets` (local files only, never the hub) when it is installed.
"""
from __future__ import annotations

import glob
import json
import os
import pathlib
from collections.abc import Iterable, Iterator

JSONL_SUFFIXES = (".jsonl",)
DATASETS_SUFFIXES = {".parquet": "parquet", ".json": "json", ".arrow": "arrow"}
SOURCE_SUFFIXES = (
    ".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".java", ".js", ".mjs", ".ts", ".tsx",
    ".go", ".rs", ".rb", ".php", ".cs", ".scala", ".kt", ".swift", ".sh", ".lua", ".pl", ".r", ".jl",
    ".html", ".css", ".sql", ".md", ".rst", ".txt", ".tex", ".toml", ".yaml", ".yml",
)


def _walk(directory: pathlib.Path) -> Iterator[pathlib.Path]:
    wanted = SOURCE_SUFFIXES + JSONL_SUFFIXES
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and name.lower().endswith(wanted):
                yield pathlib.Path(root, name)


def resolve(specs: Iterable[str | os.PathLike]) -> list[pathlib.Path]:
    """Files named by paths, directories and globs (`**` recurses), sorted; a spec matching nothing is an error."""
    found: set[pathlib.Path] = set()
    for spec in specs:
        spec = os.path.expanduser(str(spec))
        path = pathlib.Path(spec)
        if path.is_dir():
            matches = list(_walk(path))
        elif path.is_file():
            matches = [path]
        elif glob.has_magic(spec):
            matches = [pathlib.Path(p) for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        else:
            raise OSError(f"source not found: {spec}")
        if not matches:
            raise OSError(f"source {spec}: no files matched")
        found.update(m.resolve() for m in matches)
    return sorted(found)


class UndecodableFile(ValueError):
    """A source file that is not UTF-8 (`data prepare --skip-undecodable` skips these)."""


def read_text(path: pathlib.Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UndecodableFile(f"{path}: not UTF-8 text (byte {err.start}); remove it from the sources "
                              "or pass --skip-undecodable") from err


def iter_jsonl(path: pathlib.Path) -> Iterator[tuple[str, dict]]:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f"{path}:{lineno}"
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise ValueError(f"{where}: malformed JSON ({err})") from err
            if not isinstance(record, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
            yield where, record


def iter_datasets_file(path: pathlib.Path, builder: str) -> Iterator[tuple[str, dict]]:
    try:
        import datasets
    except ImportError as err:
        raise ValueError(f"{path}: reading {builder} files needs the `datasets` package "
                         f"(pip install datasets), or convert it to JSONL") from err
    table = datasets.load_dataset(builder, data_files=str(path), split="train")
    for row_number, record in enumerate(table):
        yield f"{path} row {row_number}", dict(record)


def iter_records(path: str | os.PathLike) -> Iterator[tuple[str, dict]]:
    """(where, record) pairs of one file, in file order."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from iter_jsonl(path)
    elif suffix in DATASETS_SUFFIXES:
        yield from iter_datasets_file(path, DATASETS_SUFFIXES[suffix])
    else:
        yield str(path), {"text": read_text(path)}


def iter_texts(paths: Iterable[pathlib.Path], field: str = "text") -> Iterator[str]:
    """The `field` string of every record of every file (for tokenizer training)."""
    for path in paths:
        for where, record in iter_records(path):
            value = record.get(field)
            if not isinstance(value, str):
                raise ValueError(f"{where}: field {field!r} missing or not a string")
            yield value
