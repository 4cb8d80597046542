"""A weighted mixture of prepared datasets, addressable by global example index.

The global order is cut into blocks of `block` examples. Weights become integer counts per block
(largest remainder, so a block holds exactly counts[k] examples of dataset k), and each block arranges
that multiset in its own seeded random order. Example i is then the r-th pick of dataset k in its block,
i.e. dataset k's own (shuffled, epoch-wrapping) example block * counts[k] + r: computable from i alone.

    mix = Mixture.from_spec("data/python=0.7,data/nl=0.3", seed=0)
    mix.batch(step, global_batch, process_index, process_count)   # same contract as PreparedDataset.batch
    dataset.open_dataset("data/python=0.7,data/nl=0.3")  # the same, from the one entry point
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from jaxformer.data import dataset
from jaxformer.data.permutation import permute


def block_counts(weights: Sequence[float], block: int) -> np.ndarray:
    """Integer counts summing to `block`, proportional to weights (largest remainder), each >= 1."""
    exact = np.asarray(weights, np.float64) / np.sum(weights) * block
    counts = np.floor(exact).astype(np.int64)
    by_remainder = np.argsort(-(exact - counts), kind="stable")
    counts[by_remainder[: block - counts.sum()]] += 1
    for k in np.flatnonzero(counts == 0):  # a tiny weight still gets one slot per block
        counts[np.argmax(counts)] -= 1
        counts[k] = 1
    return counts


class Mixture:
    def __init__(self, datasets: Sequence[dataset.PreparedDataset], weights: Sequence[float],
                 seed: int = 0, block: int = 4096):
        if len(datasets) != len(weights) or not datasets:
            raise ValueError(f"need one weight per dataset, got {len(datasets)} datasets, {len(weights)} weights")
        if any(not w > 0 for w in weights):
            raise ValueError(f"mixture weights must be positive, got {list(weights)}")
        if block < len(datasets):
            raise ValueError(f"block {block} is smaller than the number of datasets {len(datasets)}")
        lengths = {d.seq_len for d in datasets}
        if len(lengths) != 1:
            raise ValueError(f"datasets in a mixture must share seq_len, got {sorted(lengths)}: "
                             + ", ".join(str(d.path) for d in datasets))
        tokenizers = {d.index.get("fingerprint", {}).get("tokenizer_sha256") for d in datasets}
        if len(tokenizers) != 1:
            raise ValueError("datasets in a mixture must use the same tokenizer: "
                             + ", ".join(f"{d.path} ({d.index.get('tokenizer')})" for d in datasets))
        self.datasets, self.seed, self.block = list(datasets), seed, block
        self.seq_len = lengths.pop()
        self.counts = block_counts(weights, block)
        self.arrangement = functools.lru_cache(maxsize=4)(self._arrangement)  # a batch spans 1-2 blocks

    @classmethod
    def from_spec(cls, spec: str, split: str = "train", seed: int = 0, block: int = 4096) -> "Mixture":
        """"dirA=0.7,dirB=0.3" (a bare "dir" has weight 1). Each dataset shuffles with its own seed."""
        paths, weights = [], []
        for part in spec.split(","):
            path, _, weight = part.partition("=")
            try:
                weights.append(float(weight) if weight else 1.0)
            except ValueError:
                raise ValueError(f"mixture spec {spec!r}: weight {weight!r} of {path!r} is not a number") from None
            paths.append(path)
        datasets = [dataset.PreparedDataset(p, split, seed=seed + k) for k, p in enumerate(paths)]
        return cls(datasets, weights, seed=seed, block=block)

    def _arrangement(self, block_id: int) -> tuple[np.ndarray, np.ndarray]:
        """For one block: the dataset of each position, and its rank among that dataset's positions."""
        base = np.repeat(np.arange(len(self.counts)), self.counts)
        component = base[permute(np.arange(self.block), self.block, dataset.epoch_seed(self.seed, block_id))]
        order = np.argsort(component, kind="stable")
        starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        rank = np.empty(self.block, np.int64)
        rank[order] = np.arange(self.block) - starts[component[order]]
        return component, rank

    def locate(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """Global indices -> (dataset number, that dataset's global example index)."""
        blocks, offsets = np.divmod(np.asarray(indices, np.int64), self.block)
        component = np.empty_like(offsets)
        local = np.empty_like(offsets)
        for b in np.unique(blocks):
            sel = blocks == b
            comp, rank = self.arrangement(int(b))
            component[sel] = comp[offsets[sel]]
            local[sel] = b * self.counts[component[sel]] + rank[offsets[sel]]
        return component, local

    def examples(self, indices) -> tuple[np.ndarray, np.ndarray]:
        component, local = self.locate(indices)
        tokens = np.empty((len(component), self.seq_len + 1), np.int64)
        masks = np.empty((len(component), self.seq_len + 1), np.uint8)
        for k in np.unique(component):
            sel = component == k
            tokens[sel], masks[sel] = self.datasets[k].examples(local[sel])
        return tokens, masks

    def batch(self, step: int, global_batch: int, process_index: int = 0, process_count: int = 1) -> dict:
        return dataset.batch(self, step, global_batch, process_index, process_count)

