#!/usr/bin/env python
"""GPU check: pool-scoring throughput (fp32, bf16), MC dropout T = 10, and one fast round on GoEmotions.

    bash benchmarks/gpu_check.sh                    # writes benchmarks/results/gpu_check.json
    python benchmarks/gpu_check.py --allow-cpu      # a dry run of the same steps on CPU (smaller)

Writes JSON with the device name, torch/transformers versions and the measured numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from mlal.acquisition import Needs  # noqa: E402
from mlal.config import make_config  # noqa: E402
from mlal.data import load_multilabel_data  # noqa: E402
from mlal.inference import predict_outputs  # noqa: E402
from mlal.loop import run_experiment  # noqa: E402
from mlal.modeling import load_model, load_model_config, load_tokenizer  # noqa: E402
from mlal.results import package_versions  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="../shared/data/goemotions")
    parser.add_argument("--pool", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--allow-cpu", action="store_true", help="Run on CPU (smaller pool) instead of refusing.")
    parser.add_argument("--out", default="benchmarks/results/gpu_check.json")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("no GPU visible: nothing to measure (use --allow-cpu for a dry run)", file=sys.stderr)
        return 2
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pool_size = args.pool if device.type == "cuda" else min(args.pool, 500)
    config = make_config(config="configs/fast_tuned.yaml", dataset=args.dataset, disable_tqdm=True)
    data = load_multilabel_data(config.data, seed=42)
    tokenizer = load_tokenizer(config.model)
    model = load_model(config.model, load_model_config(config.model, data.label_names)).to(device)
    pool = data.splits["train"].select(range(pool_size)).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"])
    report = {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu", "pool": pool_size,
              "batch": args.batch, "packages": package_versions(), "results": {}}

    def timed(name, **kwargs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        predict_outputs(model, pool, tokenizer, batch_size=args.batch, progress=False, **kwargs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        report["results"][name] = {"seconds": seconds, "examples_per_second": pool_size / seconds}
        print(f"{name:<28} {seconds:8.2f} s  {pool_size / seconds:10.0f} examples/s", flush=True)

    timed("warm-up")
    timed("probabilities fp32")
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        timed("probabilities bf16", autocast_dtype=torch.bfloat16)
    timed("mc dropout T=10 fp32", needs=Needs(mc_dropout=True), mc_passes=10)
    timed("mc dropout T=10 batched", needs=Needs(mc_dropout=True), mc_passes=10, mc_batched=True)
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        timed("mc dropout T=10 bf16", needs=Needs(mc_dropout=True), mc_passes=10, autocast_dtype=torch.bfloat16)
    start = time.perf_counter()
    stats = run_experiment(make_config(config="configs/fast_tuned.yaml", dataset=args.dataset, rounds=1,
                                       test_subsample=1000, output_dir="/tmp/gpu_check_run", overwrite=True,
                                       disable_tqdm=True, bf16=device.type == "cuda"), log=lambda s: None)
    report["results"]["one fast round"] = {"seconds": time.perf_counter() - start, "test": stats["rounds"][0]["test"]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
