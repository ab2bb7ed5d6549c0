#!/usr/bin/env bash
# [bench-labels] step 1: which training recipe keeps the learning curve at less cost?
# The slice: GoEmotions, random and entropy, seeds 1 and 2, 100 -> 500 labels (+100 per round), a random
# (label-free) initial set. One resumable sweep per recipe; rerun the same command to continue.
# Compare with: python benchmarks/label_efficiency.py summarize --runs OUT/<recipe> --out OUT/<recipe>/summary
# Costs: seconds.train and train_cpu_seconds of each round record. Run it on a quiet machine: with other jobs
# on the same 2 cores both wall AND CPU seconds inflate 4-10x (measured: 1,210 CPU s vs 138 CPU s for the
# same 200-label round).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/recipe_slice}
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
COMMON=(--config configs/fast_tuned.yaml --dataset ../shared/data/goemotions --strategy random,entropy --seed 1,2
        --initial_size 100 --initial_sampling random --query_size 100 --rounds 5 --pool_subsample 2000
        --test_subsample 1000 --validation_subsample 1000 --disable_tqdm true)
# R0: fast_tuned as it is (15 epochs from the pretrained weights every round).
$PY run_active_learning.py "${COMMON[@]}" --output_dir "$OUT/R0_baseline"
# R1: validation mAP after each epoch, best model kept, stop after 3 epochs without improvement (max 15).
$PY run_active_learning.py "${COMMON[@]}" --output_dir "$OUT/R1_early_stop" --eval_strategy epoch \
    --save_strategy best --load_best_model_at_end true --metric_for_best_model mean_average_precision \
    --early_stopping_patience 3
# R2: a fixed budget of 125 optimizer steps (2,000 examples) per round, whatever the labeled-set size.
$PY run_active_learning.py "${COMMON[@]}" --output_dir "$OUT/R2_steps125" --max_steps 125
# R3: continue from the previous round's weights, 5 epochs per round.
$PY run_active_learning.py "${COMMON[@]}" --output_dir "$OUT/R3_warm5" --continue_from_previous_round true \
    --num_train_epochs 5
# R5: warm start with 8 epochs per round, bf16 autocast on the CPU (training, evaluation and pool scoring).
$PY run_active_learning.py "${COMMON[@]}" --output_dir "$OUT/R5_warm8_bf16" --continue_from_previous_round true \
    --num_train_epochs 8 --bf16 true --use_cpu true
# R6 (adopted by configs/bench_*.yaml): round 0 as R0 (15 epochs), later rounds warm-started for 8 epochs; bf16.
$PY run_active_learning.py "${COMMON[@]}" --output_dir "$OUT/R6_r0full_warm8_bf16" --continue_from_previous_round true \
    --continued_round_epochs 8 --bf16 true
