r"""Sample HumanEval completions from a model into a run directory (docs/humaneval.md).

  humaneval generate --model random:tiny --out RUN --n 20 --temperature 0.2 0.8 --limit 10
  humaneval generate --model DIR --out RUN --greedy                  # temperature 0, one sample per problem
  humaneval generate --model DIR --out RUN --greedy --language cpp --instruct  # HumanEval-X, CodeM prompt

RUN gets run.json (model fingerprint, settings, machine, stage times) and samples_t{T}.jsonl per
temperature (T as written) / samples_greedy.jsonl, rows in problem order then sample_index. Prompts are
used exactly as the problem file gives them. Stops: Codex's \nclass \ndef \n# \nif \nprint for python, a
closing brace alone in column 0 for the others (kept in the completion); --stop (repeatable, \n escapes)
replaces them; EOS always ends a sample. --language LANG: HumanEval-X problems (default file
shared/data/humaneval-x/humaneval_<lang>.jsonl.gz); --instruct: CodeM's instruction prompt with the
signature as the start of the response, each row's completion extracted from it and the raw text kept as
"response" (docs/humaneval-x.md). Rerunning the same command after a
kill generates only the missing rows. Multi-host: --coordinator HOST:PORT --num-processes P
--process-id I on each host (jax.distributed); process I writes the part files of rows I mod P.
"""
from __future__ import annotations

HELP = "sample HumanEval completions into a run directory (resumable, multi-host)"


def add_arguments(parser, out_required: bool = True) -> None:
    parser.add_argument("--model", required=True, help="model directory (HF format), random:<preset>, or a name")
    parser.add_argument("--out", required=out_required, help="run directory RUN")
    parser.add_argument("--n", type=int, default=200, help="samples per problem and temperature (default 200)")
    parser.add_argument("--temperature", nargs="+", default=None, metavar="T",
                        help="temperatures, each its own samples file (default 0.2 0.6 0.8; none with --greedy "
                             "alone)")
    parser.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling (default 0.95)")
    parser.add_argument("--greedy", action="store_true",
                        help="also (or, without --temperature, only) one greedy sample per problem")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    subset = parser.add_mutually_exclusive_group()
    subset.add_argument("--limit", type=int, default=None, help="only the first K problems")
    subset.add_argument("--task-ids", default=None, help="only these problems, e.g. HumanEval/0,HumanEval/7")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="rows per sampler call (default: up to 128, as many as a 2 GiB KV cache holds)")
    parser.add_argument("--stop", action="append", default=None,
                        help="stop string (repeatable, \\n escapes); replaces the Codex stops")
    parser.add_argument("--problems", default=None,
                        help="problem file .jsonl(.gz) (default: HumanEval, or HumanEval-X for --language)")
    from humaneval.languages.command import add_language_argument  # the registry's languages
    add_language_argument(parser)
    parser.add_argument("--instruct", action="store_true",
                        help="CodeM instruction prompt; the completion is extracted from the response")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default=None, help="matmul compute dtype")
    parser.add_argument("--coordinator", default=None, help="multi-host: HOST:PORT of process 0")
    parser.add_argument("--num-processes", type=int, default=None, help="multi-host: process count")
    parser.add_argument("--process-id", type=int, default=None, help="multi-host: this process's index")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def settings_from_args(args):
    """Settings from the parsed options; every check runs here, before jax or the model loads."""
    import codecs

    from humaneval.generate import DEFAULT_TEMPERATURES, Settings

    temperatures = args.temperature if args.temperature is not None else (
        () if args.greedy else DEFAULT_TEMPERATURES)
    given = [args.coordinator is not None, args.num_processes is not None, args.process_id is not None]
    if any(given) and not all(given):
        raise ValueError("--coordinator, --num-processes and --process-id go together (multi-host)")
    task_ids = None
    if args.task_ids is not None:
        task_ids = tuple(t.strip() for t in args.task_ids.split(",") if t.strip())
    stops = None if args.stop is None else tuple(codecs.decode(s, "unicode_escape") for s in args.stop)
    return Settings(n=args.n, temperatures=tuple(temperatures), top_p=args.top_p, greedy=args.greedy,
                    max_new_tokens=args.max_new_tokens, stops=stops, seed=args.seed,
                    batch_size=args.batch_size,
                    dtype=args.dtype, limit=args.limit, task_ids=task_ids, language=args.language,
                    instruct=args.instruct)


def start_distributed(args) -> None:
    """jax.distributed.initialize from --coordinator/--num-processes/--process-id (all or none)."""
    from jaxformer.train.config import DistributedConfig
    from jaxformer.train.distributed import initialize

    initialize(DistributedConfig(coordinator_address=args.coordinator, num_processes=args.num_processes,
                                 process_id=args.process_id))


def run_generate(args, settings) -> dict:
    import sys

    from humaneval.generate import generate_run

    start_distributed(args)
    stats = generate_run(args.model, args.out, settings, problems_path=args.problems,
                         progress=not args.no_progress)
    print(f"generated {stats['rows_generated_now']} rows ({stats['tokens']} tokens, "
          f"{stats['tokens_per_s']:.0f} tokens/s, batch {stats['batch_size']}, {stats['compiles']} compiles) "
          f"in {stats['wall_s']:.1f} s -> {args.out}", file=sys.stderr)
    return stats


def run(args) -> int:
    settings = settings_from_args(args)
    run_generate(args, settings)
    return 0
