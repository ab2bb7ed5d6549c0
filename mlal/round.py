"""One round of the active-learning loop, phase by phase: train, evaluate, score the pool, acquire.

:func:`run_round` advances the current round from the phase saved in ``state.json`` (a :class:`Phase`),
committing the state after each phase, so a rerun resumes where a killed run stopped (see :mod:`mlal.state`).
Everything a round needs lives in one :class:`RoundContext`, built once by :func:`mlal.loop.run_experiment`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, Callable

import numpy as np
from transformers import set_seed

from mlal.acquisition import AcquisitionInput, AcquisitionInputError, Needs

from .calibration import LogitMap, fit_platt_map
from .config import ExperimentConfig
from .console import TABLE_HEADER, table_row, trainer_log_path  # noqa: F401  (the table lives in mlal.console)
from .data import MultiLabelData
from .distributed import broadcast, is_main_process
from .errors import UsageError
from .faults import maybe_fail, maybe_lag, set_context
from .inference import predict_outputs
from .metrics import multilabel_metrics, tune_per_class_thresholds, tune_threshold
from .modeling import ModelSource
from .oracle import LabelStore
from .results import RunRecorder
from .run_format import CHECKPOINTS_DIR, EVAL_DIR, round_file
from .sampling import subsample_ids
from .state import RunState, arrays_to_outputs, outputs_to_arrays
from .stopping import advice_line, stopping_advice
from .training import fine_tune, positive_weights


class Phase(str, Enum):
    """The phase a round has reached; the values are what ``state.json`` stores (old state files load as is)."""

    START = "start"  # nothing done yet this round
    TRAINED = "trained"  # weights saved in state/model-round<r>
    EVALUATED = "evaluated"  # validation/test probabilities in state/eval-round<r>.npz
    SCORED = "scored"  # pool outputs in state/pool-round<r>.npz

    def __str__(self) -> str:  # "trained", not "Phase.TRAINED", in messages
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclass
class RoundContext:
    """What every round of one run shares: the config, the run's state and outputs, the data and the model."""

    config: ExperimentConfig
    state: RunState
    commit: Callable[..., None]  # update state.json (and statistics) with keyword changes; the commit point
    recorder: RunRecorder
    strategy: Any  # an mlal.acquisition strategy
    tokenizer: Any
    tokenized: Any  # DatasetDict of the tokenised splits
    labels: LabelStore  # the train labels the oracle gave (the loop reads no other train labels)
    models: ModelSource  # each round's fresh model
    targets: dict  # split -> (n, n_labels) multi-hot for "validation" and "test"
    candidates: np.ndarray  # train row numbers the loop may label
    data: MultiLabelData
    budget: float  # total label budget (inf when unlimited)
    scoring: dict  # predict_outputs keywords: batch_size, progress, autocast_dtype
    seed: int
    output_dir: Path
    log: Callable[[str], None]
    model: Any = None  # the current round's model (None before the first training)
    trackers: Any = None  # --report_to trackers (mlal.trackers), None when there are none

    @property
    def round_index(self) -> int:
        return int(self.state.data["round"])

    @property
    def phase(self) -> Phase:
        return Phase(self.state.data["phase"])

    @property
    def labeled(self) -> np.ndarray:
        return np.asarray(self.state.data["labeled_ids"], dtype=np.int64)

    def fresh_model(self):
        """A new model with its initial weights for this round's training."""
        return self.models.fresh()

    def query_size(self) -> int:
        """How many examples this round acquires: 0 in the last round, else capped by budget and pool."""
        if self.round_index == self.config.al.rounds - 1:
            return 0
        pool = len(np.setdiff1d(self.candidates, self.labeled))
        return int(min(self.config.al.query_size, self.budget - len(self.labeled), pool))


