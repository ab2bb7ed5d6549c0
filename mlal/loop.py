"""The active-learning loop: train, evaluate, score the pool, acquire, record, repeat.

:func:`run_experiment` is the Python API behind ``run_active_learning.py``: it takes an
:class:`~mlal.config.ExperimentConfig` and returns the run's statistics (also saved to disk).
The oracle is the dataset's own labels (a simulation).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from transformers import set_seed

from acquisition import AcquisitionInput, Needs, get_strategy

from .config import ExperimentConfig
from .data import MultiLabelData, load_multilabel_data
from .errors import UsageError
from .inference import predict_outputs
from .metrics import multilabel_metrics, tune_threshold
from .modeling import load_model, load_model_config, load_tokenizer
from .results import STATISTICS, RunRecorder
from .sampling import initial_labeled_ids, subsample_ids
from .training import fine_tune, positive_weights

logger = logging.getLogger(__name__)

TABLE_HEADER = f"{'round':>5} {'labeled':>8} {'micro-F1':>9} {'macro-F1':>9} {'mAP':>7} {'tuned-F1':>9} {'seconds':>8}"


def table_row(record: dict) -> str:
    test, tuned = record["test"], record["test_at_tuned_threshold"]
    return (
        f"{record['round']:>5} {record['labeled_count']:>8} {test['micro_f1']:>9.4f} {test['macro_f1']:>9.4f} "
        f"{test['mean_average_precision']:>7.4f} {tuned['micro_f1']:>9.4f} {sum(record['seconds'].values()):>8.1f}"
    )


def default_output_dir(data_name: str, strategy: str, seed: int) -> Path:
    return Path("results") / data_name / strategy / f"seed{seed}"


def _validate(config: ExperimentConfig) -> None:
    al = config.al
    checks = [
        (al.initial_size >= 1, "--initial_size must be at least 1"),
        (al.query_size >= 1, "--query_size must be at least 1"),
        (al.rounds >= 1, "--rounds must be at least 1"),
        (al.mc_passes >= 1, "--mc_passes must be at least 1"),
        (al.mc_dropout_layers >= 0, "--mc_dropout_layers must be 0 (full MC dropout) or a number of top layers"),
        (al.initial_sampling in ("random", "stratified"), "--initial_sampling must be 'random' or 'stratified'"),
        (al.loss in ("bce", "weighted_bce"), "--loss must be 'bce' or 'weighted_bce'"),
        (al.pool_subsample is None or al.pool_subsample >= 1, "--pool_subsample must be at least 1"),
        (al.pool_fraction is None or 0 < al.pool_fraction <= 1, "--pool_fraction must be in (0, 1]"),
        (al.label_budget is None or al.label_budget >= al.initial_size, "--label_budget must be >= --initial_size"),
        (config.data.max_length >= 8, "--max_length must be at least 8"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)


def _candidate_ids(config: ExperimentConfig, n_train: int, seed: int) -> np.ndarray:
    """Training rows that may be labeled: all of them, or a seeded fraction (--pool_fraction)."""
    ids = np.arange(n_train)
    if config.al.pool_fraction is not None and config.al.pool_fraction < 1:
        ids = subsample_ids(ids, max(1, int(round(config.al.pool_fraction * n_train))), seed)
    al = config.al
    pool_after_initial = len(ids) - al.initial_size
    if pool_after_initial <= 0:
        raise UsageError(
            f"the unlabeled pool is empty: --initial_size {al.initial_size} uses all {len(ids)} candidate examples; "
            "lower --initial_size or use more data"
        )
    if al.rounds > 1 and al.query_size > pool_after_initial:
        raise UsageError(
            f"--query_size {al.query_size} is larger than the unlabeled pool ({pool_after_initial} examples); "
            "lower --query_size or use more data"
        )
    return ids


def _prepare_output_dir(config: ExperimentConfig, data: MultiLabelData) -> Path:
    if config.output_dir_given:
        output_dir = Path(config.training.output_dir)
    else:
        output_dir = default_output_dir(data.name, config.al.strategy, config.training.seed)
    if output_dir.exists() and output_dir.is_file():
        raise UsageError(f"--output_dir {output_dir} is a file; choose a folder")
    if output_dir.exists() and any(output_dir.iterdir()):
        if not (output_dir / STATISTICS).exists():
            raise UsageError(f"--output_dir {output_dir} is not empty and holds no run; choose an empty or new folder")
        if not config.al.overwrite:
            raise UsageError(
                f"--output_dir {output_dir} already holds a run; pass --overwrite to replace it or choose another folder"
            )
    return output_dir


def run_experiment(config: ExperimentConfig, log: Callable[[str], None] = print) -> dict:
    """Run the whole experiment described by ``config``; return the statistics that were saved.

    Raises :class:`UsageError` for bad input, before anything is written.
    """
    al, training_args = config.al, config.training
    seed = int(training_args.seed)
    _validate(config)
    try:
        strategy = get_strategy(
            al.strategy, random_state=seed, margin_aggregation=al.margin_aggregation, adaptive_beta=al.adaptive_beta,
            beal_variant=al.beal_variant, cluster_margin_factor=al.cluster_margin_factor,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    data = load_multilabel_data(config.data, seed, config.model.cache_dir)
    train_targets = data.targets("train")
    candidates = _candidate_ids(config, len(train_targets), seed)
    output_dir = _prepare_output_dir(config, data)
    tokenizer = load_tokenizer(config.model)
    model_config = load_model_config(config.model, data.label_names)

    # ---- from here on we write
    if al.overwrite and output_dir.exists():
        shutil.rmtree(output_dir)
    recorder = RunRecorder(output_dir, config.to_dict(), seed)
    recorder.start(data.label_names)
    tokenized = data.splits.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=config.data.max_length),
        batched=True,
        remove_columns=["text"],
        desc="tokenising",
    )
    targets = {split: data.targets(split) for split in ("validation", "test")}
    labeled = initial_labeled_ids(train_targets, candidates, al.initial_size, al.initial_sampling, seed)
    budget = al.label_budget or np.inf
    eval_batch = int(training_args.per_device_eval_batch_size)
    progress = not training_args.disable_tqdm
    log(f"{data.name}: {len(train_targets)} train / {len(targets['validation'])} validation / "
        f"{len(targets['test'])} test, {len(data.label_names)} labels; strategy {strategy.name}; run folder {output_dir}")
    log(TABLE_HEADER)

    model = None
    for round_index in range(al.rounds):
        seconds = {}
        set_seed(seed + round_index)
        if model is None or not config.model.continue_from_previous_round:
            model = load_model(config.model, model_config)
        pos_weight = positive_weights(train_targets[labeled], al.pos_weight_max) if al.loss == "weighted_bce" else None
        fit = fine_tune(model, tokenized["train"].select(labeled), tokenizer, training_args, pos_weight)
        seconds["train"] = fit["seconds"]

        start = time.perf_counter()
        outputs = {
            split: predict_outputs(
                model, tokenized[split], tokenizer, batch_size=eval_batch, description=split, progress=progress
            ).probs
            for split in ("validation", "test")
        }
        threshold = tune_threshold(targets["validation"], outputs["validation"])
        record = {
            "round": round_index,
            "labeled_count": int(len(labeled)),
            "test": multilabel_metrics(targets["test"], outputs["test"], 0.5),
            "tuned_threshold": threshold,
            "test_at_tuned_threshold": multilabel_metrics(targets["test"], outputs["test"], threshold),
            "validation": multilabel_metrics(targets["validation"], outputs["validation"], 0.5),
            "train_loss": fit["train_loss"],
            "epoch_losses": fit["epoch_losses"],
        }
        seconds["evaluate"] = time.perf_counter() - start
        if al.save_checkpoints:
            checkpoint = output_dir / "checkpoints" / f"{strategy.name}-seed{seed}-round{round_index}"
            model.save_pretrained(checkpoint)
            tokenizer.save_pretrained(checkpoint)

        selected_ids = np.zeros(0, dtype=np.int64)
        selected_scores = np.zeros(0)
        pool_ids = np.setdiff1d(candidates, labeled)
        query = int(min(al.query_size, budget - len(labeled), len(pool_ids)))
        seconds["pool_scoring"] = seconds["acquisition"] = 0.0
        if round_index < al.rounds - 1 and query > 0:
            scored_ids = subsample_ids(pool_ids, al.pool_subsample, seed * 1_000_003 + round_index)
            start = time.perf_counter()
            inputs = _acquisition_input(
                model, tokenized["train"], tokenizer, strategy.needs, scored_ids, labeled, train_targets,
                al.mc_passes, eval_batch, seed + round_index, progress, al.mc_batched, al.mc_dropout_layers,
            )
            seconds["pool_scoring"] = time.perf_counter() - start
            start = time.perf_counter()
            selection = strategy.select(inputs, query, random_state=seed * 1000 + round_index)
            seconds["acquisition"] = time.perf_counter() - start
            selected_ids = scored_ids[selection.positions]
            selected_scores = selection.scores
            record["pool_scored"] = int(len(scored_ids))
        record["selected_ids"] = selected_ids.tolist()
        record["seconds"] = seconds
        recorder.add_round(
            record,
            {
                "test_probs": outputs["test"],
                "test_targets": targets["test"],
                "validation_probs": outputs["validation"],
                "validation_targets": targets["validation"],
                "label_names": np.asarray(data.label_names),
                "labeled_ids": labeled,
                "selected_ids": selected_ids,
                "selected_scores": np.asarray(selected_scores, dtype=np.float64),
            },
        )
        log(table_row(record))
        labeled = np.sort(np.concatenate([labeled, selected_ids]))
        if round_index < al.rounds - 1 and len(selected_ids) == 0:
            log("stopping early: the label budget is spent or the pool is empty")
            break
    recorder.finish()
    log(f"results: {output_dir}")
    return recorder.statistics


def _acquisition_input(
    model, train_tokenized, tokenizer, needs: Needs, scored_ids, labeled, train_targets, mc_passes, batch_size, seed,
    progress=True, mc_batched=False, mc_dropout_layers=0,
) -> AcquisitionInput:
    pool = predict_outputs(
        model, train_tokenized.select(scored_ids), tokenizer, needs, mc_passes, batch_size, seed,
        description="pool", progress=progress, mc_batched=mc_batched,
        mc_dropout_layers=mc_dropout_layers,
    )
    labeled_outputs = None
    if needs.labeled_outputs:
        labeled_outputs = predict_outputs(
            model, train_tokenized.select(labeled), tokenizer, Needs(embeddings=needs.embeddings),
            batch_size=batch_size, description="labeled", progress=progress,
        )
    return AcquisitionInput(pool=pool, pool_ids=scored_ids, labeled_targets=train_targets[labeled], labeled=labeled_outputs)
