"""Generate HumanEval samples, then report on them (`humaneval generate` + `humaneval report`), resumable.

  humaneval run --model DIR --out RUN --n 20 --temperature 0.2 0.6 0.8 --k 1,10

Takes every `humaneval generate` option plus the report's --k/--timeout/--workers. Rerunning the same
command continues where it stopped: finished samples files and results are kept. --n must be at least
the largest --k. With several processes (jax.distributed), every process samples its part and process 0
writes the report.
"""
from __future__ import annotations

from humaneval.commands import generate as generate_command

HELP = "generate HumanEval samples and write the report, in one resumable command"


def add_arguments(parser) -> None:
    generate_command.add_arguments(parser)
    parser.add_argument("--k", default="1,10,100", help="pass@k values (default 1,10,100)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default 3.0)")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: CPU count)")


def report(args, ks) -> None:
    """B1's humaneval.report when it is there; until then evaluate every samples file of the run."""
    import sys

    try:
        from humaneval.report import report_run
    except ImportError:
        report_run = None
    if report_run is not None:
        out = report_run(args.out, ks=ks, timeout=args.timeout, workers=args.workers,
                         progress=not args.no_progress)
        print(f"report: {out}", file=sys.stderr)
        return
    from humaneval import rundir
    from humaneval.evaluate import evaluate_samples

    for label, files in rundir.samples_files(args.out).items():
        if len(files) != 1:
            raise ValueError(f"{args.out}: {label} is in {len(files)} part files; `humaneval report` merges them")
        result = evaluate_samples(files[0], args.problems, timeout=args.timeout, workers=args.workers, ks=ks,
                                  progress=not args.no_progress)
        print(f"{label}: {result.pass_at_k} -> {result.out_path}", file=sys.stderr)


def run(args) -> int:
    from humaneval.commands.evaluate import parse_ks
    from humaneval.generate import largest_k_ok

    ks = parse_ks(args.k)
    settings = generate_command.settings_from_args(args)
    largest_k_ok(ks, settings)
    generate_command.run_generate(args, settings)
    import jax

    if jax.process_index() == 0:
        report(args, ks)
    return 0