def run_round(ctx: RoundContext) -> None:
    """Advance the current round phase by phase, committing the state after each; ``ctx.model`` is updated."""
    set_context(ctx.round_index, ctx.strategy.name)
    if ctx.phase is Phase.START:
        train(ctx)
    if ctx.phase is Phase.TRAINED:
        evaluate(ctx)
    if ctx.phase is Phase.EVALUATED:
        score_pool(ctx)
    acquire(ctx)


def train(ctx: RoundContext) -> None:
    """Phase start -> trained: fine-tune on the labeled set and save the weights."""
    config, state, round_index, labeled = ctx.config, ctx.state, ctx.round_index, ctx.labeled
    al = config.al
    set_seed(ctx.seed + round_index)
    training_args = config.training
    if ctx.model is None or not config.model.continue_from_previous_round:
        ctx.model = ctx.fresh_model()
    elif config.model.continued_round_epochs is not None:  # a warm start: fewer epochs than from scratch
        training_args = replace(training_args, num_train_epochs=config.model.continued_round_epochs)
    pos_weight = round_positive_weights(ctx)
    fit = fine_tune(ctx.model, ctx.tokenized["train"].select(labeled), ctx.tokenizer, training_args, pos_weight,
                    checkpoint_dir=state.phase_dir / "trainer", eval_dataset=ctx.tokenized["validation"],
                    early_stopping_patience=al.early_stopping_patience,
                    log_file=trainer_log_path(ctx.output_dir, round_index), description=f"round {round_index} train")
    state.save_model(ctx.model, round_index)
    ctx.commit(phase=Phase.TRAINED, partial={"seconds": {"train": fit.pop("seconds")}, "fit": fit})
    maybe_fail("after_train")


def round_positive_weights(ctx: RoundContext):
    """The positive weights of this round's loss (L,), computed from the labeled set; None for plain BCE."""
    al = ctx.config.al
    return positive_weights(ctx.labels.targets[ctx.labeled], al.pos_weight_max) if al.loss == "weighted_bce" else None


def evaluate(ctx: RoundContext) -> None:
    """Phase trained -> evaluated: validation and test probabilities, metrics, tuned thresholds, stopping advice."""
    al, state, round_index, targets = ctx.config.al, ctx.state, ctx.round_index, ctx.targets
    partial = state.data["partial"]
    start = time.perf_counter()
    outputs = {
        split: predict_outputs(ctx.model, ctx.tokenized[split], ctx.tokenizer, description=split, **ctx.scoring).probs
        for split in ("validation", "test")
    }
    threshold = tune_threshold(targets["validation"], outputs["validation"])
    calibration = {}
    if al.acquisition_calibration == "platt" and ctx.query_size() > 0:  # the map the pool is scored through
        fitted = (fit_platt_map(targets["validation"], outputs["validation"], round_positive_weights(ctx))
                  if is_main_process() else None)
        calibration = {"acquisition_calibration": broadcast(fitted)}  # one map for every process
    per_class = tune_per_class_thresholds(targets["validation"], outputs["validation"])
    partial["record"] = {
        "round": round_index,
        "labeled_count": int(len(ctx.labeled)),
        "test": multilabel_metrics(targets["test"], outputs["test"], 0.5),
        "tuned_threshold": threshold,
        "test_at_tuned_threshold": multilabel_metrics(targets["test"], outputs["test"], threshold),
        "per_class_thresholds": per_class.tolist(),
        "test_at_per_class_thresholds": multilabel_metrics(targets["test"], outputs["test"], per_class[None, :]),
        "validation": multilabel_metrics(targets["validation"], outputs["validation"], 0.5),
        **partial["fit"],
        **calibration,
    }
    # Stopping advice on a stop set of unlabeled examples: the test split's texts (labels unused).
    previous = ctx.output_dir / EVAL_DIR / round_file(round_index - 1)
    previous_probs = np.load(previous)["test_probs"] if round_index > 0 and previous.is_file() else None
    history = [r.get("stopping", {}).get("kappa") for r in ctx.recorder.statistics["rounds"]]
    partial["record"]["stopping"] = stopping_advice(previous_probs, outputs["test"], history, al.stop_kappa,
                                                    al.stop_window)
    if al.save_checkpoints and is_main_process():
        checkpoint = ctx.output_dir / CHECKPOINTS_DIR / f"{ctx.strategy.name}-seed{ctx.seed}-round{round_index}"
        ctx.model.save_pretrained(checkpoint)
        ctx.tokenizer.save_pretrained(checkpoint)
    state.save_arrays(f"eval-round{round_index}.npz", validation_probs=outputs["validation"], test_probs=outputs["test"])
    partial["seconds"]["evaluate"] = time.perf_counter() - start
    ctx.commit(phase=Phase.EVALUATED, partial=partial)


