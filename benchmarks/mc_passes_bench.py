#!/usr/bin/env python
"""How many MC-dropout passes T do bald and beal need? Agreement between two dropout seeds, and cost.

    python benchmarks/mc_passes_bench.py --dataset ../shared/data/goemotions

Fine-tunes MiniLM-L6 once (configs/fast_tuned.yaml settings) on --labeled GoEmotions examples, then
runs --passes MC-dropout passes over a pool of --pool examples for two dropout seeds, with full MC
dropout (every layer sampled) and partial (only the top --layers encoder layers and the head). The
per-pass probabilities are kept (T x N x L, here only, in the benchmark; the loop keeps running sums),
so the first T passes of a run are a valid T-pass run: for each prefix T in --prefixes the script
builds the MC-dropout statistics, scores the pool with bald and beal, and reports the overlap of the
two seeds' top --query batches, the Spearman correlation of their scores, and the cost in seconds
(the deterministic pass plus the first T passes, as measured).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from mlal.acquisition import AcquisitionInput, MCDropoutStats, ModelOutputs, get_strategy  # noqa: E402
from mlal.batching import PaddedBatches  # noqa: E402
from mlal.inference import _mc_pass_probabilities, dropout_only_train_mode, replay_lower_layers  # noqa: E402
from partial_mc_bench import fine_tuned_model_and_pool  # noqa: E402  (the same model-and-pool setup)


def per_pass_probabilities(model, dataset, tokenizer, passes: int, seed: int, layers: int, batch_size: int = 64):
    """(probs (N, L) deterministic, per-pass probs (T, N, L) float32, seconds per pass (T,), deterministic seconds).

    The same batching, seeding and partial-MC replay as mlal.inference.predict_outputs."""
    n, n_labels = len(dataset), model.config.num_labels
    probs = np.zeros((n, n_labels), dtype=np.float32)
    samples = np.zeros((passes, n, n_labels), dtype=np.float32)
    pass_seconds, deterministic_seconds = np.zeros(passes), 0.0
    model.eval()
    with torch.inference_mode(), replay_lower_layers(model, layers) as replayer:
        batches = PaddedBatches(dataset, tokenizer, batch_size)
        for batch_index, positions in enumerate(batches.batches):
            start = time.perf_counter()
            inputs = batches.batch(positions)
            with replayer[0]() if replayer else contextlib.nullcontext():
                probs[positions] = torch.sigmoid(model(**inputs).logits.float()).numpy()
            deterministic_seconds += time.perf_counter() - start
            torch.manual_seed(seed * 1_000_003 + batch_index)
            with dropout_only_train_mode(model), (replayer[1](1) if replayer else contextlib.nullcontext()):
                start = time.perf_counter()
                for t, pt in enumerate(_mc_pass_probabilities(model, inputs, passes, False)):
                    samples[t, positions] = pt.numpy()
                    now = time.perf_counter()
                    pass_seconds[t] += now - start
                    start = now
    return probs, samples, pass_seconds, deterministic_seconds


def mc_stats(samples: np.ndarray) -> MCDropoutStats:
    """The statistics mlal.inference accumulates, from (T, N, L) per-pass probabilities."""
    p = np.clip(samples.astype(np.float64), 1e-12, 1 - 1e-12)
    confidence = np.maximum(p, 1 - p)
    entropy = -(p * np.log(p) + (1 - p) * np.log1p(-p))
    return MCDropoutStats(mean_probs=p.mean(0), mean_entropy=entropy.mean(0), mean_confidence=confidence.mean(0),
                          mean_set_confidence=confidence.prod(axis=2).mean(0), passes=len(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="../shared/data/goemotions")
    parser.add_argument("--labeled", type=int, default=400)
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=80)
    parser.add_argument("--prefixes", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--layers", type=int, default=1, help="partial MC dropout: sampled top layers")
    parser.add_argument("--modes", nargs="+", choices=("full", "partial"), default=["full", "partial"],
                        help="which halves of the sweep to run (full: every dropout layer sampled)")
    parser.add_argument("--query", type=int, default=100)
    parser.add_argument("--epochs", type=float, default=15)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    parser.add_argument("--out", default="benchmarks/results/mc_passes.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model, tokenizer, pool, pool_ids, labeled, targets, fit = fine_tuned_model_and_pool(args)

    rows = []
    modes = {"full": ("full", 0), "partial": (f"partial k={args.layers}", args.layers)}
    for mode, layers in (modes[name] for name in args.modes):
        runs = [per_pass_probabilities(model, pool, tokenizer, args.passes, seed, layers) for seed in (1, 2)]
        for passes in args.prefixes:
            scores, batches = {}, {}
            for probs, samples, _, _ in runs:
                inputs = AcquisitionInput(pool=ModelOutputs(probs=probs, mc=mc_stats(samples[:passes])),
                                          pool_ids=pool_ids, labeled_targets=targets[labeled])
                for name in ("bald", "beal"):
                    scores.setdefault(name, []).append(get_strategy(name).score(inputs))
                    batch = get_strategy(name).select(inputs, args.query).positions
                    batches.setdefault(name, []).append(set(batch.tolist()))
            seconds = np.mean([det + pass_seconds[:passes].sum() for _, _, pass_seconds, det in runs])
            rows.append({"mode": mode, "passes": passes, "seconds": float(seconds),
                         **{f"{n}_overlap": len(b[0] & b[1]) / args.query for n, b in batches.items()},
                         **{f"{n}_spearman": float(spearmanr(*s)[0]) for n, s in scores.items()}})
            print(rows[-1], flush=True)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch thread(s), "
               f"Python {platform.python_version()}")
    print(f"command: python {' '.join(sys.argv)}\nmachine: {machine}\nMiniLM-L6 fine-tuned on {args.labeled} examples "
          f"({fit['seconds']:.0f} s); pool {args.pool}; seeds 1 and 2; seconds = deterministic pass + first T passes "
          f"(mean of the two seeds)\n")
    print(f"| mode | T | seconds | bald top-{args.query} overlap | bald Spearman | beal top-{args.query} overlap "
          "| beal Spearman |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['passes']} | {r['seconds']:.1f} | {r['bald_overlap']:.2f} | "
              f"{r['bald_spearman']:.3f} | {r['beal_overlap']:.2f} | {r['beal_spearman']:.3f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": sys.argv, "machine": machine, "fit_seconds": fit["seconds"], "rows": rows},
                              indent=2))


if __name__ == "__main__":
    main()
