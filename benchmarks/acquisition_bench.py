#!/usr/bin/env python
"""Acquisition speed and memory on synthetic pools.

    python benchmarks/acquisition_bench.py                       # N = 10k, 100k, 1M; L = 28, 90
    python benchmarks/acquisition_bench.py --sizes 10000 --labels 28 --strategies entropy bald

For each strategy, pool size N and label count L it times ``strategy.select`` (k = 100) on
pre-built inputs (T = 10 MC statistics, D = 384 embeddings, 1,000 labeled examples) and records
the peak memory the call allocated (tracemalloc, which sees numpy's buffers). Prints a Markdown
table with the machine and command, and writes JSON beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlal.acquisition import STRATEGIES, AcquisitionInput, MCDropoutStats, ModelOutputs, get_strategy  # noqa: E402

GOALS = {  # seconds at N = 100k, L = 28 (BENCHMARKS.md explains them)
    **{name: 1.0 for name in ("entropy", "margin", "lci", "mmc", "adaptive", "bald", "beal")},
    "cvirs": 10.0, "badge": 60.0, "coreset": 60.0,
}


def make_inputs(n: int, n_labels: int, dim: int, n_labeled: int, seed: int = 0) -> AcquisitionInput:
    rng = np.random.default_rng(seed)
    probs = rng.beta(0.3, 2.0, size=(n, n_labels)).astype(np.float32)
    mean_probs = np.clip(probs + rng.normal(0, 0.02, size=probs.shape), 1e-4, 1 - 1e-4)
    entropy = -(mean_probs * np.log(mean_probs) + (1 - mean_probs) * np.log1p(-mean_probs)) * 0.95
    confidence = np.maximum(mean_probs, 1 - mean_probs) * 0.98
    mc = MCDropoutStats(10, mean_probs=mean_probs, mean_entropy=entropy, mean_confidence=confidence,
                        mean_set_confidence=confidence.prod(axis=1), positive_votes=np.round(mean_probs * 10) / 10)
    labeled_targets = (rng.random((n_labeled, n_labels)) < 1.2 / n_labels).astype(np.float32)
    labeled_targets[np.arange(n_labeled), rng.integers(0, n_labels, n_labeled)] = 1
    labeled = ModelOutputs(
        probs=rng.beta(0.3, 2.0, size=(n_labeled, n_labels)).astype(np.float32),
        embeddings=rng.normal(size=(n_labeled, dim)).astype(np.float32),
    )
    pool = ModelOutputs(probs=probs, embeddings=rng.normal(size=(n, dim)).astype(np.float32), mc=mc)
    return AcquisitionInput(pool=pool, pool_ids=np.arange(n), labeled_targets=labeled_targets, labeled=labeled)


def measure(name: str, inputs: AcquisitionInput, k: int) -> tuple[float, float, float]:
    """(wall seconds, process CPU seconds, peak MiB allocated) of one ``select`` call."""
    strategy = get_strategy(name)
    tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    strategy.select(inputs, k, random_state=0)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, cpu, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--labels", type=int, nargs="+", default=[28, 90])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--out", default="benchmarks/results/acquisition.json")
    args = parser.parse_args()

    warm_up = make_inputs(300, 5, 8, 50)
    for name in args.strategies:  # imports and first-call costs are not what we measure
        get_strategy(name).select(warm_up, 10)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    rows = []
    for n_labels in args.labels:
        for n in args.sizes:
            inputs = make_inputs(n, n_labels, args.dim, args.labeled)
            for name in args.strategies:
                seconds, cpu, peak_mb = measure(name, inputs, args.k)
                rows.append({"strategy": name, "labels": n_labels, "n": n, "seconds": seconds, "cpu_seconds": cpu,
                             "peak_mb": peak_mb, "load": os.getloadavg()[0]})
                print(f"{name:<15} L={n_labels:<3} N={n:>9,}  {seconds:8.3f} s ({cpu:.3f} CPU-s)  {peak_mb:9.1f} MiB",
                      flush=True)
            del inputs

    print(f"\ncommand: python {' '.join(sys.argv)}\nmachine: {machine}; k = {args.k}, D = {args.dim}, "
          f"labeled = {args.labeled}, T = 10 (MC statistics pre-computed)\n")
    sizes = sorted(args.sizes)
    header = "| strategy | L | " + " | ".join(f"N={n:,} s (MiB)" for n in sizes)
    ratio = len(sizes) >= 2
    print(header + (f" | ratio {sizes[-1] // sizes[-2]}x N |" if ratio else " |") + " goal at 100k, L=28 |")
    print("|" + "---|" * (2 + len(sizes) + ratio + 1))
    for n_labels in args.labels:
        for name in args.strategies:
            cells = {r["n"]: r for r in rows if r["strategy"] == name and r["labels"] == n_labels}
            line = f"| {name} | {n_labels} | " + " | ".join(
                f"{cells[n]['seconds']:.3f} ({cells[n]['peak_mb']:.0f})" for n in sizes
            )
            if ratio:
                line += f" | {cells[sizes[-1]]['seconds'] / max(cells[sizes[-2]]['seconds'], 1e-9):.1f}"
            goal = GOALS.get(name)
            line += f" | {'<= %g s' % goal if goal and n_labels == 28 else ''} |"
            print(line)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": sys.argv, "machine": machine, "k": args.k, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
