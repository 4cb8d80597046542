"""Multi-turn (MTPB-shaped) sampling: the session API vs re-feeding the whole history to HF generate.

  python benchmarks/multiturn_throughput.py [--model-size tiny] [--reps 2]

20 rows (5 cases x 4 samples), 5 turns; each turn appends ~20 prompt tokens to every row and generates
128 tokens (EOS disabled). Ours: jaxformer.session.Session (incremental KV cache, append + generate,
rollback bookkeeping included). Peer (own process, benchmarks/hf_generate_peer.py --turns): transformers
generate over the full history each turn, as the reference mtpb_sample.py does. Top-p 0.95, t=0.8.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from sampling_throughput import make_hf_model  # noqa: E402


def ours(model_dir, rows, turns, turn_tokens, new, reps, dtype):
    import numpy as np

    from jaxformer import hf, sampling, tokenizer
    from jaxformer.session import Session

    cfg, graphdef, params, _ = hf.load_model(model_dir, dtype=dtype)
    tok = tokenizer.load("codegen")
    sp = sampling.SamplingParams(temperature=0.8, top_p=0.95)
    rng = np.random.default_rng(0)

    def run(seed):
        t0 = time.perf_counter()
        s = Session(cfg, graphdef, params, tok, batch=rows, seed=seed, max_len=1024)
        for _ in range(turns):
            s.append_ids(rng.integers(0, 50000, (rows, turn_tokens)).tolist())
            outs = s.generate(new, sp, stop_token_ids=[])
            assert all(c.num_generated == new for c in outs)
        return time.perf_counter() - t0

    run(0)  # compile
    times = [run(i + 1) for i in range(reps)]
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-size", default="tiny")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--turn-tokens", type=int, default=20)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--peer-threads", type=int, nargs="+", default=[1, 2],
                    help="torch thread counts to try for the peer; its fastest is used")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp) / args.model_size
        make_hf_model(args.model_size, d)
        med, times = ours(d, args.rows, args.turns, args.turn_tokens, args.new, args.reps, args.dtype)
        cmd = [sys.executable, str(ROOT / "benchmarks" / "hf_generate_peer.py"), "--model", str(d),
               "--batch", str(args.rows), "--turns", str(args.turns), "--turn-tokens", str(args.turn_tokens),
               "--new", str(args.new), "--reps", str(args.reps)]
        runs = [subprocess.run(cmd + ["--threads", str(t)], check=True, capture_output=True, text=True).stdout
                for t in args.peer_threads]
        hf = min((json.loads(out.strip().splitlines()[-1]) for out in runs), key=lambda r: r["seconds"])
    tokens = args.rows * args.turns * args.new
    print(json.dumps({"model": args.model_size, "dtype": args.dtype, "ours_s": round(med, 2), "ours_times": times,
                      "hf_s": round(hf["seconds"], 2), "hf_times": hf["times"], "hf_threads": hf["threads"],
                      "ours_tok_s": round(tokens / med, 1), "hf_tok_s": round(tokens / hf["seconds"], 1),
                      "speedup": round(hf["seconds"] / med, 2)}))


if __name__ == "__main__":
    main()
