"""Score a text file under a model: per-token log-probs and perplexity, printed as JSON.

  jaxformer score --model DIR --text-file prog.py
  -> {"num_tokens": n, "num_scored": n - 1, "token_ids": [...], "logprobs": [...], "perplexity": p}

Token t is scored given tokens < t, so the first token is not scored unless --prepend-eos.
"""
from __future__ import annotations

HELP = "teacher-forced log-probs and perplexity of a text file (JSON)"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="HF-format model directory, registry name (e.g. tiny-python, codegen-350M-mono) or random:<preset>")
    parser.add_argument("--text-file", required=True)
    parser.add_argument("--prepend-eos", action="store_true", help="score the first token after <|endoftext|>")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default=None)


def run(args) -> int:
    import json
    import pathlib

    from jaxformer import sampling, scoring

    path = pathlib.Path(args.text_file)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    changes = {"dtype": args.dtype} if args.dtype else {}
    cfg, graphdef, params, tokenizer = sampling.load(args.model, **changes)
    if tokenizer is None:
        raise ValueError(f"{args.model}: no tokenizer files, cannot encode {path}")
    try:
        [s] = scoring.score(cfg, graphdef, params, tokenizer, [text], prepend_eos=args.prepend_eos)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    print(json.dumps(s.to_dict()))
    return 0
