"""A prepared dataset (see prepare.py), memory-mapped, whose shuffled example i is computable from i alone.

Global example i lives in epoch i // N (N rows) and is row permute(i % N, N, seed of (seed, epoch)): every
epoch is a fresh permutation, and resuming at step s needs only s. A step's global batch is examples
[s * B, (s + 1) * B); process p of P takes the contiguous slice p * B/P ... (p + 1) * B/P, the layout
`jax.make_array_from_process_local_data` expects for a batch axis sharded over processes in order.

    ds = open_dataset("data/python", seq_len=2048, seed=0)   # or a mixture: "data/a=0.7,data/b=0.3"
    b = ds.batch(step, global_batch=64, process_index=jax.process_index(), process_count=jax.process_count())
    b["tokens"], b["targets"]: int32 [64 / P, L];  b["loss_mask"]: float32 [64 / P, L] (1 = counts in the loss)
"""
from __future__ import annotations

import json
import pathlib

import numpy as np

from jaxformer.data.permutation import permute
from jaxformer.data.prepare import FORMAT_VERSION, INDEX

INDEX_FIELDS = ("format_version", "seq_len", "dtype", "vocab_size", "eos_id", "has_mask", "splits")


def read_index(path: str | pathlib.Path) -> dict:
    path = pathlib.Path(path)
    index_path = path / INDEX
    if not index_path.is_file():
        raise OSError(f"{path}: not a prepared dataset (no {INDEX}); run `jaxformer data prepare` first")
    try:
        index = json.loads(index_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{index_path}: not valid JSON ({err})") from err
    for field in INDEX_FIELDS:
        if field not in index:
            raise ValueError(f"{index_path}: missing field {field!r}")
    if index["format_version"] != FORMAT_VERSION:
        raise ValueError(f"{index_path}: format_version {index['format_version']}, expected {FORMAT_VERSION}")
    return index


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed << 32) + epoch  # distinct for every (seed, epoch) with epoch < 2**32


def process_indices(step: int, global_batch: int, process_index: int, process_count: int) -> np.ndarray:
    """Global example indices of this process's slice of step `step`'s batch."""
    if process_count < 1 or not 0 <= process_index < process_count:
        raise ValueError(f"process_index {process_index} out of range for process_count {process_count}")
    if global_batch % process_count:
        raise ValueError(f"global_batch {global_batch} is not divisible by process_count {process_count}")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    per_process = global_batch // process_count
    start = step * global_batch + process_index * per_process
    return np.arange(start, start + per_process, dtype=np.int64)


def assemble(rows: np.ndarray, masks: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of L+1 tokens -> inputs, shifted targets and the targets' loss mask."""
    return {"tokens": rows[:, :-1].astype(np.int32), "targets": rows[:, 1:].astype(np.int32),
            "loss_mask": masks[:, 1:].astype(np.float32)}


def batch(source, step: int, global_batch: int, process_index: int = 0, process_count: int = 1) -> dict:
    """This process's slice of the global batch at `step` from anything with .examples(indices)."""
    return assemble(*source.examples(process_indices(step, global_batch, process_index, process_count)))


class PreparedDataset:
    """Read-only view of one split of a prepared dataset directory."""

    def __init__(self, path: str | pathlib.Path, split: str = "train", seed: int = 0, shuffle: bool = True):
        self.path = pathlib.Path(path)
        self.index = read_index(self.path)
        if split not in self.index["splits"]:
            raise ValueError(f"{self.path}: no split {split!r}; has {sorted(self.index['splits'])}")
        info = self.index["splits"][split]
        if info["rows"] == 0:
            raise ValueError(f"{self.path}: split {split!r} is empty")
        self.split, self.seed, self.shuffle = split, seed, shuffle
        self.seq_len = int(self.index["seq_len"])
        self.tokens, self.masks = [], []
        for shard in info["shards"]:
            self.tokens.append(self._open(shard["tokens"], shard["rows"]))
            self.masks.append(self._open(shard["mask"], shard["rows"]) if self.index["has_mask"] else None)
        self.offsets = np.cumsum([0] + [len(t) for t in self.tokens])

    def _open(self, name: str, rows: int) -> np.ndarray:
        file = self.path / name
        if not file.is_file():
            raise OSError(f"{file}: shard listed in {self.path / INDEX} is missing")
        array = np.load(file, mmap_mode="r")
        if array.shape != (rows, self.seq_len + 1):
            raise ValueError(f"{file}: shape {array.shape}, index says ({rows}, {self.seq_len + 1})")
        return array

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, row_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Stored row (unshuffled); with __len__ this is the random-access source protocol Grain uses."""
        if not 0 <= row_id < len(self):
            raise IndexError(f"row {row_id} out of range for {len(self)} rows")
        tokens, masks = self.rows(np.array([row_id]))
        return tokens[0], masks[0]

    def rows(self, row_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored rows by position (no shuffling): tokens [n, L+1], mask [n, L+1] (ones if unmasked)."""
        row_ids = np.asarray(row_ids, np.int64)
        shard_ids = np.searchsorted(self.offsets, row_ids, side="right") - 1
        tokens = np.empty((len(row_ids), self.seq_len + 1), np.int64)
        masks = np.ones((len(row_ids), self.seq_len + 1), np.uint8)
        for k, (shard, row) in enumerate(zip(shard_ids, row_ids - self.offsets[shard_ids])):
            tokens[k] = self.tokens[shard][row]
            if self.masks[shard] is not None:
                masks[k] = self.masks[shard][row]
        return tokens, masks

    def row_ids(self, indices: np.ndarray) -> np.ndarray:
        """Global example indices -> stored row ids (epoch-wise permutation when shuffling)."""
        indices = np.asarray(indices, np.int64)
        if indices.size and indices.min() < 0:
            raise ValueError("example indices must be >= 0")
        n = len(self)
        epochs, within = np.divmod(indices, n)
        if not self.shuffle:
            return within
        out = np.empty_like(within)
        for epoch in np.unique(epochs):
            sel = epochs == epoch
            out[sel] = permute(within[sel], n, epoch_seed(self.seed, int(epoch)))
        return out

    def examples(self, indices) -> tuple[np.ndarray, np.ndarray]:
        return self.rows(self.row_ids(indices))

    def batch(self, step: int, global_batch: int, process_index: int = 0, process_count: int = 1) -> dict:
        return batch(self, step, global_batch, process_index, process_count)

    def num_batches(self, global_batch: int) -> int:
        """Whole batches in one pass over the split (for evaluating with shuffle=False)."""
        return len(self) // global_batch


def open_dataset(spec: str, seq_len: int | None = None, seed: int = 0, split: str = "train", shuffle: bool = True):
    """A prepared directory ("data/python") or a weighted mixture ("data/a=0.7,data/b=0.3", see mixture.py);
    checks the rows are `seq_len` long when given. Evaluate with split="val", shuffle=False."""
    if "=" in spec or "," in spec:
        from jaxformer.data.mixture import Mixture  # mixture builds on this module

        if not shuffle:
            raise ValueError(f"mixture {spec!r}: a mixture is always shuffled; evaluate one dataset at a time")
        ds = Mixture.from_spec(spec, split, seed)
    else:
        ds = PreparedDataset(spec, split, seed=seed, shuffle=shuffle)
    if seq_len is not None and ds.seq_len != seq_len:
        raise ValueError(f"{spec}: prepared with seq_len {ds.seq_len}, but seq_len {seq_len} was asked for")
    return ds
