"""Prepare training data, and look inside prepared data.

  jaxformer data prepare --source 'repo/**/*.py' extra.jsonl --tokenizer codegen --seq-len 2048 \\
      --out data/python --workers 2 --val-fraction 0.01
      Tokenize, join documents with EOS, pack into rows of seq_len + 1 tokens (inputs row[:-1], targets
      row[1:]) stored as uint16/uint32 .npy shards + index.json. --format completion ({prompt,
      completion}) or instruct ({instruction, response}; CodeM template) also writes uint8 loss masks
      that are 0 on prompt tokens. Interrupted runs resume; see jaxformer/data/prepare.py.
  jaxformer data inspect data/python [--split val] [--step 0 --batch 8]
      Print the index summary and decode the first example of a batch.
"""
from __future__ import annotations

import json
import os

HELP = "tokenize and pack training data into shards; inspect prepared data"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("prepare", help="tokenize and pack sources into a prepared dataset")
    p.add_argument("--source", nargs="+", required=True,
                   help="files, directories or globs: source files, .jsonl, or .parquet/.json (needs `datasets`)")
    p.add_argument("--tokenizer", default="codegen", help="'codegen', 'gpt2' or a tokenizer directory")
    p.add_argument("--seq-len", type=int, required=True, help="tokens per example (rows store seq_len + 1)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--format", default="text", choices=("text", "completion", "instruct"),
                   help="record format (default text: whole documents, no mask)")
    p.add_argument("--text-field", default="text", help="JSONL field holding the text (format text)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--val-fraction", type=float, default=0.0, help="documents held out for validation")
    p.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    p.add_argument("--rows-per-shard", type=int, default=8192)
    p.add_argument("--skip-undecodable", action="store_true",
                   help="skip source files that are not UTF-8 (listed in index.json) instead of stopping")
    p.add_argument("--exclude", nargs="+", default=[], metavar="PATTERN",
                   help="leave out files whose absolute path matches (fnmatch), e.g. '*/site-packages/*'")
    p.add_argument("--overwrite", action="store_true", help="replace an existing prepared dataset")
    i = sub.add_parser("inspect", help="summarize a prepared dataset and decode one example")
    i.add_argument("path")
    i.add_argument("--split", default="train")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--step", type=int, default=0)
    i.add_argument("--batch", type=int, default=1)


def run(args) -> int:
    if args.action == "prepare":
        from jaxformer.data.prepare import PrepareConfig, prepare

        cfg = PrepareConfig(sources=tuple(args.source), out=args.out, seq_len=args.seq_len,
                            tokenizer=args.tokenizer, fmt=args.format, text_field=args.text_field,
                            val_fraction=args.val_fraction, seed=args.seed, workers=args.workers,
                            rows_per_shard=args.rows_per_shard, skip_undecodable=args.skip_undecodable,
                            exclude=tuple(args.exclude))
        index = prepare(cfg, overwrite=args.overwrite)
        print(json.dumps({split: {k: v for k, v in info.items() if k != "shards"}
                          for split, info in index["splits"].items()}))
        if index["skipped_files"]:
            print(f"skipped {len(index['skipped_files'])} non-UTF-8 files (listed in {args.out}/index.json)")
        return 0

    from jaxformer import tokenizer
    from jaxformer.data.dataset import PreparedDataset

    ds = PreparedDataset(args.path, args.split, seed=args.seed)
    summary = {k: v for k, v in ds.index.items() if k not in ("splits", "fingerprint")}
    print(json.dumps({**summary, "rows": len(ds)}))
    b = ds.batch(args.step, args.batch)
    tok = tokenizer.load(ds.index["tokenizer"])
    print(f"--- step {args.step}, example 0: {int(b['loss_mask'][0].sum())}/{ds.seq_len} targets in the loss")
    print(tok.decode(b["tokens"][0].tolist()))
    return 0
