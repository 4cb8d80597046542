"""`humaneval` command line (thin; see jaxformer.cli.dispatch)."""
import sys

from jaxformer.cli import dispatch

COMMANDS = {
    "evaluate": "humaneval.commands.evaluate",
    "generate": "humaneval.commands.generate",
    "report": "humaneval.commands.report",
    "run": "humaneval.commands.run",
}


def main(argv=None) -> int:
    return dispatch("humaneval", "Functional-correctness evaluation (HumanEval, HumanEval-X) in a sandbox.",
                    COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
