#!/usr/bin/env bash
# The small runs behind the README's figure section: GoEmotions and Reuters-21578 (ModApte, 90 labels),
# random and entropy, seeds 1 then 2, three rounds (100 -> 200 labels), 3 epochs, 64 tokens, 300-example
# pool and validation subsamples, 500-example test subsample: small enough for a shared 2-core CPU, far too
# small to rank strategies. Sequential (one run at a time). Usage: scripts/readme_gallery_runs.sh [OUT]   then
#   python -m mlal.plotting --runs OUT --outdir docs/gallery
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-results/readme_gallery}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
for seed in 1 2; do
  for dataset in goemotions reuters21578/modapte90; do
    for strategy in random entropy; do
      name=$(basename "$(dirname "$dataset")")
      [ "$dataset" = goemotions ] && name=goemotions
      for attempt in 1 2 3; do  # an interrupted run resumes where it stopped when rerun
        "$PY" run_active_learning.py --config configs/fast_tuned.yaml --dataset "../shared/data/$dataset" \
          --strategy "$strategy" --seed "$seed" --rounds 3 --initial_size 100 --query_size 50 --num_train_epochs 3 \
          --max_length 64 --pool_subsample 300 --validation_subsample 300 --test_subsample 500 \
          --disable_tqdm true --output_dir "$OUT/$name/$strategy/seed$seed" && break
      done
    done
  done
done
