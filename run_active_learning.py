#!/usr/bin/env python
"""Run a multi-label active-learning experiment from a clone (a thin wrapper around :func:`mlal.cli.main`).

    python run_active_learning.py --config configs/demo.yaml
    python run_active_learning.py --config configs/fast.yaml --dataset ../shared/data/goemotions \
        --strategy entropy --seed 1
    python run_active_learning.py --list-strategies
    python run_active_learning.py --config configs/demo.yaml --strategy random,entropy --seed 1,2,3   # a sweep
    python run_active_learning.py annotate --unlabeled corpus.jsonl --label_names labels.txt --project_dir proj/
        # annotate mode: people label the batches (see `annotate --help` and the README)

Installed (``pip install .``), the same command line is ``mlal ...`` or ``python -m mlal ...``.
Every option can come from the YAML file given with --config and be overridden on the command
line; `--help` lists them all (Trainer's TrainingArguments included).
"""

import sys

from mlal.cli import main

if __name__ == "__main__":
    sys.exit(main())
