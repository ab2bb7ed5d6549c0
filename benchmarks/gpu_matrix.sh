#!/usr/bin/env bash
# The Reuters-21578 label-efficiency matrix (BENCHMARKS.md, "Label efficiency") on a lent GPU machine, in one call
# of a few minutes: runs side by side on the GPU (benchmarks/parallel_runs.py) until $DEADLINE seconds, then the
# summary tables and figures, then the run folders packed into parts under $OUT (benchmarks/pack_runs.py).
#
# The machine has no internet and no copy of ../shared, so an assets folder travels with the call (the device
# tool's `carry`), prepared here with benchmarks/gpu_assets.sh: wheels of what its Python lacks, MiniLM's weights
# saved in float16 (the float32 file is over the transfer limit; runs load them into float32) and the Reuters JSONL.
#   run: bash benchmarks/gpu_matrix.sh      (carry: .gpu)
# Back here: cat reuters_runs.tar.part* | tar xz -C results/label_efficiency (and reuters_summary.tar.part0)
set -uo pipefail
cd "$(dirname "$0")/.."
ASSETS=${ASSETS:-.gpu}
OUT=${OUT:-results/gpu_out}
DEADLINE=${DEADLINE:-400}
JOBS=${JOBS:-14}
R=${RESULTS:-results/label_efficiency}
mkdir -p "$OUT" "$R"
if ls "$ASSETS"/whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$ASSETS"/whl/*.whl || exit 2
    export PYTHONPATH=/tmp/site
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, transformers, datasets, sklearn; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
'transformers', transformers.__version__, 'datasets', datasets.__version__, 'sklearn', sklearn.__version__)" || exit 2
python3 benchmarks/parallel_runs.py --config configs/bench_reuters.yaml --output_dir "$R/reuters" \
    --strategies "random,margin,beal,badge;entropy,cvirs,bald,coreset" --seeds 1,2,3 --jobs "$JOBS" \
    --deadline "$DEADLINE" --reference_epochs 3 --model "$ASSETS/minilm" --dataset "$ASSETS/data/modapte90" \
    ${EXTRA:-} 2>&1 | tee "$OUT/parallel_runs.log"
# The runs first (they are what a cut-short call must not lose), then the tables and figures made from them.
python3 benchmarks/pack_runs.py --root "$R" --runs reuters reuters_full_data --out "$OUT" --name reuters_runs \
    --part_mib 15 --total_mib 50
reference=()
[ -d "$R/reuters_full_data/random/seed1" ] && reference=(--reference "$R/reuters_full_data")
python3 benchmarks/label_efficiency.py summarize --runs "$R/reuters" --finished_only "${reference[@]}" \
    --out "$R/reuters_summary" > "$OUT/summary.log" 2>&1
python3 benchmarks/pack_runs.py --root "$R" --runs reuters_summary --out "$OUT" --name reuters_summary --part_mib 15 \
    --total_mib 15
grep -h "^done in" "$OUT/parallel_runs.log"
