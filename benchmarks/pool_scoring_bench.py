#!/usr/bin/env python
"""Pool scoring against the naive way and against the hardware's ceiling, in one process.

    python benchmarks/pool_scoring_bench.py --sizes 2000 20000

The same GoEmotions training texts (a seeded sample of each size), the same MiniLM-L6 classifier
(28 labels; the weights do not change the cost), batch size 64, one process:

* (a)  ``Trainer.predict`` on texts padded to ``--max_length`` (what users write first);
* (a') ``Trainer.predict`` with dynamic padding (``DataCollatorWithPadding``);
* (b)  our pool scoring, ``mlal.inference.predict_outputs``: probabilities only, and with embeddings;
* (c)  the raw model forward on pre-tokenised, pre-padded, length-sorted batches under
       ``torch.inference_mode`` (the ceiling on this hardware: no collation, no copies);
* MC dropout with T passes (``--passes``) against one deterministic pass of (b), with the peak
  resident memory of the scoring call for T and 4T (flat in T means running sums, not T x N x L);
* bf16 autocast on CPU for (b): speed, and the overlap of the top ``--query`` batch of entropy and
  margin with fp32's, on a model fine-tuned on ``--finetune_labeled`` training examples (fast_tuned's
  recipe; an untrained head puts every probability near 0.5, where any rounding reorders margins).
  The timed texts never include the fine-tuning examples.

Warm-up: every method once on the first ``--warmup`` texts of each size (kernels, allocator, Trainer set-up).

Each timing is the median of ``--repeats`` runs after one warm-up, the methods interleaved so that
drift of a shared machine hits them alike. Report ratios, not absolute speed, when the machine is
not quiet. Goals ([bench-speed]): b/c >= 0.97, embeddings within 3% of b, MC T = 10 <= 11.5x one pass.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from mlal.acquisition import AcquisitionInput, Needs, get_strategy  # noqa: E402
from mlal.config import make_config  # noqa: E402
from mlal.data import load_multilabel_data  # noqa: E402
from mlal.batching import PaddedBatches  # noqa: E402
from mlal.inference import predict_outputs  # noqa: E402
from mlal.modeling import load_model, load_model_config, load_tokenizer  # noqa: E402
from mlal.training import fine_tune, positive_weights  # noqa: E402


def peak_rss_reset() -> None:
    """Reset the kernel's peak-RSS counter of this process (Linux: /proc/self/clear_refs, value 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def raw_forward(model, dataset, tokenizer, batch_size: int):
    """(c): batches padded before the clock starts; the timed call is the forward loop only."""
    batches = [inputs for _, inputs in PaddedBatches(dataset, tokenizer, batch_size)]

    def run():
        with torch.inference_mode():
            for inputs in batches:
                torch.sigmoid(model(**inputs).logits)
    return run


def trainer_predict(model, dataset, tokenizer, batch_size: int, workdir: Path):
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    args = TrainingArguments(output_dir=str(workdir), per_device_eval_batch_size=batch_size, use_cpu=True,
                             report_to=[], disable_tqdm=True)
    trainer = Trainer(model=model, args=args, data_collator=DataCollatorWithPadding(tokenizer))
    return lambda: trainer.predict(dataset)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return len(set(a.tolist()) & set(b.tolist())) / max(len(a), 1)


def timed_methods(model, tokenizer, dynamic, padded, args) -> dict:
    """The timed calls on one pool: name -> a function of no arguments. ``padded`` None leaves (a) out."""
    batch = args.batch_size
    methods = {
        "c_raw_forward": raw_forward(model, dynamic, tokenizer, batch),
        "b_ours_probs": lambda: predict_outputs(model, dynamic, tokenizer, Needs(), batch_size=batch, progress=False),
        "b_ours_embeddings": lambda: predict_outputs(model, dynamic, tokenizer, Needs(embeddings=True),
                                                     batch_size=batch, progress=False),
        "b_ours_bf16": lambda: predict_outputs(model, dynamic, tokenizer, Needs(), batch_size=batch, progress=False,
                                               autocast_dtype=torch.bfloat16),
        "a_prime_trainer_dynamic": trainer_predict(model, dynamic, tokenizer, batch, Path(args.workdir)),
    }
    if padded is not None:
        methods["a_trainer_padded"] = trainer_predict(model, padded, tokenizer, batch, Path(args.workdir))
    return methods


