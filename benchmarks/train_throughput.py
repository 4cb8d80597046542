"""Training throughput: jaxformer's train step vs transformers CodeGenForCausalLM + torch AdamW.

    python benchmarks/train_throughput.py [--preset tiny] [--batch 8] [--seq 256] [--steps 5] [--windows 3]

Same model config, batch 8 x 256, AdamW, token-weighted masked cross-entropy. Each peer runs in its own
process (JAX and torch fight over threads in one process; REFERENCE "CPU performance facts"), one after
another, and reports the best of several timing windows (the machine is shared and noisy):
    jax-f32    : our step, float32 matmuls            torch-f32  : HF model, float32
    jax-bf16   : our step, bf16 inputs / f32 accum     torch-bf16 : HF model under torch.autocast(bfloat16)
fp32-vs-fp32 and best-vs-best ratios are printed side by side. MFU = model FLOPs (plan.py convention:
6*N_matmul + 12*L*T*D per token) / measured jax matmul peak of the peer's compute dtype (2048^2).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout without installing
PEERS = ("jax-f32", "jax-bf16", "torch-f32", "torch-bf16")


def _windows(step, steps: int, windows: int, tokens_per_step: int) -> float:
    for _ in range(2):  # compile / warm up
        step()
    best = 0.0
    for _ in range(windows):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        best = max(best, steps * tokens_per_step / (time.perf_counter() - t0))
    return best


def run_jax(args, dtype: str) -> dict:
    import jax
    import numpy as np

    from jaxformer.train import config as config_lib, loop, state as state_lib, step as step_lib
    from jaxformer.train.synthetic import SyntheticDataset

    cfg = config_lib.load(None, [f"model.preset={args.preset}", f"model.dtype={dtype}", "mesh.data=1",
                                 f"data.seq_len={args.seq}", f"run.global_batch={args.batch}", "optim.warmup_steps=10"])
    setup = state_lib.build(cfg, devices=jax.devices()[:1])
    state = state_lib.init_state(setup, state_lib.init_params(setup, 0))
    train = step_lib.make_train_step(setup.graphdef, setup.tx, 1, setup.state_shardings, setup.batch_sharding,
                                     setup.micro_sharding, setup.schedule)
    data = SyntheticDataset(cfg.model.vocab_size, args.seq).batch(0, args.batch)
    batch = {k: jax.device_put(np.asarray(v), setup.batch_sharding) for k, v in data.items()}
    box = [state]

    def step():
        box[0], metrics = train(box[0], batch)
        jax.block_until_ready(metrics["loss"])

    tokens_s = _windows(step, args.steps, args.windows, args.batch * args.seq)
    return {"tokens_per_s": tokens_s, "peak_flops": loop.measure_peak_flops(dtype)}


def run_torch(args, bf16: bool) -> dict:
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    from jaxformer.config import preset, to_hf_config
    from jaxformer.train.synthetic import SyntheticDataset

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    cfg = preset(args.preset)
    hf = to_hf_config(cfg)
    model = CodeGenForCausalLM(CodeGenConfig(**{k: v for k, v in hf.items() if k != "architectures"}))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    data = SyntheticDataset(cfg.vocab_size, args.seq).batch(0, args.batch)
    tokens, targets = torch.from_numpy(data["tokens"]).long(), torch.from_numpy(data["targets"]).long()
    mask = torch.from_numpy(data["loss_mask"]).float()

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=tokens).logits
        nll = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="none")
        loss = (nll * mask.flatten()).sum() / mask.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return {"tokens_per_s": _windows(step, args.steps, args.windows, args.batch * args.seq)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5, help="steps per timing window")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--peer", choices=PEERS, help=argparse.SUPPRESS)  # internal: run one peer
    args = parser.parse_args()

    if args.peer:
        result = (run_jax(args, "bfloat16" if args.peer == "jax-bf16" else "float32") if args.peer.startswith("jax")
                  else run_torch(args, bf16=args.peer == "torch-bf16"))
        print(json.dumps(result))
        return

    from jaxformer.config import param_count, preset
    from jaxformer.train.plan import flops_per_token

    cfg = preset(args.preset)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one real CPU device per peer
    results = {}
    for peer in PEERS:
        out = subprocess.run([sys.executable, __file__, "--peer", peer, "--preset", args.preset, "--batch",
                              str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps),
                              "--windows", str(args.windows)], env=env, capture_output=True, text=True, check=True)
        results[peer] = json.loads(out.stdout.strip().splitlines()[-1])
    fpt = flops_per_token(cfg, args.seq)
    peaks = {"f32": results["jax-f32"]["peak_flops"], "bf16": results["jax-bf16"]["peak_flops"]}
    print(f"model {args.preset}: {param_count(cfg) / 1e6:.1f}M params, batch {args.batch}x{args.seq}, "
          f"{fpt * args.batch * args.seq / 1e9:.1f} GFLOP/step; matmul peak f32 {peaks['f32'] / 1e9:.0f}, "
          f"bf16->f32 {peaks['bf16'] / 1e9:.0f} GFLOP/s")
    print(f"{'peer':<11}{'tokens/s':>10}{'MFU':>8}")
    for peer, r in results.items():
        mfu = r["tokens_per_s"] * fpt / peaks["bf16" if peer.endswith("bf16") else "f32"]
        print(f"{peer:<11}{r['tokens_per_s']:>10,.0f}{mfu:>8.1%}")
    f32 = results["jax-f32"]["tokens_per_s"] / results["torch-f32"]["tokens_per_s"]
    best_ours = max(results["jax-f32"]["tokens_per_s"], results["jax-bf16"]["tokens_per_s"])
    best_hf = max(results["torch-f32"]["tokens_per_s"], results["torch-bf16"]["tokens_per_s"])
    print(f"fp32 vs fp32: {f32:.2f}x   best vs best: {best_ours / best_hf:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
