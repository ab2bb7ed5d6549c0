#!/usr/bin/env bash
# The runs behind the README's figure section: GoEmotions (28 labels) and Reuters-21578 ModApte (90 labels),
# random and entropy, seeds 1 and 2, MiniLM-L6 with configs/fast_tuned.yaml, 8 epochs per round, each from the
# previous round's weights, bf16 autocast (recipe R5 of BENCHMARKS.md's slice; the benchmark adopted R6), a random
# label-free initial set of 100, +100 per round, a fresh 2,000-example pool subsample each round, stratified
# 1,000-example test and validation subsets. GoEmotions runs 5 rounds (100 -> 500 labels; the same runs as the
# recipe slice's R5), Reuters 3 rounds (100 -> 300 labels: its documents are ~6x longer). Two seeds are far
# too few to rank strategies: the figures show what each diagnostic is for.
# Resumable: rerun the same command after an interruption. Usage: scripts/readme_gallery_runs.sh [OUT]   then
#   python -m mlal.plotting --runs OUT --outdir docs/gallery
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-results/readme_gallery}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
COMMON=(--config configs/fast_tuned.yaml --strategy random,entropy --seed 1,2 --initial_size 100
        --initial_sampling random --query_size 100 --pool_subsample 2000 --test_subsample 1000
        --validation_subsample 1000 --disable_tqdm true --continue_from_previous_round true --num_train_epochs 8
        --bf16 true --use_cpu true)
"$PY" run_active_learning.py "${COMMON[@]}" --dataset ../shared/data/goemotions --rounds 5 \
    --output_dir "$OUT/goemotions"
"$PY" run_active_learning.py "${COMMON[@]}" --dataset ../shared/data/reuters21578/modapte90 --rounds 3 \
    --output_dir "$OUT/reuters21578"
