#!/usr/bin/env bash
# A label-efficiency matrix (BENCHMARKS.md, "Label efficiency") on a lent GPU machine, in one call of a few minutes:
# the runs of a plan side by side on the GPU (benchmarks/parallel_runs.py) until $DEADLINE seconds, then the run
# folders packed into parts under $OUT (benchmarks/pack_runs.py). Plans: benchmarks/gpu_plans/*.json
# (reuters.json: the Reuters matrix, run 2026-11-29; goemotions_remedies.json: the GoEmotions remedies).
#
# The machine has no internet and no copy of ../shared, so an assets folder travels with the call (the device
# tool's `carry`), prepared here with benchmarks/gpu_assets.sh: wheels of what its Python lacks, MiniLM's weights
# saved in float16 (the float32 file is over the transfer limit; runs load them into float32) and the datasets.
#   run: PLAN=benchmarks/gpu_plans/reuters.json bash benchmarks/gpu_matrix.sh      (carry: .gpu)
# A second call with the same plan, on the same warm machine, resumes the runs the deadline stopped.
# Back here: cat NAME_runs.tar.part* | tar xz -C results/label_efficiency, then label_efficiency.py summarize.
set -uo pipefail
cd "$(dirname "$0")/.."
ASSETS=${ASSETS:-.gpu}
OUT=${OUT:-results/gpu_out}
PLAN=${PLAN:-benchmarks/gpu_plans/reuters.json}
NAME=$(basename "$PLAN" .json)
DEADLINE=${DEADLINE:-400}
JOBS=${JOBS:-14}
# The plan's run folders share one parent (checked): the consoles go there, and so does the packing.
read -r R folders < <(python3 -c "import json, pathlib, sys
dirs = [pathlib.Path(g['output_dir']) for g in json.load(open(sys.argv[1]))['groups']]
assert len({d.parent for d in dirs}) == 1, 'the plan output_dir folders must share one parent folder'
print(dirs[0].parent, *[d.name for d in dirs])" "$PLAN") || { echo "error: cannot read the plan $PLAN" >&2; exit 2; }
read -ra extra <<< "${EXTRA:-}"   # options for every run, split on spaces
read -ra folders <<< "$folders"
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
python3 benchmarks/parallel_runs.py --plan "$PLAN" --output_dir "$R/console_$NAME" --jobs "$JOBS" \
    --deadline "$DEADLINE" "${extra[@]}" 2>&1 | tee "$OUT/parallel_runs.log"
runs_rc=${PIPESTATUS[0]}
python3 benchmarks/pack_runs.py --root "$R" --runs "${folders[@]}" "console_$NAME" --out "$OUT" \
    --name "${NAME}_runs" --part_mib 15 --total_mib 56 --max_parts 6   # with the log: 7 of the 8 files back
pack_rc=$?
echo "parallel_runs exit $runs_rc, pack_runs exit $pack_rc"
[ "$runs_rc" -eq 0 ] && [ "$pack_rc" -eq 0 ]
