"""`humaneval` command line (thin; see jaxformer.cli.dispatch)."""
import sys

from jaxformer.cli import dispatch

COMMANDS = {
    "evaluate": "humaneval.commands.evaluate",
    "generate": "humaneval.commands.generate",
    "matrix": "humaneval.commands.matrix",
    "report": "humaneval.commands.report",
    "run": "humaneval.commands.run",
}


def main(argv=None) -> int:
    from humaneval.engine.options import run_refusing  # sandbox refused: its message, exit 4

    return run_refusing("humaneval", dispatch, "humaneval",
                        "Functional-correctness evaluation (HumanEval, HumanEval-X) in a sandbox.", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
