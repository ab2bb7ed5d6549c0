#!/usr/bin/env bash
# Render every figure from the runs under a folder (default: results/) into results/visualizations.
# Usage: scripts/generate_visuals.sh [RUNS_FOLDER] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m mlal.plotting --runs "${1:-results}" --outdir "${2:-results/visualizations}"
