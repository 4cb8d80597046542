"""`mtpb` command line (thin; see jaxformer.cli.dispatch)."""
import sys

from jaxformer.cli import dispatch

COMMANDS = {
    "generate": "mtpb.commands.generate",
    "evaluate": "mtpb.commands.evaluate",
    "compare": "mtpb.commands.compare",
}


def main(argv=None) -> int:
    from humaneval.engine.options import run_refusing  # sandbox refused: its message, exit 4

    return run_refusing("mtpb", dispatch, "mtpb", "Multi-Turn Programming Benchmark: execution and scoring.",
                        COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
