r"""Sample one completion and print only its text.

  jaxformer sample --model DIR --prompt 'def fib(n):' --max-new-tokens 64 --temperature 0.2 --top-p 0.95 \
      --stop '\ndef' --stop '\nclass'
  jaxformer sample --model random:tiny --prompt 'def f():' --max-new-tokens 16   # untrained demo model

--temperature 0 is greedy. --stop takes Python-style escapes (\n, \t); --codex-stops adds the HumanEval
stop sequences. The stop reason and log-probs go to stderr with --verbose.
"""
from __future__ import annotations

HELP = "sample a completion from a model (prints the completion text)"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="HF-format model directory, registry name (e.g. tiny-python, codegen-350M-mono) or random:<preset>")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stop", action="append", default=[], help="stop string (repeatable; \\n escapes)")
    parser.add_argument("--codex-stops", action="store_true", help="add the Codex HumanEval stop sequences")
    parser.add_argument("--truncate-prompt", action="store_true",
                        help="drop the prompt's start (with a warning) instead of failing when it is too long")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default=None, help="matmul compute dtype")
    parser.add_argument("--verbose", action="store_true", help="print stop reason and log-probs to stderr")


def run(args) -> int:
    import codecs
    import sys

    from jaxformer import sampling, truncation

    stops = [codecs.decode(s, "unicode_escape") for s in args.stop]
    if args.codex_stops:
        stops += list(truncation.CODEX_STOPS)
    params = sampling.SamplingParams(temperature=args.temperature, top_p=args.top_p, top_k=args.top_k)
    changes = {"dtype": args.dtype} if args.dtype else {}
    cfg, graphdef, weights, tokenizer = sampling.load(args.model, **changes)
    if tokenizer is None:
        raise ValueError(f"{args.model}: no tokenizer files, cannot encode --prompt")
    [c] = sampling.generate(cfg, graphdef, weights, tokenizer, [args.prompt], max_new_tokens=args.max_new_tokens,
                            sampling=params, seed=args.seed, stops=stops, batch_size=1,
                            truncate="left" if args.truncate_prompt else "error")
    sys.stdout.write(c.text)
    sys.stdout.flush()
    if args.verbose:
        print(f"\nstop_reason={c.stop_reason} generated={c.num_generated} kept={len(c.token_ids)} "
              f"sum_logprob={c.sum_logprob:.4f} mean_logprob={c.mean_logprob:.4f}", file=sys.stderr)
    return 0
