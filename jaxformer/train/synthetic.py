"""A deterministic toy dataset with the jaxformer.data batch interface, for tests and benchmarks.

Row r of the whole stream is an arithmetic progression mod vocab (learnable, so loss falls) seeded by
(seed, split, r) alone: any process split and any resume point see the same rows.
"""
from __future__ import annotations

import numpy as np

_SPLITS = {"train": 0, "eval": 1}


class SyntheticDataset:
    def __init__(self, vocab_size: int, seq_len: int, seed: int = 0, split: str = "train", mask_rate: float = 0.1):
        self.vocab_size, self.seq_len, self.seed, self.mask_rate = vocab_size, seq_len, seed, mask_rate
        self.split_id = _SPLITS[split]

    def row(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng((self.seed, self.split_id, index))
        start, stride = rng.integers(0, self.vocab_size), rng.integers(1, 8)
        seq = (start + stride * np.arange(self.seq_len + 1)) % self.vocab_size
        mask = rng.random(self.seq_len) >= self.mask_rate
        mask[0] = False  # the first target is unpredictable
        return seq[:-1].astype(np.int32), seq[1:].astype(np.int32), mask

    def batch(self, step: int, global_batch: int, process_index: int = 0, process_count: int = 1) -> dict:
        if global_batch % process_count:
            raise ValueError(f"global batch {global_batch} not divisible by process count {process_count}")
        local = global_batch // process_count
        first = step * global_batch + process_index * local
        rows = [self.row(first + i) for i in range(local)]
        return {"tokens": np.stack([r[0] for r in rows]), "targets": np.stack([r[1] for r in rows]),
                "loss_mask": np.stack([r[2] for r in rows])}
