"""`jaxformer data prepare`: sources -> tokenized, packed, memory-mappable shards + index.json.

Pipeline:
  1. Resolve the sources to a sorted file list and cut it into work units of ~8 MB (contiguous small
     files, or byte ranges of a big JSONL file).
  2. Tokenize the units in a process pool. Each document becomes its tokens followed by EOS (plus a
     loss mask for the SFT formats) and goes to the validation split when a seeded hash of its text falls
     below --val-fraction (deterministic, independent of file order and worker count; exact duplicates
     land in the same split). Each unit is saved as `pieces/<unit>.npz`.
  3. Pack each split's stream, in unit order, into rows of L+1 tokens (see pack.py), written as .npy
     shards of uint16 (vocab <= 65536) or uint32, with uint8 `.mask.npy` shards for masked formats.
  4. Write index.json and rename `<out>.partial/` to `<out>/`.

Interrupted runs: everything is written under `<out>.partial/` first, so `<out>` is either complete or
absent. A rerun with the same settings and unchanged source files keeps the finished units and redoes
the rest; with different settings it starts over. A complete `<out>` with the same settings is left as is.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import pathlib
import shutil

import numpy as np
from tqdm import tqdm

from jaxformer.data import formats, sources
from jaxformer.data.pack import RowPacker, ShardWriter
from jaxformer.fileio import atomic_path

INDEX = "index.json"
FORMAT_VERSION = 1
SPLITS = ("train", "val")


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    sources: tuple[str, ...]
    out: str
    seq_len: int
    tokenizer: str = "codegen"
    fmt: str = "text"                # see formats.FORMATS
    text_field: str = "text"         # JSONL field read by the "text" format
    val_fraction: float = 0.0
    seed: int = 0                    # seeds the validation-split hash
    workers: int = 1
    rows_per_shard: int = 8192
    unit_bytes: int = 8 << 20        # size of one unit of work handed to a worker
    skip_undecodable: bool = False   # skip (and list in the index) source files that are not UTF-8
    exclude: tuple[str, ...] = ()    # fnmatch patterns on absolute paths, e.g. "*/site-packages/*"

    def __post_init__(self):
        if not self.sources:
            raise ValueError("no sources given")
        if self.seq_len < 1:
            raise ValueError(f"seq_len must be positive, got {self.seq_len}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.fmt not in formats.FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}; expected one of {formats.FORMATS}")
        if self.workers < 1 or self.rows_per_shard < 1 or self.unit_bytes < 1:
            raise ValueError("workers, rows_per_shard and unit_bytes must be positive")


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.uint32)


def work_units(files: list[pathlib.Path], unit_bytes: int) -> list[list[tuple[str, int, int | None]]]:
    """Units of (file, start byte, end byte or None) parts, ~unit_bytes each, in file order. Small files
    are grouped; a JSONL file bigger than unit_bytes is cut into byte ranges (sources.iter_jsonl)."""
    units, current, size = [], [], 0
    for f in files:
        n = f.stat().st_size
        if sources.splittable(f) and n > unit_bytes:
            units += [[(str(f), start, min(start + unit_bytes, n))] for start in range(0, n, unit_bytes)]
            continue
        if current and size + n > unit_bytes:
            units.append(current)
            current, size = [], 0
        current.append((str(f), 0, None))
        size += n
    return units + [current] if current else units


def fingerprint(cfg: PrepareConfig, files: list[pathlib.Path], tok) -> dict:
    """What the output depends on: settings, the tokenizer's content, each source file's path, size and
    mtime (hashed, so the index stays small for millions of files)."""
    skip = ("sources", "out", "workers", "exclude")  # sources and exclude count through the file list
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in skip}
    name = cfg.tokenizer if cfg.tokenizer in ("codegen", "gpt2") else str(pathlib.Path(cfg.tokenizer).resolve())
    files_digest = hashlib.sha256()
    for f in files:
        stat = f.stat()
        files_digest.update(f"{f}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return {**settings, "tokenizer": name, "vocab_size": len(tok),
            "tokenizer_sha256": hashlib.sha256(tok.backend_tokenizer.to_str().encode()).hexdigest(),
            "n_files": len(files), "files_sha256": files_digest.hexdigest()}


def in_validation(text: str, seed: int, fraction: float) -> bool:
    if fraction <= 0:
        return False
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8, key=str(seed).encode())
    return int.from_bytes(digest.digest(), "little") / 2.0 ** 64 < fraction


# This process's (tokenizers.Tokenizer, eos id). Workers get the parent's tokenizer as its JSON, so they
# need not import transformers or rebuild it, and provably use the tokenizer the fingerprint hashed.
_worker_tokenizer = None


def _init_worker(tokenizer_json: str, eos_id: int) -> None:
    global _worker_tokenizer
    from tokenizers import Tokenizer

    _worker_tokenizer = (Tokenizer.from_str(tokenizer_json), eos_id)


def tokenize_unit(cfg: PrepareConfig, parts: list[tuple[str, int, int | None]], backend, eos_id: int) -> dict[str, np.ndarray]:
    """One unit's arrays: per split, "<split>_tokens" (each document + EOS), "<split>_mask" (1 = trained
    on) and "<split>_documents"; "skipped": undecodable files skipped. `backend` is a tokenizers.Tokenizer."""
    documents, skipped = [], []  # documents: (split, [(text, trained)])
    for path, start, end in parts:
        try:
            records = list(sources.iter_records(path, start, end))
        except sources.UndecodableFile:
            if not cfg.skip_undecodable:
                raise
            skipped.append(path)
            continue
        for where, record in records:
            segs = formats.segments(record, cfg.fmt, where, cfg.text_field)
            val = in_validation("".join(text for text, _ in segs), cfg.seed, cfg.val_fraction)
            documents.append(("val" if val else "train", segs))
    # one batched call into the Rust tokenizer for the whole unit
    encoded = iter(backend.encode_batch([t for _, segs in documents for t, _ in segs],
                                                      add_special_tokens=False))
    tokens = {s: [np.zeros(0, np.int64)] for s in SPLITS}
    masks = {s: [np.zeros(0, np.uint8)] for s in SPLITS}
    for split, segs in documents:
        for _, trained in segs:
            ids = next(encoded).ids
            tokens[split].append(np.asarray(ids, np.int64))
            masks[split].append(np.full(len(ids), trained, np.uint8))
        tokens[split].append(np.array([eos_id], np.int64))
        masks[split].append(np.ones(1, np.uint8))  # EOS is trained on: the model learns to stop
    arrays = {"skipped": np.array(skipped, dtype=str)}
    for s in SPLITS:
        arrays[f"{s}_tokens"] = np.concatenate(tokens[s])
        arrays[f"{s}_mask"] = np.concatenate(masks[s])
        arrays[f"{s}_documents"] = np.array(sum(split == s for split, _ in documents))
    return arrays


def _tokenize_job(job: tuple[PrepareConfig, int, list, str, str]) -> int:
    cfg, unit, parts, piece_dir, dtype = job
    arrays = tokenize_unit(cfg, parts, *_worker_tokenizer)
    for s in SPLITS:
        arrays[f"{s}_tokens"] = arrays[f"{s}_tokens"].astype(dtype)
    path = pathlib.Path(piece_dir) / f"{unit:06d}.npz"
    with atomic_path(path) as tmp, open(tmp, "wb") as f:  # a piece is either complete or absent
        np.savez(f, **arrays)
    return unit


def run_tokenize(cfg: PrepareConfig, units: list[list], piece_dir: pathlib.Path, tok, dtype) -> None:
    global _worker_tokenizer
    todo = [u for u in range(len(units)) if not (piece_dir / f"{u:06d}.npz").exists()]
    jobs = [(cfg, u, units[u], str(piece_dir), dtype.name) for u in todo]
    bar = tqdm(total=len(units), initial=len(units) - len(todo), desc="tokenize", unit="unit")
    with bar:
        if cfg.workers == 1 or len(jobs) <= 1:
            _worker_tokenizer = (tok.backend_tokenizer, tok.eos_token_id)
            for job in jobs:
                _tokenize_job(job)
                bar.update()
            return
        # spawn, not fork: the parent may hold JAX or tokenizer threads, and forking those can deadlock
        context = multiprocessing.get_context("spawn")
        init_args = (tok.backend_tokenizer.to_str(), tok.eos_token_id)
        with context.Pool(min(cfg.workers, len(jobs)), _init_worker, init_args) as pool:
            for _ in pool.imap_unordered(_tokenize_job, jobs):  # order is restored by unit number
                bar.update()


def run_pack(cfg: PrepareConfig, n_units: int, piece_dir: pathlib.Path, work: pathlib.Path, dtype) -> dict:
    with_mask = cfg.fmt != "text"
    packers = {s: RowPacker(cfg.seq_len, with_mask) for s in SPLITS}
    writers = {s: ShardWriter(work, s, cfg.rows_per_shard, dtype, with_mask) for s in SPLITS}
    stats = {s: {"documents": 0, "tokens": 0, "trained_tokens": 0} for s in SPLITS}
    skipped = []
    for unit in tqdm(range(n_units), desc="pack", unit="unit"):
        with np.load(piece_dir / f"{unit:06d}.npz") as piece:
            skipped += piece["skipped"].tolist()
            for s in SPLITS:
                tokens, mask = piece[f"{s}_tokens"], piece[f"{s}_mask"]
                writers[s].add(*packers[s].add(tokens, mask if with_mask else None))
                stats[s]["documents"] += int(piece[f"{s}_documents"])
                stats[s]["tokens"] += len(tokens)
                stats[s]["trained_tokens"] += int(mask.sum())
    splits = {}
    for s in SPLITS:
        shards = writers[s].close()
        splits[s] = {**stats[s], "rows": sum(sh["rows"] for sh in shards),
                     "dropped_tokens": packers[s].dropped_tokens(), "shards": shards}
    return splits, skipped


def prepare(cfg: PrepareConfig, overwrite: bool = False) -> dict:
    """Run the pipeline (module docstring); returns the index."""
    from jaxformer import tokenizer

    files = sources.resolve(cfg.sources, cfg.exclude)
    tok = tokenizer.load(cfg.tokenizer)
    vocab_size, dtype = len(tok), token_dtype(len(tok))
    fp = fingerprint(cfg, files, tok)
    out = pathlib.Path(cfg.out)
    if (out / INDEX).exists():
        index = json.loads((out / INDEX).read_text())
        if index.get("fingerprint") == fp:
            return index  # already prepared from the same inputs
        if not overwrite:
            raise OSError(f"{out}: already holds a prepared dataset from other inputs or settings; "
                          "pass --overwrite to replace it")
    elif out.exists() and any(out.iterdir()) and not overwrite:
        raise OSError(f"{out}: exists and is not a prepared dataset; choose another --out or pass --overwrite")

    work = out.with_name(out.name + ".partial")
    if work.exists():
        try:
            same = json.loads((work / "fingerprint.json").read_text()) == fp
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(work)  # an unfinished run of something else: start over
    piece_dir = work / "pieces"
    piece_dir.mkdir(parents=True, exist_ok=True)
    (work / "fingerprint.json").write_text(json.dumps(fp))

    units = work_units(files, cfg.unit_bytes)
    run_tokenize(cfg, units, piece_dir, tok, dtype)
    splits, skipped = run_pack(cfg, len(units), piece_dir, work, dtype)
    if splits["train"]["rows"] == 0:
        raise ValueError(f"sources give {splits['train']['tokens']} training tokens, fewer than one row of "
                         f"{cfg.seq_len + 1}; lower --seq-len or add data")
    index = {"format_version": FORMAT_VERSION, "seq_len": cfg.seq_len, "row_len": cfg.seq_len + 1,
             "dtype": dtype.name, "vocab_size": vocab_size, "eos_id": tok.eos_token_id,
             "tokenizer": fp["tokenizer"], "format": cfg.fmt, "has_mask": cfg.fmt != "text",
             "val_fraction": cfg.val_fraction, "seed": cfg.seed, "splits": splits,
             "skipped_files": skipped, "fingerprint": fp}
    (work / INDEX).write_text(json.dumps(index, indent=1))
    shutil.rmtree(piece_dir)
    os.remove(work / "fingerprint.json")
    if out.exists():
        shutil.rmtree(out)
    os.replace(work, out)
    return index
