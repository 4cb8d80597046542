"""Training data: read sources, tokenize and pack into memory-mapped shards, address examples by index.

sources.py  files / globs / JSONL / datasets-readable files -> records (dicts), each with its location
formats.py  record -> text segments with a loss flag (plain text, {prompt, completion}, {instruction, response})
pack.py     token streams -> fixed-length rows (+ loss mask rows)
prepare.py  the `data prepare` pipeline: worker pool, shards, JSON index, atomic write, validation split
permutation.py  seeded O(1) permutation of range(n), so shuffled example i is computable from i
dataset.py  memory-mapped prepared dataset; example i of the shuffled order from i alone; per-process batches
mixture.py  weighted mixture of prepared datasets, addressable by index
"""