def bench_size(size: int, texts: list[str], model, tokenizer, args) -> dict:
    from datasets import Dataset

    rng = np.random.default_rng(0)
    chosen = [texts[i] for i in rng.choice(len(texts), size=min(size, len(texts)), replace=False)]
    raw = Dataset.from_dict({"text": chosen})
    dynamic = raw.map(lambda b: tokenizer(b["text"], truncation=True, max_length=args.max_length), batched=True,
                      remove_columns=["text"])
    padded = raw.map(lambda b: tokenizer(b["text"], truncation=True, max_length=args.max_length,
                                         padding="max_length"), batched=True, remove_columns=["text"])
    with_padded = size <= args.padded_up_to
    warm = range(min(args.warmup, size))
    methods = timed_methods(model, tokenizer, dynamic, padded if with_padded else None, args)
    warm_up = timed_methods(model, tokenizer, dynamic.select(warm), padded.select(warm) if with_padded else None, args)
    for name, run in warm_up.items():
        print(f"  warm-up {name}", flush=True)
        run()
    repeats = args.repeats if size <= args.repeat_up_to else 1
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    for r in range(repeats):
        for name, run in methods.items():
            seconds[name].append(timed(run))
            print(f"  {size} {name} repeat {r + 1}: {seconds[name][-1]:.2f} s", flush=True)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    batch = args.batch_size

    mc = {}
    for passes in (args.passes, 4 * args.passes):
        if passes > args.passes and size > args.repeat_up_to:
            continue  # the 4T memory check on the small size only
        peak_rss_reset()
        before = peak_rss_mib()
        elapsed = timed(lambda p=passes: predict_outputs(model, dynamic, tokenizer, Needs(mc_dropout=True), p,
                                                         batch_size=batch, progress=False))
        mc[passes] = {"seconds": elapsed, "peak_rss_mib_above_start": peak_rss_mib() - before,
                      "x_one_pass": elapsed / median["b_ours_probs"]}
        print(f"  {size} MC T={passes}: {elapsed:.2f} s = {mc[passes]['x_one_pass']:.2f}x one pass, "
              f"peak RSS +{mc[passes]['peak_rss_mib_above_start']:.0f} MiB", flush=True)

    fp32 = predict_outputs(model, dynamic, tokenizer, Needs(), batch_size=batch, progress=False)
    bf16 = predict_outputs(model, dynamic, tokenizer, Needs(), batch_size=batch, progress=False,
                           autocast_dtype=torch.bfloat16)
    agreement = {}
    ids = np.arange(len(chosen))
    for name in ("entropy", "margin"):
        strategy = get_strategy(name)
        picks = [strategy.select(AcquisitionInput(pool=out, pool_ids=ids, labeled_targets=np.zeros((0, 28))),
                                 min(args.query, len(ids))).positions for out in (fp32, bf16)]
        agreement[name] = overlap(*picks)
    rate = {name: len(chosen) / value for name, value in median.items()}
    ratios = {
        "b/c": median["c_raw_forward"] / median["b_ours_probs"],
        "b_embeddings/b": median["b_ours_embeddings"] / median["b_ours_probs"],
        "b/a'": median["a_prime_trainer_dynamic"] / median["b_ours_probs"],
        "bf16/fp32 speed-up": median["b_ours_probs"] / median["b_ours_bf16"],
        "max |p_bf16 - p_fp32|": float(np.abs(bf16.probs - fp32.probs).max()),
    }
    if "a_trainer_padded" in median:
        ratios["b/a"] = median["a_trainer_padded"] / median["b_ours_probs"]
    return {"size": len(chosen), "repeats": repeats, "seconds": seconds, "median_seconds": median,
            "samples_per_second": rate, "ratios": ratios, "mc_dropout": mc, "bf16_batch_overlap": agreement}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="../shared/data/goemotions")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--max_length", type=int, default=128)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--query", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat_up_to", type=int, default=5000, help="larger sizes are timed once")
    parser.add_argument("--padded_up_to", type=int, default=5000,
                        help="(a) padded Trainer.predict only up to this size (7x slower than ours)")
    parser.add_argument("--warmup", type=int, default=256, help="texts each method is warmed up on")
    parser.add_argument("--finetune_labeled", type=int, default=400,
                        help="fine-tune on this many training examples first (0: the untrained head)")
    parser.add_argument("--finetune_epochs", type=float, default=15)
    parser.add_argument("--workdir", default="/tmp/pool_scoring_bench")
    parser.add_argument("--out", default="benchmarks/results/pool_scoring.json")
    args = parser.parse_args()

    config = make_config(config="configs/fast_tuned.yaml", dataset=args.dataset, disable_tqdm=True,
                         num_train_epochs=args.finetune_epochs)
    data = load_multilabel_data(config.data, seed=42)
    tokenizer = load_tokenizer(config.model)
    model = load_model(config.model, load_model_config(config.model, data.label_names))
    order = np.random.default_rng(1).permutation(len(data.splits["train"]))
    tuned_on, timed_ids = np.sort(order[: args.finetune_labeled]), order[args.finetune_labeled:]
    if args.finetune_labeled:
        print(f"fine-tuning on {len(tuned_on)} training examples ({args.finetune_epochs:g} epochs)", flush=True)
        train = data.splits["train"].select(tuned_on).map(
            lambda b: tokenizer(b["text"], truncation=True, max_length=args.max_length), batched=True,
            remove_columns=["text"])
        targets = data.targets("train")[tuned_on]
        fine_tune(model, train, tokenizer, config.training, positive_weights(targets, config.al.pos_weight_max))
    model.eval()
    all_texts = data.splits["train"]["text"]
    texts = [all_texts[i] for i in timed_ids]
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                   f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}",
        "fine_tuned_on": int(args.finetune_labeled),
        "load_average_at_start": os.getloadavg(),
        "sizes": [bench_size(size, texts, model, tokenizer, args) for size in args.sizes],
        "load_average_at_end": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(json.dumps({"machine": results["machine"], "load": [results["load_average_at_start"],
                                                             results["load_average_at_end"]]}))
    for entry in results["sizes"]:
        print(f"N = {entry['size']}: samples/s " + ", ".join(f"{k} {v:.0f}" for k, v in entry["samples_per_second"].items()))
        print("  ratios " + ", ".join(f"{k} {v:.3f}" for k, v in entry["ratios"].items()))
        print("  MC " + ", ".join(f"T={t}: {m['x_one_pass']:.2f}x, +{m['peak_rss_mib_above_start']:.0f} MiB"
                                  for t, m in entry["mc_dropout"].items()))
        print(f"  bf16 top-{args.query} overlap with fp32: {entry['bf16_batch_overlap']}")


if __name__ == "__main__":
    main()
