"""Tokenizer tools.

  jaxformer tokenizer train --corpus 'src/**/*.py' data.jsonl --vocab-size 4096 --out tok/
      Train a byte-level BPE (id 0 = <|endoftext|>, CodeGen's 38 whitespace tokens last) and save a
      directory that `jaxformer.tokenizer.load(dir)` and every --tokenizer option accept.
  jaxformer tokenizer encode --tokenizer codegen 'def f():'
      Print the ids and tokens of a string.
"""
from __future__ import annotations

HELP = "train a small byte-level BPE tokenizer, or inspect one"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = sub.add_parser("train", help="train a byte-level BPE on a corpus")
    train.add_argument("--corpus", nargs="+", required=True,
                       help="files, directories or globs (source files, or .jsonl with a 'text' field)")
    train.add_argument("--vocab-size", type=int, required=True, help="total size, whitespace tokens included")
    train.add_argument("--out", required=True, help="output directory")
    train.add_argument("--no-whitespace-tokens", action="store_true",
                       help="do not add CodeGen's 38 whitespace-run tokens")
    encode = sub.add_parser("encode", help="print the ids and tokens of a string")
    encode.add_argument("--tokenizer", default="codegen", help="'codegen', 'gpt2' or a directory")
    encode.add_argument("text")


def run(args) -> int:
    from jaxformer import tokenizer

    if args.action == "encode":
        tok = tokenizer.load(args.tokenizer)
        ids = tok.encode(args.text)
        print(ids)
        print(tok.convert_ids_to_tokens(ids))
        return 0
    from jaxformer.data import sources

    documents = sources.iter_texts(sources.resolve(args.corpus))
    tok = tokenizer.train_bpe(documents, args.vocab_size, whitespace=not args.no_whitespace_tokens)
    tok.save_pretrained(args.out)
    print(f"saved a {len(tok)}-token tokenizer to {args.out}")
    return 0
