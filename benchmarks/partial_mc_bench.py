#!/usr/bin/env python
"""Partial vs full MC dropout on GoEmotions: agreement of bald and beal scores, and speed.

    python benchmarks/partial_mc_bench.py --dataset ../shared/data/goemotions

Fine-tunes MiniLM-L6 for one round (configs/fast_tuned.yaml settings) on --labeled examples, then
scores a pool of --pool examples with T = --passes MC-dropout passes: full (every layer sampled) and
partial (only the top k layers and the head sampled, k in --layers). Reports seconds, the speed-up,
the Spearman correlation of the bald and beal scores with full MC dropout, and the overlap of the
top --query batch. A second full run with another dropout seed gives the noise floor.
"""

from __future__ import annotations

import argparse
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

from mlal.acquisition import AcquisitionInput, Needs, get_strategy  # noqa: E402
from mlal.config import make_config  # noqa: E402
from mlal.data import load_multilabel_data  # noqa: E402
from mlal.inference import predict_outputs  # noqa: E402
from mlal.modeling import load_model, load_model_config, load_tokenizer  # noqa: E402
from mlal.sampling import subsample_ids  # noqa: E402
from mlal.training import fine_tune, positive_weights  # noqa: E402


def fine_tuned_model_and_pool(args: argparse.Namespace):
    """MiniLM fine-tuned (fast_tuned recipe, ``args.epochs``) on ``args.labeled`` random training examples of
    ``args.dataset``, and a seeded pool of ``args.pool`` other examples. Returns
    (model, tokenizer, pool dataset, pool ids, labeled ids, train targets, fine_tune's result)."""
    config = make_config(config="configs/fast_tuned.yaml", dataset=args.dataset, num_train_epochs=args.epochs,
                         disable_tqdm=True)
    data = load_multilabel_data(config.data, seed=42)
    tokenizer = load_tokenizer(config.model)
    model = load_model(config.model, load_model_config(config.model, data.label_names))
    tokenized = data.splits["train"].map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True,
                                         remove_columns=["text"])
    targets = data.targets("train")
    ids = np.random.default_rng(0).permutation(len(targets))
    labeled, pool_ids = np.sort(ids[: args.labeled]), subsample_ids(ids[args.labeled:], args.pool, 1)
    fit = fine_tune(model, tokenized.select(labeled), tokenizer, config.training,
                    positive_weights(targets[labeled], config.al.pos_weight_max))
    return model, tokenizer, tokenized.select(pool_ids), pool_ids, labeled, targets, fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="../shared/data/goemotions")
    parser.add_argument("--labeled", type=int, default=200)
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--layers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--query", type=int, default=100)
    parser.add_argument("--epochs", type=float, default=15)
    parser.add_argument("--out", default="benchmarks/results/partial_mc.json")
    args = parser.parse_args()

    model, tokenizer, pool, pool_ids, labeled, targets, fit = fine_tuned_model_and_pool(args)

    def score(layers: int, seed: int):
        start = time.perf_counter()
        out = predict_outputs(model, pool, tokenizer, Needs(mc_dropout=True), args.passes, 64, seed, progress=False,
                              mc_dropout_layers=layers)
        seconds = time.perf_counter() - start
        inputs = AcquisitionInput(pool=out, pool_ids=pool_ids, labeled_targets=targets[labeled])
        scores = {name: get_strategy(name).score(inputs) for name in ("bald", "beal")}
        batches = {name: set(get_strategy(name).select(inputs, args.query).positions.tolist()) for name in scores}
        return seconds, scores, batches

    start = time.perf_counter()
    predict_outputs(model, pool, tokenizer, Needs(), batch_size=64, progress=False)
    deterministic_seconds = time.perf_counter() - start
    full_seconds, full_scores, full_batches = score(0, seed=1)
    rows = []
    for layers, seed in [(0, 2)] + [(k, 1) for k in args.layers]:
        seconds, scores, batches = score(layers, seed)
        rows.append({
            "mode": "full (other seed)" if layers == 0 else f"partial k={layers}",
            "seconds": seconds,
            "speedup": full_seconds / seconds,
            **{f"{name}_spearman": float(spearmanr(full_scores[name], scores[name])[0]) for name in scores},
            **{f"{name}_overlap": len(full_batches[name] & batches[name]) / args.query for name in scores},
        })
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"command: python {' '.join(sys.argv)}\nmachine: {machine}\nMiniLM-L6 fine-tuned on {args.labeled} examples "
          f"({fit['seconds']:.0f} s); pool {args.pool}; T = {args.passes}; deterministic pass {deterministic_seconds:.1f} s; "
          f"full MC dropout {full_seconds:.1f} s\n")
    print("| mode | seconds | speed-up vs full | bald Spearman | beal Spearman | bald top-%d overlap | beal top-%d overlap |"
          % (args.query, args.query))
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['seconds']:.1f} | {r['speedup']:.2f}x | {r['bald_spearman']:.3f} | "
              f"{r['beal_spearman']:.3f} | {r['bald_overlap']:.2f} | {r['beal_overlap']:.2f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": sys.argv, "machine": machine, "full_seconds": full_seconds,
                               "deterministic_seconds": deterministic_seconds, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
