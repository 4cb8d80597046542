"""The one results log: JSONL, one row per sample, appended as each sample finishes.

A run writes `<out>.partial` while it works: a header line naming the run (its fingerprint), then one
complete line per finished sample, each carrying its input position as "_index". Rerunning the same
command reads the partial file back, drops a torn last line (kill -9 mid-write), and evaluates only what
is missing. When every row is in, the rows are written in input order to a temp file that is renamed
onto `<out>`, so the final file is never half-written.
"""
from __future__ import annotations

import hashlib
import os
import pathlib

from jaxformer.fileio import (complete_lines, jsonl_line, parse_json_object, write_jsonl_atomic,  # noqa: F401
                              write_text_atomic)

INDEX = "_index"


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ResultLog:
    """Resumable append-only log for one evaluation run (see module docstring)."""

    def __init__(self, out_path: str | os.PathLike, fingerprint: dict):
        self.out_path = pathlib.Path(out_path)
        self.partial_path = self.out_path.with_name(self.out_path.name + ".partial")
        self.fingerprint = fingerprint
        self.done: dict[int, dict] = {}
        self._file = None

    def __enter__(self) -> "ResultLog":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        if self.partial_path.exists():
            self._load()
            self._file = open(self.partial_path, "a", encoding="utf-8")
        else:
            self.partial_path.parent.mkdir(parents=True, exist_ok=True)  # e.g. mtpb generate --out new/dir/f.jsonl
            self._file = open(self.partial_path, "w", encoding="utf-8")
            self._write_line({"_header": self.fingerprint})

    def _load(self) -> None:
        raw = self.partial_path.read_bytes()
        complete = complete_lines(raw)  # a torn last line is dropped and rewritten
        if len(complete) != len(raw):
            with open(self.partial_path, "r+b") as f:
                f.truncate(len(complete))
        lines = complete.splitlines()
        if not lines:
            with open(self.partial_path, "w", encoding="utf-8") as f:
                f.write(jsonl_line({"_header": self.fingerprint}))
            return
        where = f"{self.partial_path} line"
        header = (parse_json_object(lines[0], f"{where} 1") or {}).get("_header")
        if header != self.fingerprint:
            raise ValueError(
                f"{self.partial_path}: an unfinished run with different inputs or settings is here "
                f"(found {header}, expected {self.fingerprint}); delete it to start over")
        for number, line in enumerate(lines[1:], start=2):
            try:
                row = parse_json_object(line, f"{where} {number}")
                self.done[int(row[INDEX])] = row
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(f"{where} {number}: corrupt result row ({err})") from err

    def _write_line(self, obj: dict) -> None:
        # One write call per complete line, flushed at once, so a kill leaves at most one torn line.
        self._file.write(jsonl_line(obj))
        self._file.flush()

    def append(self, index: int, row: dict) -> None:
        row = {**row, INDEX: index}
        self.done[index] = row
        self._write_line(row)

    def finalize(self, total: int) -> list[dict]:
        """Write the ordered final file and remove the partial one; every index 0..total-1 must be done."""
        missing = [i for i in range(total) if i not in self.done]
        if missing:
            raise RuntimeError(f"cannot finalize {self.out_path}: {len(missing)} rows missing, first {missing[:5]}")
        rows = [{k: v for k, v in self.done[i].items() if k != INDEX} for i in range(total)]
        write_jsonl_atomic(self.out_path, rows)
        self.close()
        self.partial_path.unlink()
        return rows

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
