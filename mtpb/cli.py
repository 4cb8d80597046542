"""`mtpb` command line (thin; see jaxformer.cli.dispatch)."""
import sys

from jaxformer.cli import dispatch

COMMANDS = {
    "generate": "mtpb.commands.generate",
    "evaluate": "mtpb.commands.evaluate",
    "compare": "mtpb.commands.compare",
}


def main(argv=None) -> int:
    return dispatch("mtpb", "Multi-Turn Programming Benchmark: execution and scoring.", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