def score_pool(ctx: RoundContext) -> None:
    """Phase evaluated -> scored: the model's outputs on (a subsample of) the unlabeled pool."""
    al, state, round_index, labeled = ctx.config.al, ctx.state, ctx.round_index, ctx.labeled
    partial = state.data["partial"]
    start = time.perf_counter()
    arrays = {}
    if ctx.query_size() > 0:
        pool_ids = np.setdiff1d(ctx.candidates, labeled)
        scored_ids = subsample_ids(pool_ids, al.pool_subsample, ctx.seed * 1_000_003 + round_index)
        inputs = acquisition_input(
            ctx.model, ctx.tokenized["train"], ctx.tokenizer, ctx.strategy.needs, scored_ids, labeled,
            ctx.labels.targets, al.mc_passes, ctx.seed + round_index, al.mc_batched, al.mc_dropout_layers,
            {**ctx.scoring, "logit_map": acquisition_logit_map(al, partial["record"])},
        )
        arrays = {"scored_ids": scored_ids, **outputs_to_arrays("pool_", inputs.pool)}
        if inputs.labeled is not None:
            arrays.update(outputs_to_arrays("labeled_", inputs.labeled))
    state.save_arrays(f"pool-round{round_index}.npz", **arrays)
    partial["seconds"]["pool_scoring"] = time.perf_counter() - start
    ctx.commit(phase=Phase.SCORED, partial=partial)
    maybe_fail("after_scoring")


def acquisition_logit_map(al, record: dict):
    """The map the pool is scored through this round (None without --acquisition_calibration)."""
    if al.acquisition_calibration == "none":
        return None
    if "acquisition_calibration" not in record:
        raise RuntimeError("--acquisition_calibration is set but the round's record holds no fitted map")
    return LogitMap.from_record(record["acquisition_calibration"])


