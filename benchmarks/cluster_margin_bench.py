#!/usr/bin/env python
"""Cluster-Margin: exact average linkage against the nearest-neighbour-graph linkage, cost and batch.

    python benchmarks/cluster_margin_bench.py                     # k = 100, 300, 1000; m = 0 (exact), 10, 20
    python benchmarks/cluster_margin_bench.py --ks 100 --neighbors 0 10 --seeds 0 1

One process. A synthetic pool of N samples (L labels, beta-distributed probabilities as in
acquisition_bench.py) whose D = 384 embeddings come from a seeded mixture of --components Gaussian
groups (so there are clusters to find; iid noise has none and any two clusterings of it disagree).
For each batch size k and each linkage (``neighbors`` m = 0: scikit-learn's exact average linkage
over all factor * k candidates; m > 0: average linkage restricted to the symmetric m-nearest-neighbour
graph) it times ``ClusterMargin(neighbors=m).select`` (wall and process CPU seconds, since the
machine is shared), records the peak memory the call allocated (tracemalloc: numpy buffers and
Python objects, not what C code allocates itself) and the growth of the process's peak resident
memory (VmHWM, reset before each call through /proc/self/clear_refs where the kernel allows it), and
the overlap |A n B| / k of the selected rows with the exact linkage's batch on the same pool, for each
--seeds value (pool seed = random_state).
--jitter s adds a row: the exact linkage on the embeddings plus N(0, s^2) noise, the exact batch's own
sensitivity, against which the graph's overlap can be read. Results: BENCHMARKS.md, "Cluster-Margin: exact or
nearest-neighbour linkage".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlal.acquisition import AcquisitionInput, ModelOutputs  # noqa: E402
from mlal.acquisition.diversity import ClusterMargin  # noqa: E402


def make_inputs(n: int, n_labels: int, dim: int, components: int, seed: int) -> AcquisitionInput:
    rng = np.random.default_rng(seed)
    probs = rng.beta(0.3, 2.0, size=(n, n_labels)).astype(np.float32)
    centres = rng.normal(size=(components, dim)) * 3.0
    embeddings = (centres[rng.integers(0, components, n)] + rng.normal(size=(n, dim))).astype(np.float32)
    return AcquisitionInput(pool=ModelOutputs(probs=probs, embeddings=embeddings), pool_ids=np.arange(n),
                            labeled_targets=np.zeros((0, n_labels), dtype=np.float32))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(strategy: ClusterMargin, inputs: AcquisitionInput, k: int, seed: int):
    reset = _reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    positions = strategy.select(inputs, k, random_state=seed).positions
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = (_status_kib("VmHWM") - rss_before) / 1024 if reset else float("nan")
    return positions, wall, cpu, peak / 2**20, rss_growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ks", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--neighbors", type=int, nargs="+", default=[0, 10, 20], help="0: exact linkage")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--labels", type=int, default=28)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--jitter", type=float, default=0.0,
                        help="> 0: add a row, the exact linkage on the embeddings plus N(0, jitter^2) noise "
                             "(how much the exact batch itself moves under a tiny perturbation)")
    parser.add_argument("--out", default="/tmp/cluster_margin_bench.json")
    args = parser.parse_args()

    warm = make_inputs(300, 5, 8, 4, 0)
    for m in args.neighbors:  # imports and first-call costs are not what we measure
        ClusterMargin(neighbors=m).select(warm, 10)
    rows = []
    for k in args.ks:
        for seed in args.seeds:
            inputs = make_inputs(args.n, args.labels, args.dim, args.components, seed)
            exact = None
            for m in args.neighbors:
                strategy = ClusterMargin(factor=args.factor, neighbors=m)
                positions, wall, cpu, peak, rss = measure(strategy, inputs, k, seed)
                if m == 0:
                    exact = set(positions.tolist())
                overlap = len(exact & set(positions.tolist())) / k if exact is not None else float("nan")
                rows.append({"k": k, "candidates": min(args.factor * k, args.n), "neighbors": m, "seed": seed,
                             "wall_s": wall, "cpu_s": cpu, "peak_mib": peak, "rss_growth_mib": rss,
                             "overlap_with_exact": overlap, "load": os.getloadavg()[0]})
                print(json.dumps(rows[-1]), flush=True)
            if args.jitter > 0:
                noise = np.random.default_rng(seed + 1).normal(scale=args.jitter, size=inputs.pool.embeddings.shape)
                jittered = dataclasses.replace(inputs, pool=dataclasses.replace(
                    inputs.pool, embeddings=(inputs.pool.embeddings + noise).astype(np.float32)))
                positions, wall, cpu, peak, rss = measure(ClusterMargin(factor=args.factor, neighbors=0), jittered, k,
                                                          seed)
                rows.append({"k": k, "candidates": min(args.factor * k, args.n), "neighbors": -1, "seed": seed,
                             "wall_s": wall, "cpu_s": cpu, "peak_mib": peak, "rss_growth_mib": rss,
                             "overlap_with_exact": len(exact & set(positions.tolist())) / k,
                             "load": os.getloadavg()[0]})
                print(json.dumps(rows[-1]), flush=True)
            del inputs

    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}, load average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\ncommand: python {' '.join(sys.argv)}\nmachine: {machine}\npool N = {args.n}, L = {args.labels}, "
          f"D = {args.dim}, {args.components}-component Gaussian mixture; factor {args.factor}; seeds {args.seeds}; "
          "seconds and MiB: median over seeds; overlap: min-max over seeds\n")
    print("| k | candidates | linkage | wall s | CPU s | tracemalloc MiB | peak RSS growth MiB | overlap with exact |")
    print("|---|---|---|---|---|---|---|---|")
    for k in args.ks:
        for m in [*args.neighbors, *([-1] if args.jitter > 0 else [])]:
            cell = [r for r in rows if r["k"] == k and r["neighbors"] == m]
            med = {key: float(np.median([r[key] for r in cell])) for key in ("wall_s", "cpu_s", "peak_mib",
                                                                             "rss_growth_mib")}
            overlaps = [r["overlap_with_exact"] for r in cell]
            name = {0: "exact", -1: f"exact, embeddings + N(0, {args.jitter:g}^2)"}.get(m, f"kNN m={m}")
            print(f"| {k} | {cell[0]['candidates']} | {name} | {med['wall_s']:.2f} | {med['cpu_s']:.2f} | "
                  f"{med['peak_mib']:.0f} | {med['rss_growth_mib']:.0f} | "
                  f"{min(overlaps):.2f}-{max(overlaps):.2f} |")
    Path(args.out).write_text(json.dumps({"command": sys.argv, "machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
