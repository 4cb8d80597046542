#!/usr/bin/env bash
# CodeM pipeline demo on a CPU (docs/codem-demo.md): instruction sets built from code this machine has
# (disjoint from HumanEval-X, checked), three tiny instruction-tuned variants of checkpoints/tiny-python
# (a few CPU minutes each), then `humaneval matrix` over base + variants. The numbers only demonstrate
# the pipeline. Everything goes to $CODEM_DEMO_DIR (default runs/codem-demo, git-ignored);
# each step is skipped or resumed when rerun.
#   scripts/codem_demo.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${CODEM_DEMO_DIR:-$PWD/runs/codem-demo}
LANGUAGES=${CODEM_DEMO_LANGUAGES:-python,js,cpp,java,go,rust,ts,c}
LIMIT=${CODEM_DEMO_LIMIT:-40}
N="nice -n 15"
build() {  # language, max records, training steps (8 x 512-token rows each)
  local l=$1
  [ -f "$D/data/$l/manifest.json" ] || $N python -m checkpoints.instruct_sets --language "$l" --out "$D/data/$l" \
    --max-records "$2"
  [ -f "$D/data/$l/prepared/index.json" ] || $N jaxformer data prepare --source "$D/data/$l/train.jsonl" \
    --tokenizer checkpoints/tiny-python --seq-len 512 --format instruct --out "$D/data/$l/prepared" \
    --val-fraction 0.05 --seed 0 --workers 1
  [ -f "$D/models/$l/hf/config.json" ] || $N jaxformer train --config configs/codem-tiny.yaml \
    data.path="$D/data/$l/prepared" run.out_dir="$D/models/$l" run.steps="$3"
  # the trainer exports weights + config; the tokenizer is the base model's
  cp checkpoints/tiny-python/tokenizer.json checkpoints/tiny-python/tokenizer_config.json "$D/models/$l/hf/"
}
build python 3000 60  # all 1129 stdlib functions that pass the filters (~0.8 epochs)
build js 3000 40      # all 256 npm / Debian JS functions (~2.3 epochs)
build go 1000 40      # 1000 of the Go functions, evenly spread (~0.6 epochs)
MODELS="tiny-python,python-instruct=$D/models/python/hf,js-instruct=$D/models/js/hf,go-instruct=$D/models/go/hf"
[ -f "$D/instruct_loss.json" ] || $N python -m checkpoints.instruct_loss --models "$MODELS" --out "$D/instruct_loss.json" \
  --data "python=$D/data/python/prepared,js=$D/data/js/prepared,go=$D/data/go/prepared"
$N humaneval matrix --models "$MODELS" --languages "$LANGUAGES" --out "$D/matrix" --base tiny-python --instruct \
  --max-new-tokens 128 --limit "$LIMIT" --workers 2 --no-progress
# what is committed: the report, the sets' manifests, the training configs and logs (no weights, no data)
R=docs/codem-demo
mkdir -p "$R"
cp "$D"/matrix/{report.md,summary.json,pass_at_1.csv,delta.csv,corr_languages.csv,corr_models.csv,*.png} "$R/"
cp "$D/instruct_loss.json" "$R/"
for l in python js go; do
  cp "$D/data/$l/manifest.json" "$R/instruct-set-$l.json"
  cp "$D/models/$l/metrics.jsonl" "$R/train-$l-metrics.jsonl"
  cp "$D/models/$l/config.yaml" "$R/train-$l-config.yaml"
done
