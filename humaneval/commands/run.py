"""Generate HumanEval samples, then report on them (`humaneval generate` + `humaneval report`), resumable.

  humaneval run --model DIR --out RUN --n 20 --temperature 0.2 0.6 0.8 --k 1,10

Takes every `humaneval generate` option plus the report's --k/--timeout/--workers. Rerunning the same
command continues where it stopped: finished samples files and results are kept. --n must be at least
the largest explicit --k. The bootstrap seed is 0 (`humaneval report RUN --seed S` redoes the report).
With several processes (jax.distributed), every process samples its part and process 0 writes the report.
"""
from __future__ import annotations

from humaneval.commands import generate as generate_command
from humaneval.engine.options import add_sandbox_argument, check_sandbox

HELP = "generate HumanEval samples and write the report, in one resumable command"


def add_arguments(parser) -> None:
    generate_command.add_arguments(parser)
    parser.add_argument("--k", default=None, help="pass@k values, comma-separated (default 1,10,100; k > n shown "
                                                  "as n/a); an explicit k above --n is refused before sampling")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default 3.0)")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: CPU count)")
    parser.add_argument("--exclude-harness-errors", action="store_true",
                        help="report anyway, leaving samples the sandbox could not run out of every number")
    add_sandbox_argument(parser)


def run(args) -> int:
    import argparse

    from humaneval.commands import report as report_command
    from humaneval.commands.evaluate import parse_ks
    from humaneval.generate import largest_k_ok

    settings = generate_command.settings_from_args(args)
    if settings.language != "python":  # the report is HumanEval's; HumanEval-X: generate, then evaluate RUN
        raise ValueError(f"humaneval run reports on python only; for --language {settings.language} use "
                         f"`humaneval generate` then `humaneval evaluate RUN`")
    if args.k is not None:
        largest_k_ok(parse_ks(args.k), settings)
    check_sandbox(args.sandbox)  # refuse before hours of sampling, not after
    generate_command.run_generate(args, settings)
    import jax

    if jax.process_index() != 0:
        return 0
    return report_command.run(argparse.Namespace(
        run=args.out, k=args.k, timeout=args.timeout, workers=args.workers, seed=0,
        exclude_harness_errors=args.exclude_harness_errors, no_progress=args.no_progress, sandbox=args.sandbox))
