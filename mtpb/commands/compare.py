"""Generate MTPB samples in both modes with one model, evaluate them, and report multi- vs single-turn.

Writes RUN/samples_multi.jsonl and RUN/samples_single.jsonl (mtpb generate), their _results.jsonl
(mtpb evaluate; multi-turn with --per-turn), RUN/summary.json (every number in the report),
RUN/report.md and RUN/plots/*.png. The model is loaded once. Rerunning the same command resumes:
finished rows are kept, and an evaluation whose inputs did not change is reused. See docs/mtpb.md for
the definitions (pass rate, prompt perplexity, difficulty bins, first failing turn).

Exit codes: 0 done; 2 bad input (checked before the model loads); 3 some programs hit a harness error
(not scored; rerun the same command to retry them).
"""
from __future__ import annotations

import sys

from humaneval.engine.options import add_sandbox_argument
from mtpb.commands.generate import add_sampling_arguments

HELP = "generate both modes with one model, evaluate, and report multi- vs single-turn (resumable)"
EXIT_HARNESS_ERROR = 3


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="model directory, registry name or random:<preset>")
    parser.add_argument("--out", required=True, help="run directory (created; rerun to resume)")
    add_sampling_arguments(parser)
    parser.add_argument("--difficulty-from", default=None, metavar="SUMMARY.json",
                        help="difficulty bins from another compare run's per-problem multi-turn rates")
    parser.add_argument("--batch-size", type=int, default=None, help="generation batch size")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: engine's)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per program (reference: 20)")
    parser.add_argument("--datasets-dir", default=None, help="directory holding the CSVs problems 38 and 46 read")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_sandbox_argument(parser)


def run(args) -> int:
    from mtpb.compare import HarnessErrors, compare, settings_from_args

    settings = settings_from_args(args)
    try:
        summary = compare(settings)
    except HarnessErrors as err:
        print(f"HARNESS ERRORS: {err}", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    pr, ppl = summary["pass_rate"], summary["perplexity"]

    def pct(x):
        return "n/a" if x is None else f"{100 * x:.2f}%"

    def num(x):
        return "n/a" if x is None else f"{x:.2f}"

    print(f"pass rate: multi {pct(pr['multi'])}, single {pct(pr['single'])} "
          f"({summary['problems']} problems); prompt ppl: multi {num(ppl['multi'])}, single {num(ppl['single'])}")
    print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary["stages"].items()))
    print(f"report: {settings.out}/report.md", file=sys.stderr)
    return 0
