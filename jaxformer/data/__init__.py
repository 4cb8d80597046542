"""Training data: read sources, tokenize and pack into memory-mapped shards, address examples by index.

sources.py  files / globs / JSONL / datasets-readable files -> records (dicts), each with its location
formats.py  record -> text segments with a loss flag (plain text, {prompt, completion}, {instruction, response})
pack.py     token streams -> fixed-length rows (+ loss mask rows)
prepare.py  the `data prepare` pipeline: worker pool, shards, JSON index, atomic write, validation split
permutation.py  seeded O(1) permutation of range(n), so shuffled example i is computable from i
dataset.py  memory-mapped prepared dataset; example i of the shuffled order from i alone; per-process batches
mixture.py  weighted mixture of prepared datasets, addressable by index

A prepared directory holds index.json (seq_len, dtype, vocab_size, eos_id, tokenizer, format, per-split
shard lists and counts, the inputs' fingerprint) and, per split ("train", "val"), `<split>-NNNNN.npy`
shards of shape [rows, seq_len + 1] (uint16, or uint32 for vocabularies over 65,536) plus
`<split>-NNNNN.mask.npy` (uint8, 1 = trained on) for the masked formats.

    jaxformer data prepare --source src/ --tokenizer codegen --seq-len 2048 --out data/py --val-fraction 0.01
    ds = jaxformer.data.dataset.open_dataset("data/py", seq_len=2048, seed=0)
    ds.batch(step, global_batch, process_index, process_count)  # {tokens, targets, loss_mask}, [B/P, L]
"""
