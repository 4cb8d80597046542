"""Full-benchmark MTPB multi-turn generation: the session (KV cache kept across turns) against
--reencode (the whole history re-encoded every turn, as reference mtpb_sample.py), in one run.

  python benchmarks/mtpb_generate.py [--model random:tiny] [--problem-ids 1,2,3] [--reps 1] [--batch-size 64] [--warm-all]

All 115 problems x 5 cases, n=1, t=0.2, top-p 0.95, default (fixed) truncation with the early stop, both
arms through mtpb.generate.generate on the same loaded model. Each arm first warms up on problem 1 (with
--warm-all on the whole subset, so that no compilation falls inside the timed runs). Prints rows, generated tokens, tokens/s,
wall time per arm (median over reps) and the session / reencode ratio (target >= 4x).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="random:tiny")
    parser.add_argument("--problems", default=None)
    parser.add_argument("--problem-ids", default=None, help="comma-separated subset (default: all 115)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--warm-all", action="store_true",
                        help="warm up on the whole subset (every compiled shape), not just problem 1")
    args = parser.parse_args()

    from humaneval.runinfo import describe_machine, machine_info
    from jaxformer import sampling
    from mtpb.commands.generate import parse_ids
    from mtpb.generate import generate

    loaded = sampling.load(args.model)
    ids = parse_ids(args.problem_ids)
    common = dict(problems_path=args.problems, batch_size=args.batch_size, loaded=loaded, temperature=0.2)
    results = {"session": [], "reencode": []}
    with tempfile.TemporaryDirectory() as tmp:
        for arm in results:  # warm-up: the same rows once per arm, so every shape is compiled before timing
            generate(args.model, "multi", f"{tmp}/warm-{arm}.jsonl", problem_ids=ids if args.warm_all else ["1"],
                     reencode=arm == "reencode", **common)
        for rep in range(args.reps):
            for arm in results:
                stats = generate(args.model, "multi", f"{tmp}/{arm}-{rep}.jsonl", problem_ids=ids,
                                 reencode=arm == "reencode", **common)
                results[arm].append(stats)
                print(f"{arm:9s} rep {rep}: {stats['rows']} rows, {stats['tokens']} tokens, "
                      f"{stats['wall_s']:.1f} s, {stats['tokens_per_s']:.0f} tokens/s", flush=True)
    wall = {arm: statistics.median(s["wall_s"] for s in runs) for arm, runs in results.items()}
    print(f"\nmodel {args.model}, {results['session'][0]['rows']} rows, machine: "
          f"{describe_machine(machine_info(with_jax=True))}, load average {os.getloadavg()[0]:.1f}")
    for arm, runs in results.items():
        print(f"{arm:9s} median wall {wall[arm]:.1f} s, median "
              f"{statistics.median(s['tokens_per_s'] for s in runs):.0f} tokens/s")
    print(f"session / reencode speed-up: {wall['reencode'] / wall['session']:.2f}x (target >= 4x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
