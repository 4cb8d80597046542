"""Sample MTPB programs with a model, multi-turn or single-turn (docs/mtpb.md "Generation").

One JSONL row per problem x test case x sample, in problem, case, sample order, with the reference
fields (id, input, gold_output, completions, prompts_completions) that `mtpb evaluate` and the
reference mtpb_exec.py read, plus mode, sampling, model, status and per-turn records (prompt
perplexity, raw and truncated completion, stop reason). A killed run resumes when rerun with the
same arguments. Temperature 0 is greedy.

--reencode re-encodes the whole history every turn, as reference mtpb_sample.py (slower; the default
keeps each row's KV cache across turns). --reference-truncation uses the reference truncation with its
leading-comment bug (default: the fixed rule; single-turn: the reference rules without ^#).

Exit codes: 0 done; 2 bad input (unknown problem id, invalid problems file, an output file holding
another model's or settings' rows, n < 1), reported before the model is loaded.
"""
from __future__ import annotations

HELP = "sample MTPB programs (multi-turn or single-turn), resumable"


def add_sampling_arguments(parser) -> None:
    """The options `mtpb generate` and `mtpb compare` share: what is sampled, from which problems."""
    parser.add_argument("--n", type=int, default=1, help="samples per test case (default 1)")
    parser.add_argument("--temperature", type=float, default=0.2, help="0 is greedy (default 0.2)")
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--problems", default=None, help="mtpb.jsonl (default: $MTPB_PATH, then the cache)")
    parser.add_argument("--problem-ids", default=None, help="comma-separated ids, e.g. 1,5,9 (default: all)")


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="model directory (HF format), registry name or random:<preset>")
    parser.add_argument("--mode", required=True, choices=("multi", "single"))
    parser.add_argument("--out", required=True, help="output .jsonl")
    add_sampling_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=None, help="rows per batch (default 64)")
    parser.add_argument("--reencode", action="store_true", help="re-encode the history every turn (reference)")
    parser.add_argument("--reference-truncation", action="store_true",
                        help="reference truncation, leading-comment bug included")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [p.strip() for p in text.split(",") if p.strip()]
    if not ids:
        raise ValueError(f"--problem-ids {text!r}: no ids given")
    return ids


def run(args) -> int:
    from mtpb.generate import generate

    stats = generate(args.model, args.mode, args.out, n=args.n, temperature=args.temperature, top_p=args.top_p,
                     seed=args.seed, problems_path=args.problems, problem_ids=parse_ids(args.problem_ids),
                     batch_size=args.batch_size, reencode=args.reencode,
                     reference_truncation=args.reference_truncation, progress=not args.no_progress)
    print(f"{stats['rows']} rows ({stats['rows_generated_now']} generated now, {stats['context_rows']} "
          f"outgrew the context), {stats['tokens']} tokens in {stats['wall_s']:.1f} s "
          f"({stats['tokens_per_s']:.0f} tokens/s): {args.out}")
    return 0
