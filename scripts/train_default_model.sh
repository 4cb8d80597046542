#!/usr/bin/env bash
# Retrain the embedded default model checkpoints/tiny-python from scratch, with fixed seeds.
#   scripts/train_default_model.sh        (from the repository root; ~45 min on a 2-core CPU)
# Intermediate files go to data/tiny-python/ and runs/ (git-ignored). Each step resumes or is skipped
# when rerun: data prepare keeps a complete output with the same settings, training continues from its
# newest checkpoint. The corpus comes from this environment's Python; its versions are in the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
D=data/tiny-python
[ -f "$D/corpus/manifest.json" ] || python -m checkpoints.corpus --out "$D/corpus"
[ -f "$D/tokenizer/tokenizer.json" ] || \
  jaxformer tokenizer train --corpus "$D/corpus/train.jsonl" --vocab-size 4096 --out "$D/tokenizer"
# same seed and fraction as the corpus split (checkpoints/corpus.py), so the split is reproduced exactly
jaxformer data prepare --source "$D/corpus/train.jsonl" "$D/corpus/val.jsonl" --tokenizer "$D/tokenizer" \
  --seq-len 512 --out "$D/prepared" --val-fraction 0.02 --seed 0 --workers 2
jaxformer train --config configs/tiny-python.yaml
jaxformer train --config configs/tiny-python-stage2.yaml run.export_hf=true
python -m checkpoints.build --stage runs/tiny-python --stage runs/tiny-python-stage2 \
  --tokenizer "$D/tokenizer" --corpus "$D/corpus" --out checkpoints/tiny-python
