"""Packing a token stream into fixed-length rows, and writing rows to .npy shards.

A row holds L+1 tokens: inputs are row[:-1], targets row[1:]. Consecutive rows overlap by one token
(row r = stream[r*L : r*L + L + 1]), so every token after the first is a target exactly once. The
stream's tail that does not fill a row is dropped (and counted). A mask row (uint8, 1 = trained on) runs
alongside when the data has per-token loss masks; the loss mask of targets is mask_row[1:].
"""
from __future__ import annotations

import pathlib

import numpy as np

from jaxformer.fileio import atomic_path


class RowPacker:
    """Stateful cutter: feed stream pieces in order, get complete rows back."""

    def __init__(self, seq_len: int, with_mask: bool):
        self.seq_len = seq_len
        self.with_mask = with_mask
        self.tokens = np.zeros(0, np.int64)
        self.mask = np.zeros(0, np.uint8)
        self.rows_out = 0

    def add(self, tokens: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Append a stream piece; return the complete rows [n, L+1] (and mask rows) it made available."""
        L = self.seq_len
        self.tokens = np.concatenate([self.tokens, tokens])
        if self.with_mask:
            self.mask = np.concatenate([self.mask, mask])
        n_rows = max(0, (len(self.tokens) - 1) // L)
        index = np.arange(n_rows)[:, None] * L + np.arange(L + 1)[None, :]
        rows = self.tokens[index]
        mask_rows = self.mask[index] if self.with_mask else None
        self.tokens = self.tokens[n_rows * L:]  # keeps the overlap token
        self.mask = self.mask[n_rows * L:]
        self.rows_out += n_rows
        return rows, mask_rows

    def dropped_tokens(self) -> int:
        """Tail tokens that never became a target (the overlap token was one, unless no row was made)."""
        return len(self.tokens) - (1 if self.rows_out and len(self.tokens) else 0)


def save_npy_atomic(path: pathlib.Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)


class ShardWriter:
    """Buffers rows and writes `<prefix>-00000.npy` (+ `<prefix>-00000.mask.npy`) every rows_per_shard rows."""

    def __init__(self, directory: pathlib.Path, prefix: str, rows_per_shard: int, dtype, with_mask: bool):
        self.directory, self.prefix, self.rows_per_shard = directory, prefix, rows_per_shard
        self.dtype, self.with_mask = np.dtype(dtype), with_mask
        self.pending: list[tuple[np.ndarray, np.ndarray | None]] = []
        self.pending_rows = 0
        self.shards: list[dict] = []

    def add(self, rows: np.ndarray, mask_rows: np.ndarray | None) -> None:
        if len(rows):
            self.pending.append((rows, mask_rows))
            self.pending_rows += len(rows)
        while self.pending_rows >= self.rows_per_shard:
            self._flush(self.rows_per_shard)

    def close(self) -> list[dict]:
        if self.pending_rows:
            self._flush(self.pending_rows)
        return self.shards

    def _flush(self, n: int) -> None:
        rows = np.concatenate([r for r, _ in self.pending])
        name = f"{self.prefix}-{len(self.shards):05d}"
        entry = {"tokens": f"{name}.npy", "rows": n}
        save_npy_atomic(self.directory / entry["tokens"], rows[:n].astype(self.dtype))
        if self.with_mask:
            masks = np.concatenate([m for _, m in self.pending])
            entry["mask"] = f"{name}.mask.npy"
            save_npy_atomic(self.directory / entry["mask"], masks[:n].astype(np.uint8))
            self.pending = [(rows[n:], masks[n:])]
        else:
            self.pending = [(rows[n:], None)]
        self.pending_rows -= n
        self.shards.append(entry)
