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

from mlal.acquisition import AcquisitionInput, AcquisitionInputError, Needs

from .config import ExperimentConfig
from .data import MultiLabelData, load_multilabel_data
from .errors import UsageError
from .inference import predict_outputs
from .metrics import multilabel_metrics, tune_per_class_thresholds, tune_threshold
from .modeling import load_model, load_model_config, load_tokenizer
from .distributed import barrier, broadcast, is_main_process, world_size
from .faults import maybe_fail, maybe_lag, set_context
from .hub import FINAL_MODEL
from .preflight import check_model_loads, check_training_arguments
from .results import RunRecorder, now_iso
from .run_folder import check_output_folder, check_writable, holds_run, lock_run_folder, remove_run, write_failure
from .run_format import STATISTICS, strategy_folder
from .state import RunState, arrays_to_outputs, config_differences, config_hash, outputs_to_arrays
from .options import candidate_ids, validate_options
from .sampling import initial_labeled_ids, subsample_ids
from .stopping import advice_line, stopping_advice
from .strategy_options import strategy_from_config
from .training import fine_tune, positive_weights

logger = logging.getLogger(__name__)

TABLE_HEADER = f"{'round':>5} {'labeled':>8} {'micro-F1':>9} {'macro-F1':>9} {'mAP':>7} {'tuned-F1':>9} {'seconds':>8}"


def table_row(record: dict) -> str:
    test, tuned = record["test"], record["test_at_tuned_threshold"]
    return (
        f"{record['round']:>5} {record['labeled_count']:>8} {test['micro_f1']:>9.4f} {test['macro_f1']:>9.4f} "
        f"{test['mean_average_precision']:>7.4f} {tuned['micro_f1']:>9.4f} {sum(record['seconds'].values()):>8.1f}"
    )


def autocast_dtype(training_args):
    """The pool-scoring autocast dtype matching Trainer's mixed precision (--bf16 / --fp16), or None."""
    import torch

    if training_args.bf16:
        return torch.bfloat16
    if training_args.fp16:
        return torch.float16
    return None


def _silent(_message: str) -> None:
    pass


def default_output_dir(data_name: str, strategy: str, seed: int) -> Path:
    return Path("results") / data_name / strategy_folder(strategy) / f"seed{seed}"


def _prepare_output_dir(config: ExperimentConfig, data: MultiLabelData) -> Path:
    if config.output_dir_given:
        output_dir = Path(config.training.output_dir)
    else:
        output_dir = default_output_dir(data.name, config.al.strategy, config.training.seed)
    check_output_folder(output_dir)  # a file, or a folder of other files: refused, --overwrite or not
    return output_dir


def _resume_state(output_dir: Path, config: ExperimentConfig, config_dict: dict) -> RunState | None:
    """The saved state of a run of the same config in ``output_dir``, or None to start afresh."""
    state = RunState(output_dir)
    if config.al.overwrite or not output_dir.exists():
        return None
    if not state.exists():
        if (output_dir / STATISTICS).exists():
            raise UsageError(f"--output_dir {output_dir} holds a run without resumable state; pass --overwrite "
                             "to replace it or choose another folder")
        return None
    payload = state.load()
    if payload["config_hash"] != config_hash(config_dict):
        differences = config_differences(payload["config"], config_dict)
        raise UsageError(
            f"--output_dir {output_dir} already holds a run with a different config (differs in: "
            f"{', '.join(differences[:4]) or 'options'}); pass --overwrite to replace it or choose another folder"
        )
    return state


def run_experiment(config: ExperimentConfig, log: Callable[[str], None] = print) -> dict:
    """Run the whole experiment described by ``config``; return the statistics that were saved.

    Raises :class:`UsageError` for bad input, before anything is written. Rerunning the same config on
    the same output folder resumes after the last finished phase (see :mod:`mlal.state`). The run folder
    is locked while the run writes it (:mod:`mlal.lock`); a write that fails (full disk, read-only) ends
    in one line, the last committed state intact.
    """
    held: dict = {"lock": None, "output_dir": None}
    try:
        return _run_experiment(config, log, held)
    except UsageError:
        raise
    except Exception as exc:  # OSError, or safetensors' own error for a full disk
        failure = write_failure(exc, held["output_dir"]) if held["output_dir"] is not None else None
        if failure is None:
            raise
        raise failure from None
    finally:
        if held["lock"] is not None:
            held["lock"].release()


