#!/usr/bin/env python
"""Render the diagnostics gallery from saved runs (a thin wrapper around `python -m mlal.plotting`).

    python scripts/plot_from_eval.py --runs results/ --outdir results/visualizations
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlal.plotting.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