def acquire(ctx: RoundContext) -> None:
    """Phase scored -> next round's start: select the batch, record the round, add the batch to the labeled set."""
    state, round_index, labeled, train_targets, seed = ctx.state, ctx.round_index, ctx.labeled, ctx.labels.targets, ctx.seed
    partial, query, original_ids = state.data["partial"], ctx.query_size(), ctx.data.original_ids("train")
    start = time.perf_counter()
    selected_ids, selected_scores = np.zeros(0, dtype=np.int64), np.zeros(0)
    pool_ids, pool_scores = np.zeros(0, dtype=np.int64), None
    if query > 0:
        pool = state.load_arrays(f"pool-round{round_index}.npz")
        inputs = AcquisitionInput(
            pool=arrays_to_outputs("pool_", pool), pool_ids=pool["scored_ids"], labeled_targets=train_targets[labeled],
            labeled=arrays_to_outputs("labeled_", pool),
        )
        # Acquisition runs once, on the main process; the others receive its choice.
        try:
            selection = (ctx.strategy.select(inputs, query, random_state=seed * 1000 + round_index)
                         if is_main_process() else None)
        except AcquisitionInputError as exc:
            raise UsageError(f"round {round_index}: {exc}") from None
        positions, selected_scores, pool_scores = broadcast(
            None if selection is None else (selection.positions, selection.scores, selection.all_scores))
        pool_ids = inputs.pool_ids
        selected_ids = pool_ids[positions]
        partial["record"]["pool_scored"] = int(len(pool_ids))
    partial["seconds"]["acquisition"] = time.perf_counter() - start
    ctx.labels.ask(selected_ids)  # the oracle labels the batch (train_targets is ctx.labels.targets: filled in place)
    # Diversity strategies (badge, coreset) rank without a per-example score: NaN and a flag, never made-up scores.
    scores_recorded = pool_scores is not None
    pool_scores = np.full(len(pool_ids), np.nan) if pool_scores is None else np.asarray(pool_scores, dtype=np.float64)
    record = {**partial["record"], "selected_ids": selected_ids.tolist(),
              "selected_original_ids": original_ids[selected_ids].tolist(), "pool_scores_recorded": scores_recorded,
              "seconds": partial["seconds"]}
    maybe_lag("before_reading_phase_files")
    evaluation = state.load_arrays(f"eval-round{round_index}.npz")
    path = ctx.recorder.add_round(record, {
        "test_probs": evaluation["test_probs"], "test_targets": ctx.targets["test"],
        "validation_probs": evaluation["validation_probs"], "validation_targets": ctx.targets["validation"],
        "label_names": np.asarray(ctx.data.label_names),
        **_id_arrays("labeled", labeled, original_ids, train_targets),
        **_id_arrays("selected", selected_ids, original_ids, train_targets),
        "selected_scores": np.asarray(selected_scores, dtype=np.float64),
        "pool_ids": pool_ids, "pool_original_ids": original_ids[pool_ids], "pool_scores": pool_scores,
        "pool_scores_recorded": np.asarray(scores_recorded),
    })
    if round_index != ctx.config.al.rounds - 1 and len(selected_ids) == 0:
        state.data["stop"] = True
    state.untrack_phase_files(keep_model=True)
    state.track(path)
    ctx.commit(round=round_index + 1, phase=Phase.START, partial={}, answers=ctx.labels.answers(),
               labeled_ids=np.sort(np.concatenate([labeled, selected_ids])).tolist())
    ctx.log(table_row(record))
    ctx.log(advice_line(record["stopping"]))
    if ctx.trackers is not None:
        ctx.trackers.log_round(record)
    maybe_fail("after_acquisition")


def _id_arrays(prefix: str, ids: np.ndarray, original_ids: np.ndarray, train_targets: np.ndarray) -> dict:
    """Row numbers, the dataset's own ids and the multi-hot labels (uint8) of some train examples."""
    ids = np.asarray(ids, dtype=np.int64)
    return {f"{prefix}_ids": ids, f"{prefix}_original_ids": original_ids[ids],
            f"{prefix}_targets": train_targets[ids].astype(np.uint8)}


def acquisition_input(
    model, train_tokenized, tokenizer, needs: Needs, scored_ids, labeled, train_targets, mc_passes, seed,
    mc_batched, mc_dropout_layers, scoring: dict,
) -> AcquisitionInput:
    """The model's outputs on the scored pool (and on the labeled set when the strategy needs them)."""
    pool = predict_outputs(
        model, train_tokenized.select(scored_ids), tokenizer, needs, mc_passes, seed=seed, description="pool",
        mc_batched=mc_batched, mc_dropout_layers=mc_dropout_layers, on_batch=lambda: maybe_fail("pool_scoring"),
        **scoring,
    )
    labeled_outputs = None
    if needs.labeled_outputs:
        labeled_outputs = predict_outputs(
            model, train_tokenized.select(labeled), tokenizer, Needs(embeddings=needs.embeddings),
            description="labeled", **scoring,
        )
    return AcquisitionInput(pool=pool, pool_ids=scored_ids, labeled_targets=train_targets[labeled], labeled=labeled_outputs)
