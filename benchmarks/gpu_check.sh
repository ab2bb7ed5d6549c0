#!/usr/bin/env bash
# Where a GPU is present: pool-scoring throughput in fp32 and bf16, MC dropout T = 10, and one fast
# round on GoEmotions; writes benchmarks/results/gpu_check.json with the device name.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
exec "$PY" benchmarks/gpu_check.py "$@"
