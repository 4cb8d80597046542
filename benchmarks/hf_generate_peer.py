"""Peer for the sampler benchmarks: transformers `generate` (use_cache=True, top-p sampling) on a model dir.

Runs in its own process (JAX and torch fight over threads). Prints one JSON line.
  python benchmarks/hf_generate_peer.py --model DIR --batch 16 --prompt-len 64 --new 128 --reps 3
  python benchmarks/hf_generate_peer.py --model DIR --multiturn 5x4 --turns 5 --new 128   # re-encode history
"""
from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--turns", type=int, default=0, help="multi-turn mode: number of turns")
    ap.add_argument("--turn-tokens", type=int, default=20)
    args = ap.parse_args()

    import torch
    from transformers import CodeGenForCausalLM

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.dtype == "bfloat16" else torch.float32
    m = CodeGenForCausalLM.from_pretrained(args.model, torch_dtype=dtype).eval()
    vocab = 50000
    gen_kw = dict(do_sample=True, top_p=args.top_p, temperature=args.temperature, max_new_tokens=args.new,
                  min_new_tokens=args.new, use_cache=True, pad_token_id=50256)

    def run_single():
        ids = torch.randint(0, vocab, (args.batch, args.prompt_len))
        t0 = time.perf_counter()
        with torch.inference_mode():
            m.generate(ids, attention_mask=torch.ones_like(ids), **gen_kw)
        return time.perf_counter() - t0, args.batch * args.new

    def run_multiturn():
        # the reference protocol: every turn re-encodes (here: re-feeds) the whole history
        history = torch.randint(0, vocab, (args.batch, args.turn_tokens))
        t0 = time.perf_counter()
        with torch.inference_mode():
            for _ in range(args.turns):
                out = m.generate(history, attention_mask=torch.ones_like(history), **gen_kw)
                history = torch.cat([out, torch.randint(0, vocab, (args.batch, args.turn_tokens))], dim=1)
        return time.perf_counter() - t0, args.batch * args.new * args.turns

    run = run_multiturn if args.turns else run_single
    run()  # warm-up
    times, tokens = [], 0
    for _ in range(args.reps):
        dt, tokens = run()
        times.append(dt)
    med = statistics.median(times)
    print(json.dumps({"peer": "hf_generate", "dtype": args.dtype, "batch": args.batch, "seconds": med,
                      "threads": args.threads, "times": times, "tokens": tokens, "tokens_per_s": tokens / med}))


if __name__ == "__main__":
    main()
