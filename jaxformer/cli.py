"""`jaxformer` command line: a thin dispatcher over library functions.

Each subcommand lives in its own module exposing HELP, add_arguments(parser) and run(args).
Command modules import heavy libraries (jax, torch) inside run(), so `--help` stays fast.
The same dispatcher serves the `humaneval` and `mtpb` console scripts.
"""
from __future__ import annotations

import argparse
import importlib
import sys

JAXFORMER_COMMANDS = {
    "sample": "jaxformer.commands.sample",
    "score": "jaxformer.commands.score",
    "convert": "jaxformer.commands.convert",
    "tokenizer": "jaxformer.commands.tokenizer",
    "data": "jaxformer.commands.data",
    "train": "jaxformer.commands.train",
    "plan": "jaxformer.commands.plan",
}


def build_parser(prog: str, description: str, commands: dict[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in commands.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue  # command not built yet; tests/test_cli.py requires every one to exist
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def dispatch(prog: str, description: str, commands: dict[str, str], argv: list[str] | None = None) -> int:
    """Parse argv, run the chosen command; user errors print one line and exit 2."""
    args = build_parser(prog, description, commands).parse_args(argv)
    try:
        code = args._run(args)
    except (ValueError, OSError, KeyError) as err:  # bad input: name it, no traceback
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    return int(code or 0)


def main(argv: list[str] | None = None) -> int:
    return dispatch("jaxformer", "Train, convert, sample from and score CodeGen-style models in JAX.",
                    JAXFORMER_COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
