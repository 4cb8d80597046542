"""Generated tokens/s: our sampler vs transformers `generate` on the same random-init CodeGen weights.

  python benchmarks/sampling_throughput.py                      # tiny at B=1,16,64 and 125M at B=8
  python benchmarks/sampling_throughput.py --cases tiny:16 --reps 5

For each case: make a random-init HF CodeGenForCausalLM, save_pretrained, load it into ours with
jaxformer.hf.load_model; prompt 64 random tokens, 128 new tokens (EOS disabled so every row makes 128),
top-p 0.95 at temperature 0.8. Ours runs in this process (fp32, and bf16 matmuls with f32 accumulation);
the HF peer (benchmarks/hf_generate_peer.py) runs in its own process right after, fp32 and bf16, each
with its fastest torch thread count; ratio_f32 is fp32 vs fp32, ratio_best is best vs best. Medians of --reps
runs after a warm-up (compilation excluded; it is reported separately by benchmarks/compile_count.py).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = {  # n_layer, n_embd, n_head, rotary_dim (vocab 51200, as CodeGen)
    "tiny": (2, 64, 4, 8),
    "125M": (12, 768, 12, 32),
}


def make_hf_model(name: str, out: pathlib.Path) -> None:
    """Random-init HF CodeGen in its own process (keeps torch out of this one)."""
    L, D, H, R = CONFIGS[name]
    code = (f"import torch; from transformers import CodeGenConfig, CodeGenForCausalLM; torch.manual_seed(0);"
            f"c = CodeGenConfig(vocab_size=51200, n_positions=2048, n_ctx=2048, n_embd={D}, n_layer={L}, "
            f"n_head={H}, rotary_dim={R}, tie_word_embeddings=False);"
            f"CodeGenForCausalLM(c).save_pretrained({str(out)!r})")
    subprocess.run([sys.executable, "-c", code], check=True)


def ours(model_dir, batch, prompt_len, new, reps, dtype, top_p, temperature):
    import numpy as np

    from jaxformer import hf, sampling

    cfg, graphdef, params, _ = hf.load_model(model_dir, dtype=dtype)
    rng = np.random.default_rng(0)
    sp = sampling.SamplingParams(temperature=temperature, top_p=top_p)

    def run(seed):
        prompts = rng.integers(0, 50000, (batch, prompt_len)).tolist()
        t0 = time.perf_counter()
        outs = sampling.generate(cfg, graphdef, params, None, prompts, max_new_tokens=new, sampling=sp,
                                 seed=seed, stop_token_ids=[], batch_size=batch)
        dt = time.perf_counter() - t0
        assert all(c.num_generated == new for c in outs)
        return dt

    run(0)  # compile
    times = [run(s + 1) for s in range(reps)]
    med = statistics.median(times)
    return {"peer": "jaxformer", "dtype": dtype, "batch": batch, "seconds": med, "times": times,
            "tokens_per_s": batch * new / med}


def peer(model_dir, batch, prompt_len, new, reps, top_p, temperature, threads, dtype="float32"):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "hf_generate_peer.py"), "--model", str(model_dir),
           "--batch", str(batch), "--prompt-len", str(prompt_len), "--new", str(new), "--reps", str(reps),
           "--top-p", str(top_p), "--temperature", str(temperature), "--dtype", dtype, "--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=["tiny:1", "tiny:16", "tiny:64", "125M:8"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--peer-threads", type=int, nargs="+", default=[1, 2],
                    help="torch thread counts to try for the peer; its fastest is used (under load 2 threads "
                         "made HF generate ~20x slower, OpenMP spin-waits; on a quiet machine 2 are faster)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        made = {}
        for case in args.cases:
            name, batch = case.split(":")
            batch = int(batch)
            if name not in made:
                made[name] = pathlib.Path(tmp) / name
                make_hf_model(name, made[name])
            common = (made[name], batch, args.prompt_len, args.new, args.reps)
            f32 = ours(*common, "float32", args.top_p, args.temperature)
            bf16 = ours(*common, "bfloat16", args.top_p, args.temperature)
            # the peer's fastest setting per dtype, over thread counts
            hf = {dt: max((peer(*common, args.top_p, args.temperature, t, dt) for t in args.peer_threads),
                          key=lambda r: r["tokens_per_s"]) for dt in ("float32", "bfloat16")}
            ours_best = max(f32["tokens_per_s"], bf16["tokens_per_s"])
            hf_best = max(hf["float32"]["tokens_per_s"], hf["bfloat16"]["tokens_per_s"])
            row = {"case": case, "ours_f32_tok_s": round(f32["tokens_per_s"], 1),
                   "ours_bf16_tok_s": round(bf16["tokens_per_s"], 1),
                   "hf_f32_tok_s": round(hf["float32"]["tokens_per_s"], 1),
                   "hf_bf16_tok_s": round(hf["bfloat16"]["tokens_per_s"], 1),
                   "hf_threads": {dt: r["threads"] for dt, r in hf.items()},
                   "ratio_f32": round(f32["tokens_per_s"] / hf["float32"]["tokens_per_s"], 2),
                   "ratio_best": round(ours_best / hf_best, 2)}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
