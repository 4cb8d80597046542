"""Export the trained embedded model into checkpoints/<name>/ (the last step of scripts/train_default_model.sh).

    python -m checkpoints.build --stage runs/tiny-python --stage runs/tiny-python-stage2 \
        --tokenizer data/tiny-python/tokenizer --corpus data/tiny-python/corpus --out checkpoints/tiny-python

Writes, into --out:
  config.json, model.safetensors (bf16), tokenizer files   the model (HF format; shipped with the package)
  training/stage<i>-config.yaml, training/stage<i>-metrics.jsonl
                                                         each stage's resolved config and metrics log
  training/corpus-manifest.json                           the corpus' sources, versions and file hashes
  training/summary.json                                   parameter count, tokens seen, held-out loss/ppl
The last stage's run directory must hold `hf/` (trained with run.export_hf=true).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import shutil
import sys


def read_metrics(run_dir: pathlib.Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        raise OSError(f"{path}: metrics log not found (is {run_dir} a finished training run?)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def stage_summary(run_dir: pathlib.Path) -> dict:
    import yaml

    cfg = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    rows = read_metrics(run_dir)
    evals = [r for r in rows if "eval_loss" in r]
    if not evals:
        raise ValueError(f"{run_dir}/metrics.jsonl: no eval rows (held-out loss) logged")
    steps = cfg["run"]["steps"]
    tokens = steps * cfg["run"]["global_batch"] * cfg["data"]["seq_len"]
    return {"run": str(run_dir), "steps": steps, "tokens": tokens, "lr": cfg["optim"]["lr"],
            "seed": cfg["run"]["seed"], "init_from": cfg["run"].get("init_from"),
            "final_train_loss": next(r["loss"] for r in reversed(rows) if "loss" in r),
            "final_eval_loss": evals[-1]["eval_loss"], "final_eval_ppl": evals[-1]["eval_ppl"],
            "eval_tokens": evals[-1]["eval_tokens"]}


def export(stages: list[pathlib.Path], tokenizer: pathlib.Path, corpus: pathlib.Path, out: pathlib.Path) -> dict:
    from jaxformer.commands.convert import convert
    from jaxformer.config import param_count
    from jaxformer import hf

    last_hf = stages[-1] / "hf"
    if not (last_hf / hf.CONFIG_FILE).is_file():
        raise OSError(f"{last_hf}: no exported model; rerun the last stage with run.export_hf=true")
    convert(str(last_hf), str(out), dtype="bfloat16", tokenizer=str(tokenizer), overwrite=True)
    training = out / "training"
    if training.exists():
        shutil.rmtree(training)
    training.mkdir()
    summaries = []
    for i, run_dir in enumerate(stages, 1):
        shutil.copyfile(run_dir / "config.yaml", training / f"stage{i}-config.yaml")
        shutil.copyfile(run_dir / "metrics.jsonl", training / f"stage{i}-metrics.jsonl")
        summaries.append(stage_summary(run_dir))
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    shutil.copyfile(corpus / "manifest.json", training / "corpus-manifest.json")
    cfg = hf.read_config(out)
    weights = out / hf.SAFETENSORS_FILE
    summary = {
        "params": param_count(cfg), "vocab_size": cfg.vocab_size, "n_layer": cfg.n_layer, "n_embd": cfg.n_embd,
        "n_head": cfg.n_head, "n_positions": cfg.n_positions, "weights_dtype": "bfloat16",
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "tokens_seen": sum(s["tokens"] for s in summaries), "stages": summaries,
        "corpus": {"sources": [{k: s[k] for k in ("name", "version")} for s in manifest["sources"]],
                   "python": manifest["python"], "splits": manifest["splits"]},
        "disk_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
    }
    (training / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checkpoints.build", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", action="append", required=True, type=pathlib.Path,
                        help="training run directory, in stage order (repeatable); the last holds hf/")
    parser.add_argument("--tokenizer", required=True, type=pathlib.Path)
    parser.add_argument("--corpus", required=True, type=pathlib.Path, help="python -m checkpoints.corpus output")
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args(argv)
    try:
        summary = export(args.stage, args.tokenizer, args.corpus, args.out)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    last = summary["stages"][-1]
    print(f"wrote {args.out}: {summary['params'] / 1e6:.2f}M params, {summary['tokens_seen'] / 1e6:.2f}M tokens seen, "
          f"held-out ppl {last['final_eval_ppl']:.1f}, {summary['disk_bytes'] / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
