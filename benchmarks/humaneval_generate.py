"""End-to-end HumanEval sampling: `humaneval generate` vs a straightforward transformers `generate` loop.

  python benchmarks/humaneval_generate.py                       # tiny preset, 164 problems, n=8, t=0.8, 128 new
  python benchmarks/humaneval_generate.py --limit 20 --n 4      # a quick look

Both sides sample the same random-init CodeGen weights (the tiny preset: 2 layers, d=64, vocab 51200,
saved with save_pretrained plus the CodeGen tokenizer), each in its own process, timed from process
start to the last sample written (model load, compilation and decoding included: end to end).
- ours: the `humaneval generate` CLI (top-p 0.95, Codex stops + EOS, default batch size);
- peer, as bigcode-evaluation-harness does it: per problem one `generate` call with
  num_return_sequences=n, do_sample, top-p 0.95, and a stopping criterion that ends the call once every
  sequence contains a stop string; then each text is cut at its first stop. The peer's torch thread
  count is its fastest on a short probe (--peer-threads).
Prints one JSON line per side and one with the ratios (peer / ours) of wall seconds and of CPU seconds
(user + sys of each side's process; the fairer figure when other jobs share the machine).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def make_model(out: pathlib.Path) -> None:
    """Random-init tiny HF CodeGen + the CodeGen tokenizer, in its own process (keeps torch out of this one)."""
    code = ("import torch; from transformers import CodeGenConfig, CodeGenForCausalLM; torch.manual_seed(0);"
            "from jaxformer import tokenizer;"
            "c = CodeGenConfig(vocab_size=51200, n_positions=2048, n_ctx=2048, n_embd=64, n_layer=2, n_head=4, "
            "rotary_dim=8, bos_token_id=50256, eos_token_id=50256, tie_word_embeddings=False);"
            f"CodeGenForCausalLM(c).save_pretrained({str(out)!r}); tokenizer.load('codegen').save_pretrained({str(out)!r})")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def peer_main(args) -> None:
    """The peer, run as its own process (--peer)."""
    start = time.perf_counter()
    import torch
    from transformers import CodeGenForCausalLM, StoppingCriteria, StoppingCriteriaList

    from humaneval.data import load_problems
    from jaxformer.tokenizer import load as load_tokenizer
    from jaxformer.truncation import CODEX_STOPS, truncate_at_stops

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = CodeGenForCausalLM.from_pretrained(args.model).eval()
    tok = load_tokenizer(args.model)
    problems = list(load_problems().values())[: args.limit]

    class EndOfFunction(StoppingCriteria):  # bigcode-evaluation-harness EndOfFunctionCriteria
        def __init__(self, start_length):
            self.start_length = start_length

        def __call__(self, input_ids, scores, **kwargs):
            texts = tok.batch_decode(input_ids[:, self.start_length:])
            done = all(any(s in text for s in CODEX_STOPS) for text in texts)
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool)

    samples = tokens = 0
    with torch.inference_mode():
        for problem in problems:
            ids = tok(problem["prompt"], return_tensors="pt").input_ids
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=float(args.temperature),
                                 top_p=args.top_p, max_new_tokens=args.new, num_return_sequences=args.n,
                                 pad_token_id=tok.eos_token_id,
                                 stopping_criteria=StoppingCriteriaList([EndOfFunction(ids.shape[1])]))
            for row in out[:, ids.shape[1]:]:
                text = tok.decode(row, skip_special_tokens=True)
                truncate_at_stops(text, CODEX_STOPS)
                samples += 1
                tokens += int((row != tok.eos_token_id).sum())
    seconds = time.perf_counter() - start
    print(json.dumps({"side": "hf_generate_loop", "threads": args.threads, "seconds": round(seconds, 2),
                      "samples": samples, "generated_tokens": tokens, "tokens_per_s": round(tokens / seconds, 1)}))


def timed(cmd) -> tuple[float, float, str]:
    """(wall s, CPU s of the child: user + sys over all its threads, stdout). CPU time is the fairer
    figure when other jobs share the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(wall, 2), round(cpu, 2), out


def run_peer(model, args, threads: int, limit: int) -> dict:
    cmd = [sys.executable, __file__, "--peer", "--model", str(model), "--threads", str(threads), "--limit", str(limit),
           "--n", str(args.n), "--new", str(args.new), "--temperature", str(args.temperature), "--top-p",
           str(args.top_p)]
    wall, cpu, out = timed(cmd)
    return {**json.loads(out.strip().splitlines()[-1]), "seconds": wall, "cpu_s": cpu}


def run_ours(model, args, out_dir: pathlib.Path) -> dict:
    cmd = [sys.executable, "-m", "humaneval.cli", "generate", "--model", str(model), "--out", str(out_dir),
           "--n", str(args.n), "--temperature", str(args.temperature), "--top-p", str(args.top_p),
           "--max-new-tokens", str(args.new), "--limit", str(args.limit), "--seed", str(args.seed), "--no-progress"]
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    seconds, cpu, _ = timed(cmd)
    rows = [json.loads(line) for line in (out_dir / f"samples_t{args.temperature}.jsonl").read_text().splitlines()]
    info = json.loads((out_dir / "run.json").read_text())
    return {"side": "humaneval_generate", "seconds": seconds, "cpu_s": cpu, "samples": len(rows),
            "kept_tokens": sum(r["num_tokens"] for r in rows), "generate_stage_s": info["stages"]["generate"],
            "batch_size": info["settings"]["batch_size"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, default=164)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--temperature", default="0.8")
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=None, help="ours (default: the CLI's)")
    ap.add_argument("--peer-threads", type=int, nargs="+", default=[1, 2],
                    help="torch thread counts to probe (10 problems each); the fastest does the full run")
    args = ap.parse_args()
    if args.peer:
        return peer_main(args)
    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(tmp) / "tiny"
        make_model(model)
        probe = {t: run_peer(model, args, t, min(10, args.limit))["seconds"] for t in args.peer_threads} \
            if len(args.peer_threads) > 1 else {}
        threads = min(probe, key=probe.get) if probe else args.peer_threads[0]
        ours = run_ours(model, args, pathlib.Path(tmp) / "run")
        print(json.dumps(ours), flush=True)
        theirs = run_peer(model, args, threads, args.limit)
        theirs["thread_probe_s"] = probe
        print(json.dumps(theirs), flush=True)
        print(json.dumps({"case": f"tiny, {args.limit} problems, n={args.n}, t={args.temperature}, {args.new} new",
                          "ours_s": ours["seconds"], "hf_s": theirs["seconds"],
                          "ratio": round(theirs["seconds"] / ours["seconds"], 2), "ours_cpu_s": ours["cpu_s"],
                          "hf_cpu_s": theirs["cpu_s"], "cpu_ratio": round(theirs["cpu_s"] / ours["cpu_s"], 2)}))


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