def _state_bytes(output_dir: Path) -> bytes | None:
    path = RunState(output_dir).path
    return path.read_bytes() if path.is_file() else None


def _run_experiment(config: ExperimentConfig, log: Callable[[str], None], held: dict) -> dict:
    al, training_args = config.al, config.training
    seed = int(training_args.seed)
    if not is_main_process():
        log = _silent  # noqa: F811  (only the main process prints)
    validate_options(config)
    strategy = strategy_from_config(al)  # randomness: select's random_state, from (seed, round) below
    data = load_multilabel_data(config.data, config.data.dataset_seed, config.model.cache_dir)
    train_targets = data.targets("train")
    candidates = candidate_ids(config, len(train_targets), seed)
    output_dir = _prepare_output_dir(config, data)
    config_dict = config.to_dict()
    seen = _state_bytes(output_dir)
    state = _resume_state(output_dir, config, config_dict)
    if state is not None and state.data["finished"]:
        log(f"the run in {output_dir} has already finished; nothing to do (--overwrite starts it over)")
        return state.data["statistics"]
    # Everything knowable is checked before the folder is created, locked or cleared.
    check_training_arguments(training_args)
    tokenizer = load_tokenizer(config.model)
    model_config = load_model_config(config.model, data.label_names)
    if state is None or state.data["phase"] == "start":
        check_model_loads(config.model, model_config)
    check_writable(output_dir)

    # ---- from here on we write
    held["lock"] = lock_run_folder(output_dir)
    held["output_dir"] = output_dir
    if _state_bytes(output_dir) != seen:  # another run wrote the folder while we checked: read it again
        state = _resume_state(output_dir, config, config_dict)
        if state is not None and state.data["finished"]:
            log(f"the run in {output_dir} has already finished; nothing to do (--overwrite starts it over)")
            return state.data["statistics"]
    recorder = RunRecorder(output_dir, config_dict, seed)
    recorder.statistics["output_dir"] = str(output_dir)
    recorder.statistics["processes"] = world_size()
    if state is None:
        if al.overwrite and is_main_process() and holds_run(output_dir):
            removed = remove_run(output_dir)  # only what runs write; other files stay
            log(f"--overwrite: removed the previous run's {', '.join(removed)} from {output_dir}")
        barrier()
        recorder.start(data.label_names)
        state = RunState(output_dir)
        embeddings = None
        if al.initial_sampling == "kmeans":  # label-free cold start (mlal.coldstart)
            from .coldstart import candidate_embeddings

            embeddings = candidate_embeddings(config.model, model_config, tokenizer, data.splits["train"].select(
                candidates)["text"], config.data.max_length, seed, int(training_args.per_device_eval_batch_size))
        labeled = initial_labeled_ids(train_targets, candidates, al.initial_size, al.initial_sampling, seed, embeddings)
        state.data = {"config_hash": config_hash(config_dict), "config": config_dict, "round": 0, "phase": "start",
                      "labeled_ids": labeled.tolist(), "partial": {}, "finished": False, "files": {},
                      "eval_index": recorder.eval_index}
    else:
        recorder.statistics = state.data["statistics"]
        recorder.statistics.setdefault("resumed_at", []).append(now_iso())
        recorder.eval_index = state.data["eval_index"]
        log(f"resuming {output_dir} at round {state.data['round']}, phase {state.data['phase']}")

    def commit(**changes) -> None:
        state.data.update(changes, statistics=recorder.statistics, eval_index=recorder.eval_index)
        state.save()  # the commit point: files it refers to were written before, stale ones go after
        barrier()  # every process has read the phase files it needed before the main process deletes them
        state.remove_untracked()
        recorder.save()
        barrier()  # the other processes read phase files only once the main process wrote them

    commit()
    tokenized = data.splits.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=config.data.max_length),
        batched=True,
        remove_columns=["text"],
        desc="tokenising",
    )
    targets = {split: data.targets(split) for split in ("validation", "test")}
    budget = al.label_budget or np.inf
    eval_batch = int(training_args.per_device_eval_batch_size)
    progress = not training_args.disable_tqdm
    scoring = {"batch_size": eval_batch, "progress": progress, "autocast_dtype": autocast_dtype(training_args)}
    log(f"{data.name}: {len(train_targets)} train / {len(targets['validation'])} validation / "
        f"{len(targets['test'])} test, {len(data.label_names)} labels; strategy {strategy.name}; run folder {output_dir}")
    log(TABLE_HEADER)
    for record in recorder.statistics["rounds"]:
        log(table_row(record))

    model = None
    if state.data["phase"] != "start" or (config.model.continue_from_previous_round and state.model_dir):
        model = load_model(config.model, model_config, weights_from=str(state.model_dir))
    try:
        while state.data["round"] < al.rounds:
            model = _run_round(
                config, state, commit, recorder, strategy, model, model_config, tokenizer, tokenized, train_targets,
                targets, candidates, data, budget, scoring, seed, output_dir, log,
            )
            if state.data.pop("stop", False):
                log("stopping early: the label budget is spent or the pool is empty")
                break
    except KeyboardInterrupt:
        log(f"interrupted: the run is saved up to round {state.data['round']}, phase {state.data['phase']}; "
            "rerun the same command to resume")
        raise
    if training_args.push_to_hub and is_main_process():  # the entry script uploads this folder (mlal.hub)
        model.save_pretrained(output_dir / FINAL_MODEL)
        tokenizer.save_pretrained(output_dir / FINAL_MODEL)
    recorder.finish()
    state.untrack_phase_files(keep_model=False)
    commit(finished=True, partial={})
    if is_main_process():
        shutil.rmtree(state.phase_dir, ignore_errors=True)
    log(f"results: {output_dir}")
    return recorder.statistics


