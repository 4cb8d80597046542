"""Execute MTPB samples (reference mtpb_sample.py output) and report the multi-turn pass rate.

SAMPLES is JSON Lines, one {"id", "input", "gold_output", "completions"} per line, where completions is
the whole program of one test case; extra fields are kept. Each program runs in the sandbox with the
reference's 20 s limit; its last statement is turned into print(...) and the first argument of the last
print call is compared with the gold output, under both `faithful` (reference check_equivalence) and
`strict` comparison. Results go to SAMPLES_results.jsonl in input order; a killed run resumes where it
stopped when rerun with the same arguments.

Problems file: --problems, else $MTPB_PATH, else ~/.cache/codelm/mtpb/mtpb.jsonl (downloaded from
upstream when online). Problems 38 and 46 read CSV files upstream never shipped: pass --datasets-dir with
mlbootcamp5_train.csv and melb_data.csv, or those rows are flagged missing_dataset.

--per-turn (multi-turn rows written by `mtpb generate`, which carry `turns`) also runs the program after
each turn, in order, and records `first_failing_turn`: the first turn whose program does not run to
completion (exception, timeout or crash), or null.

Programs run isolated (--sandbox namespaces, the default); where isolation cannot be set up the command
refuses before any program runs, says why and how to enable it, and exits 4. --sandbox none runs them with
rlimits only (a loud warning; every row, the printed summary and the resume fingerprint record "none").

Exit codes: 0 done; 2 bad input (the message names the file, line and field); 3 some programs hit a
harness error (not scored; rerun the same command to retry them); 4 the sandbox could not be set up.
"""
from __future__ import annotations

import sys

from humaneval.engine.options import add_sandbox_argument

HELP = "execute MTPB samples and report pass rates (faithful and strict), resumable"
EXIT_HARNESS_ERROR = 3


def add_arguments(parser) -> None:
    parser.add_argument("samples", help="samples .jsonl: id, input, gold_output, completions per line")
    parser.add_argument("--problems", default=None, help="mtpb.jsonl (default: $MTPB_PATH, then the cache)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per program (reference: 20)")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: engine's)")
    parser.add_argument("--mode", choices=("faithful", "strict"), default="faithful",
                        help="comparison behind the 'passed' field and headline rate (both are computed)")
    parser.add_argument("--datasets-dir", default=None,
                        help="directory holding the CSV files problems 38 and 46 read")
    parser.add_argument("--per-turn", action="store_true",
                        help="also find each row's first failing turn (needs the 'turns' field)")
    parser.add_argument("--json", dest="json_path", default=None, help="also write summary numbers here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_sandbox_argument(parser)


def format_table(summary: dict) -> str:
    modes = ("faithful", "strict")
    lines = [f"{'':24s} {'faithful':>9s} {'strict':>9s}",
             f"{'pass rate':24s} " + " ".join(f"{summary['pass_rate_by_mode'][m]:9.2%}" for m in modes),
             f"{'max for these samples':24s} " + " ".join(
                 f"{summary['max_pass_rate_by_mode'][m]:9.2%}" for m in modes)]
    bench = summary["benchmark_max_achievable"]
    lines.append(f"{'max on benchmark (cases)':24s} " + " ".join(
        f"{bench[m]['test_cases']:>5d}/{bench[m]['total']:<3d}" for m in modes))
    for category, scores in summary["by_category"].items():
        label = f"  {category} ({scores['problems']})"
        lines.append(f"{label:24s} " + " ".join(f"{scores[m]:9.2%}" for m in modes))
    lines.append(f"rows {summary['rows']}, problems {summary['problems']}, mode {summary['mode']}, "
                 f"sandbox {', '.join(summary['sandboxes'])}, "
                 f"verdicts " + ", ".join(f"{v}={n}" for v, n in summary["verdicts"].items()))
    if summary.get("first_failing_turn"):
        ff = summary["first_failing_turn"]
        lines.append("first failing turn: " + ", ".join(f"{t}={n}" for t, n in ff["turns"].items())
                     + ("; how: " + ", ".join(f"{e}={n}" for e, n in list(ff["errors"].items())[:5]) if ff["errors"] else ""))
    if summary.get("context_rows"):
        lines.append(f"rows whose history outgrew the context (counted as failed): {summary['context_rows']}")
    if summary["defect_rows"]:
        lines.append("flagged rows: " + ", ".join(f"{d}={n}" for d, n in summary["defect_rows"].items()))
    return "\n".join(lines)


def run(args) -> int:
    from mtpb.evaluate import evaluate, write_summary

    summary = evaluate(args.samples, args.problems, timeout_s=args.timeout, workers=args.workers,
                       mode=args.mode, datasets_dir=args.datasets_dir, per_turn=args.per_turn,
                       progress=not args.no_progress, sandbox=args.sandbox)
    if summary.get("harness_errors"):
        errors = summary["harness_errors"]
        print(f"HARNESS ERRORS: {len(errors)} of {summary['rows']} programs could not be run and were NOT "
              f"scored; no results file was written. Rerun the same command to retry them.", file=sys.stderr)
        for error in errors[:5]:
            print(f"  {args.samples} line {error['line']}: {error['error']}", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    if args.json_path:
        write_summary(args.json_path, summary)
    print(format_table(summary))
    print(f"results: {summary['results']}", file=sys.stderr)
    return 0
