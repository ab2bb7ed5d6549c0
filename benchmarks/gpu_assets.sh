#!/usr/bin/env bash
# Prepares .gpu/, the folder benchmarks/gpu_matrix.sh needs on a lent GPU machine (carry it with the call):
#   .gpu/whl      wheels of what the machine's Python 3.12 lacks (datasets and its dill/multiprocess, iterative-stratification)
#   .gpu/minilm   MiniLM-L6 with its weights saved in float16 (45 MB: the float32 file, 87 MB, is over the 64 MiB
#                 transfer limit); runs load them into float32 (mlal/modeling.py)
#   .gpu/data     the Reuters-21578 ModApte JSONL and the GoEmotions TSVs from ../shared/data
# Needs pip's access to PyPI and the project's .venv. The folder is ignored by git (.git/info/exclude).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
mkdir -p .gpu/whl .gpu/minilm .gpu/data
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl \
    datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 iterative-stratification==0.1.9
"$PY" - <<'PYTHON'
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from mlal.modeling import resolve_model_path

source, target = Path(resolve_model_path("minilm-l6")), Path(".gpu/minilm")
for path in source.iterdir():
    if path.is_file() and path.name != "model.safetensors":
        shutil.copy2(path, target / path.name)
weights = load_file(source / "model.safetensors")
save_file({name: tensor.half() if tensor.is_floating_point() else tensor for name, tensor in weights.items()},
          target / "model.safetensors", metadata={"format": "pt"})
PYTHON
cp -r ../shared/data/reuters21578/modapte90 ../shared/data/goemotions .gpu/data/
du -sh .gpu
