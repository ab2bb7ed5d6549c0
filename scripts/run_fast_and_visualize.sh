#!/usr/bin/env bash
# Run the fast config (tuned values by default) on a dataset, then render all figures.
# Usage: scripts/run_fast_and_visualize.sh [DATASET] [CONFIG] [extra run_active_learning.py options...]
#   scripts/run_fast_and_visualize.sh ../shared/data/goemotions configs/fast_tuned.yaml --rounds 3
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATASET=${1:-../shared/data/goemotions}
CONFIG=${2:-configs/fast_tuned.yaml}
shift $(( $# > 2 ? 2 : $# ))
OUT=results/fast_and_visualize
"$PY" run_active_learning.py --config "$CONFIG" --dataset "$DATASET" --output_dir "$OUT/run" --overwrite "$@"
"$PY" -m mlal.plotting --runs "$OUT/run" --outdir "$OUT/visualizations"