def _run_round(config, state, commit, recorder, strategy, model, model_config, tokenizer, tokenized, train_targets,
               targets, candidates, data, budget, scoring, seed, output_dir, log):
    """Advance the current round phase by phase, committing the state after each; return the model."""
    label_names, original_ids = data.label_names, data.original_ids("train")
    al, training_args = config.al, config.training
    round_index = state.data["round"]
    set_context(round_index, strategy.name)
    labeled = np.asarray(state.data["labeled_ids"], dtype=np.int64)
    partial = state.data["partial"]
    last_round = round_index == al.rounds - 1

    if state.data["phase"] == "start":
        set_seed(seed + round_index)
        if model is None or not config.model.continue_from_previous_round:
            model = load_model(config.model, model_config)
        pos_weight = positive_weights(train_targets[labeled], al.pos_weight_max) if al.loss == "weighted_bce" else None
        fit = fine_tune(model, tokenized["train"].select(labeled), tokenizer, training_args, pos_weight,
                        checkpoint_dir=state.phase_dir / "trainer", eval_dataset=tokenized["validation"],
                        early_stopping_patience=al.early_stopping_patience)
        state.save_model(model, round_index)
        partial = {"seconds": {"train": fit.pop("seconds")}, "fit": fit}
        commit(phase="trained", partial=partial)
        maybe_fail("after_train")

    if state.data["phase"] == "trained":
        start = time.perf_counter()
        outputs = {
            split: predict_outputs(model, tokenized[split], tokenizer, description=split, **scoring).probs
            for split in ("validation", "test")
        }
        threshold = tune_threshold(targets["validation"], outputs["validation"])
        per_class = tune_per_class_thresholds(targets["validation"], outputs["validation"])
        partial["record"] = {
            "round": round_index,
            "labeled_count": int(len(labeled)),
            "test": multilabel_metrics(targets["test"], outputs["test"], 0.5),
            "tuned_threshold": threshold,
            "test_at_tuned_threshold": multilabel_metrics(targets["test"], outputs["test"], threshold),
            "per_class_thresholds": per_class.tolist(),
            "test_at_per_class_thresholds": multilabel_metrics(targets["test"], outputs["test"], per_class[None, :]),
            "validation": multilabel_metrics(targets["validation"], outputs["validation"], 0.5),
            **partial["fit"],
        }
        # Stopping advice on a stop set of unlabeled examples: the test split's texts (labels unused).
        previous = output_dir / "eval" / f"round_{round_index - 1:03d}.npz"
        previous_probs = np.load(previous)["test_probs"] if round_index > 0 and previous.is_file() else None
        history = [r.get("stopping", {}).get("kappa") for r in recorder.statistics["rounds"]]
        partial["record"]["stopping"] = stopping_advice(previous_probs, outputs["test"], history, al.stop_kappa,
                                                        al.stop_window)
        if al.save_checkpoints and is_main_process():
            checkpoint = output_dir / "checkpoints" / f"{strategy.name}-seed{seed}-round{round_index}"
            model.save_pretrained(checkpoint)
            tokenizer.save_pretrained(checkpoint)
        state.save_arrays(f"eval-round{round_index}.npz", validation_probs=outputs["validation"], test_probs=outputs["test"])
        partial["seconds"]["evaluate"] = time.perf_counter() - start
        commit(phase="evaluated", partial=partial)

    pool_ids = np.setdiff1d(candidates, labeled)
    query = 0 if last_round else int(min(al.query_size, budget - len(labeled), len(pool_ids)))
    if state.data["phase"] == "evaluated":
        start = time.perf_counter()
        arrays = {}
        if query > 0:
            scored_ids = subsample_ids(pool_ids, al.pool_subsample, seed * 1_000_003 + round_index)
            inputs = _acquisition_input(
                model, tokenized["train"], tokenizer, strategy.needs, scored_ids, labeled, train_targets,
                al.mc_passes, seed + round_index, al.mc_batched, al.mc_dropout_layers, scoring,
            )
            arrays = {"scored_ids": scored_ids, **outputs_to_arrays("pool_", inputs.pool)}
            if inputs.labeled is not None:
                arrays.update(outputs_to_arrays("labeled_", inputs.labeled))
        state.save_arrays(f"pool-round{round_index}.npz", **arrays)
        partial["seconds"]["pool_scoring"] = time.perf_counter() - start
        commit(phase="scored", partial=partial)
        maybe_fail("after_scoring")

    # phase "scored": acquire, then finish the round
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
            selection = strategy.select(inputs, query, random_state=seed * 1000 + round_index) if is_main_process() else None
        except AcquisitionInputError as exc:
            raise UsageError(f"round {round_index}: {exc}") from None
        positions, selected_scores, pool_scores = broadcast(
            None if selection is None else (selection.positions, selection.scores, selection.all_scores))
        pool_ids = inputs.pool_ids
        selected_ids = pool_ids[positions]
        partial["record"]["pool_scored"] = int(len(pool_ids))
    partial["seconds"]["acquisition"] = time.perf_counter() - start
    # Diversity strategies (badge, coreset) rank without a per-example score: NaN and a flag, never made-up scores.
    scores_recorded = pool_scores is not None
    pool_scores = np.full(len(pool_ids), np.nan) if pool_scores is None else np.asarray(pool_scores, dtype=np.float64)
    record = {**partial["record"], "selected_ids": selected_ids.tolist(),
              "selected_original_ids": original_ids[selected_ids].tolist(), "pool_scores_recorded": scores_recorded,
              "seconds": partial["seconds"]}
    maybe_lag("before_reading_phase_files")
    evaluation = state.load_arrays(f"eval-round{round_index}.npz")
    path = recorder.add_round(record, {
        "test_probs": evaluation["test_probs"], "test_targets": targets["test"],
        "validation_probs": evaluation["validation_probs"], "validation_targets": targets["validation"],
        "label_names": np.asarray(label_names),
        **_id_arrays("labeled", labeled, original_ids, train_targets),
        **_id_arrays("selected", selected_ids, original_ids, train_targets),
        "selected_scores": np.asarray(selected_scores, dtype=np.float64),
        "pool_ids": pool_ids, "pool_original_ids": original_ids[pool_ids], "pool_scores": pool_scores,
        "pool_scores_recorded": np.asarray(scores_recorded),
    })
    if not last_round and len(selected_ids) == 0:
        state.data["stop"] = True
    state.untrack_phase_files(keep_model=True)
    state.track(path)
    commit(round=round_index + 1, phase="start", partial={},
           labeled_ids=np.sort(np.concatenate([labeled, selected_ids])).tolist())
    log(table_row(record))
    log(advice_line(record["stopping"]))
    maybe_fail("after_acquisition")
    return model


def _id_arrays(prefix: str, ids: np.ndarray, original_ids: np.ndarray, train_targets: np.ndarray) -> dict:
    """Row numbers, the dataset's own ids and the multi-hot labels (uint8) of some train examples."""
    ids = np.asarray(ids, dtype=np.int64)
    return {f"{prefix}_ids": ids, f"{prefix}_original_ids": original_ids[ids],
            f"{prefix}_targets": train_targets[ids].astype(np.uint8)}


def _acquisition_input(
    model, train_tokenized, tokenizer, needs: Needs, scored_ids, labeled, train_targets, mc_passes, seed,
    mc_batched, mc_dropout_layers, scoring: dict,
) -> AcquisitionInput:
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
