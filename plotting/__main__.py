"""python -m mlal.plotting --runs <run folders or parents> --outdir results/visualizations"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlal.plotting",
        description="Render the diagnostics gallery from finished runs (no retraining).",
    )
    parser.add_argument("--runs", nargs="+", required=True, help="Run folders, or folders to search for runs.")
    parser.add_argument("--outdir", default="results/visualizations", help="Where PNG/SVG figures and tables go.")
    parser.add_argument("--target_f1", type=float, default=0.5, help="Target micro-F1 for 'labels needed' in the table.")
    args = parser.parse_args(argv)

    from mlal.run_format import RunFormatError

    from .gallery import make_gallery, runs_without_arrays
    from .runs import find_runs

    start = time.perf_counter()
    try:
        runs = find_runs(args.runs)
    except FileNotFoundError as exc:
        print(f"error: {exc}; pass run folders (holding statistics.json) or a folder above them", file=sys.stderr)
        return 2
    except RunFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not runs:
        print(f"error: no finished round under {' '.join(args.runs)}; run run_active_learning.py first", file=sys.stderr)
        return 2
    try:
        paths = make_gallery(runs, args.outdir, args.target_f1)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(runs)} run(s) -> {len(paths)} files in {args.outdir} ({time.perf_counter() - start:.1f} s)")
    lean = runs_without_arrays(runs)
    if lean:
        print(f"note: {len(lean)} run(s) without their eval/ arrays got only the curves from statistics.json (no "
              f"per-run figures, no batch overlap): {', '.join(str(run.path) for run in lean[:3])}"
              f"{' ...' if len(lean) > 3 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
