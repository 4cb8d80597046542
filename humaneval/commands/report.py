"""Report on a `humaneval generate` run directory: RUN/report.md, RUN/summary.json, RUN/plots/*.png.

  humaneval report RUN [--k 1,10,100] [--timeout 3] [--workers W] [--seed 0]

Samples files without results are evaluated first (resumable, as `humaneval evaluate RUN`). pass@k
per temperature with 95% bootstrap CIs over problems and the best temperature per k; ranking by
log-probability; BLEU against correctness; failure categories per problem. Without --k, k = 1, 10,
100 and a k above n is shown as n/a; an explicit --k above every temperature's n is an error.

Exit codes: 0 done; 2 bad input; 3 harness errors (nothing reported; rerun to retry).
"""
from __future__ import annotations

import sys

from humaneval.engine.options import add_sandbox_argument

HELP = "evaluate a HumanEval run directory and write report.md, summary.json and plots"
EXIT_HARNESS_ERROR = 3


def add_arguments(parser) -> None:
    parser.add_argument("run", help="run directory written by `humaneval generate`")
    parser.add_argument("--k", default=None, help="pass@k values, comma-separated (default 1,10,100; k > n "
                                                  "shown as n/a)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default 3.0)")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: CPU count)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--exclude-harness-errors", action="store_true",
                        help="report anyway, leaving samples the sandbox could not run out of every number")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_sandbox_argument(parser)


def run(args) -> int:
    from humaneval.commands.evaluate import parse_ks
    from humaneval.report import HarnessErrors, report_run

    ks = None if args.k is None else parse_ks(args.k)
    try:
        out = report_run(args.run, ks=ks, timeout=args.timeout, workers=args.workers, seed=args.seed,
                         exclude_harness_errors=args.exclude_harness_errors, progress=not args.no_progress,
                         sandbox=args.sandbox)
    except HarnessErrors as err:
        print(f"HARNESS ERRORS: {err}", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    print(out)
    return 0
