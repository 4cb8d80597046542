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

import dataclasses
import fnmatch
import glob
import os
import pathlib
from collections.abc import Iterable, Iterator

from jaxformer.fileio import parse_json_object

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


def resolve(specs: Iterable[str | os.PathLike], exclude: Iterable[str] = ()) -> list[pathlib.Path]:
    """Files named by paths, directories and globs (`**` recurses), sorted; a spec matching nothing is an
    error. Files whose absolute path matches an `exclude` fnmatch pattern (e.g. "*/site-packages/*") are
    left out; a pattern that excludes nothing is an error (most likely a typo)."""
    exclude = tuple(exclude)
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
    for pattern in exclude:
        dropped = {f for f in found if fnmatch.fnmatchcase(str(f), pattern)}
        if not dropped:
            raise ValueError(f"exclude pattern {pattern!r} matched none of the {len(found)} source files")
        found -= dropped
    if not found:
        raise OSError("every source file was excluded")
    return sorted(found)


class UndecodableFile(ValueError):
    """A source file that is not UTF-8 (`data prepare --skip-undecodable` skips these)."""


def read_text(path: pathlib.Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UndecodableFile(f"{path}: not UTF-8 text (byte {err.start}); remove it from the sources "
                              "or pass --skip-undecodable") from err


@dataclasses.dataclass(frozen=True)
class LineRef:
    """Names a JSONL line in errors as "file:line". A worker reading a byte range deep inside a big file
    knows only the line's byte offset; the line number is counted when (and only when) it is printed."""
    path: pathlib.Path
    offset: int

    def __str__(self) -> str:
        return f"{self.path}:{count_lines(self.path, self.offset) + 1}"


def count_lines(path: pathlib.Path, offset: int) -> int:
    """Newlines in the first `offset` bytes of path."""
    count, left = 0, offset
    with open(path, "rb") as f:
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count


def iter_jsonl(path: pathlib.Path, start: int = 0, end: int | None = None) -> Iterator[tuple[LineRef, dict]]:
    """Records of the lines that start in bytes [start, end) (the whole file by default), so byte ranges
    cut anywhere split a big file into disjoint parts that workers can read independently."""
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            if f.read(1) != b"\n":
                f.readline()  # the line straddling `start` belongs to the previous range
        offset = f.tell()
        while end is None or offset < end:
            raw = f.readline()
            if not raw:
                break
            where = LineRef(path, offset)
            offset += len(raw)
            record = parse_json_object(raw, where)
            if record is None:
                continue
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


def splittable(path: pathlib.Path) -> bool:
    """Whether iter_records can read the file in byte ranges (JSONL only)."""
    return path.suffix.lower() in JSONL_SUFFIXES


def iter_records(path: str | os.PathLike, start: int = 0, end: int | None = None) -> Iterator[tuple[object, dict]]:
    """(where, record) pairs of one file (or, for JSONL, of the lines starting in bytes [start, end)), in
    file order. `where` names the record in error messages when formatted with str()."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from iter_jsonl(path, start, end)
        return
    if start or end is not None:
        raise ValueError(f"{path}: only JSONL files can be read in byte ranges")
    if suffix in DATASETS_SUFFIXES:
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
