#!/usr/bin/env python
"""CVIRS before and after the speed-up, on the same synthetic pools (acquisition_bench.make_inputs).

    OPENBLAS_NUM_THREADS=1 python benchmarks/cvirs_speed_bench.py

"Before" is the implementation up to commit 995ae22, copied here: np.unique(axis=0) on the (N, L)
predicted label matrix, one scipy rankdata per label, entropies of the contingency counts per pair.
"After" is acquisition's cvirs (packed-bit unique, one argsort of all labels, table lookups).
Reports CPU and wall seconds of one score call each, and the largest difference between the scores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from acquisition_bench import make_inputs  # noqa: E402

from mlal.acquisition import get_strategy  # noqa: E402


def _entropy_of_counts(*counts, total):
    out = 0.0
    for count in counts:
        q = count / total
        out = out - np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    return out


def _distance_before(a, b):
    n_labels = a.shape[1]
    a, b = a.astype(np.float64), b.astype(np.float64)
    n11 = a @ b.T
    n10, n01 = a.sum(1)[:, None] - n11, b.sum(1)[None, :] - n11
    n00 = n_labels - n11 - n10 - n01
    h_a = _entropy_of_counts(n11 + n10, n01 + n00, total=n_labels)
    h_b = _entropy_of_counts(n11 + n01, n10 + n00, total=n_labels)
    h_ab = _entropy_of_counts(n11, n10, n01, n00, total=n_labels)
    distance = np.divide(2 * h_ab - h_a - h_b, h_ab, out=np.zeros_like(h_ab), where=h_ab > 1e-12)
    return np.where(n10 + n01 == n_labels, 1.0, distance)


def cvirs_before(probs, labeled_targets):
    n = len(probs)
    uncertainty = np.zeros(n)
    for j in range(probs.shape[1]):
        uncertainty += (n - rankdata(np.abs(2.0 * probs[:, j] - 1.0), method="average")) / max(n - 1, 1)
    uncertainty /= probs.shape[1]
    patterns, inverse = np.unique((probs > 0.5).astype(np.int8), axis=0, return_inverse=True)
    labeled, counts = np.unique(labeled_targets.astype(np.int8), axis=0, return_counts=True)
    weights = counts / counts.sum()
    mean_distance = np.concatenate([_distance_before(patterns[s:s + 1024], labeled) @ weights
                                    for s in range(0, len(patterns), 1024)])
    return uncertainty * mean_distance[np.ravel(inverse)]


def timed(function):
    cpu, wall = time.process_time(), time.perf_counter()
    result = function()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--labels", type=int, nargs="+", default=[28, 90])
    args = parser.parse_args()
    print(f"command: python {' '.join(sys.argv)}; N = {args.size}, 1,000 labeled\n")
    print("| L | before CPU s (wall) | after CPU s (wall) | speed-up CPU (wall) | max abs score difference |")
    print("|---|---|---|---|---|")
    for n_labels in args.labels:
        inputs = make_inputs(args.size, n_labels, 8, 1000)
        probs = inputs.pool.probs.astype(np.float64)
        before, cpu_b, wall_b = timed(lambda: cvirs_before(probs, inputs.labeled_targets))
        after, cpu_a, wall_a = timed(lambda: get_strategy("cvirs").score(inputs))
        print(f"| {n_labels} | {cpu_b:.2f} ({wall_b:.2f}) | {cpu_a:.2f} ({wall_a:.2f}) | {cpu_b / cpu_a:.1f}x "
              f"({wall_b / wall_a:.1f}x) | {np.abs(before - after).max():.1e} |", flush=True)


if __name__ == "__main__":
    main()
