"""The active-learning loop: train, evaluate, score the pool, acquire, record, repeat.

:func:`run_experiment` is the Python API behind ``run_active_learning.py``: it takes an
:class:`~mlal.config.ExperimentConfig` and returns the run's statistics (also saved to disk).
The oracle is the dataset's own labels (a simulation).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Callable, Optional

import numpy as np


from .config import ExperimentConfig
from .saved_config import option_defaults, with_later_options_at_defaults
from .console import quiet_library_progress_bars
from .data import MultiLabelData, load_multilabel_data
from .errors import UsageError
from .given import GivenInputs, resolve_inputs, with_in_memory_name
from .modeling import ModelSource, load_model_config, load_tokenizer
from .oracle import LabelStore
from .distributed import barrier, is_main_process, world_size
from .hub import FINAL_MODEL
from .preflight import check_model_loads, check_training_arguments
from .results import RunRecorder, now_iso
from .round import TABLE_HEADER, Phase, RoundContext, run_round, table_row
from .run_folder import (
    check_not_held, check_output_folder, check_writable, holds_run, lock_run_folder, remove_run, write_failure,
)
from .run_format import STATISTICS, strategy_folder
from .state import RunState, config_differences, config_hash
from .options import candidate_ids, validate_options
from .sampling import initial_labeled_ids
from .strategy_options import strategy_from_config
from .trackers import open_trackers

logger = logging.getLogger(__name__)

def autocast_dtype(training_args, scoring_precision: str = "auto"):
    """The pool-scoring autocast dtype matching Trainer's mixed precision (--bf16 / --fp16), or None
    (float32: no mixed precision, or ``--scoring_precision fp32``)."""
    import torch

    if scoring_precision == "fp32":
        return None
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
    check_not_held(output_dir)  # held by a running process: say who, before comparing configs
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
    # An option added to mlal after the run started is absent from its saved config: the run ran as its default
    # does, so it differs only when set here to something else, and a newer version resumes an older run.
    same_hash = payload["config_hash"] == config_hash(config_dict)
    differences = [] if same_hash else config_differences(with_later_options_at_defaults(payload["config"]),
                                                           config_dict)
    if differences:
        raise UsageError(
            f"--output_dir {output_dir} already holds a run with a different config (differs in: "
            f"{', '.join(differences[:4])}); pass --overwrite to replace it or choose another folder"
        )
    return state


def run_experiment(
    config: Optional[ExperimentConfig] = None, log: Callable[[str], None] = print, *, dataset=None, model=None,
    model_init: Optional[Callable] = None, tokenizer=None, oracle: Optional[Callable] = None, **options,
) -> dict:
    """Run the whole experiment described by ``config`` (or by ``options``, the keywords of
    :func:`~mlal.config.make_config`); return the statistics that were saved.

    ``dataset`` (a ``DatasetDict`` in memory or a path), ``model`` (an instance; a string is the ``model``
    option), ``model_init`` (called once per round for a fresh model), ``tokenizer`` and ``oracle``
    (``oracle(original_ids, texts)`` -> multi-hot array or label-name lists, asked for the labels of the initial
    set and of each acquired batch; default: the dataset's labels) replace what the config names: see
    :mod:`mlal.given` and :mod:`mlal.oracle`. They are not saved: to resume, call again with the same ones.

    Raises :class:`UsageError` for bad input, before anything is written. Rerunning the same config on
    the same output folder resumes after the last finished phase (see :mod:`mlal.state`). The run folder
    is locked while the run writes it (:mod:`mlal.lock`); a write that fails (full disk, read-only) ends
    in one line, the last committed state intact.
    """
    config, given = resolve_inputs(config, options, dataset=dataset, model=model, model_init=model_init,
                                   tokenizer=tokenizer, oracle=oracle)
    held: dict = {"lock": None, "output_dir": None, "trackers": None}
    quiet_library_progress_bars()  # the run draws one bar per phase, on a terminal only (mlal.console)
    try:
        return _run_experiment(config, log, held, given)
    except UsageError:
        raise
    except Exception as exc:  # OSError, or safetensors' own error for a full disk
        failure = write_failure(exc, held["output_dir"]) if held["output_dir"] is not None else None
        if failure is None:
            raise
        raise failure from None
    finally:
        if held["trackers"] is not None:
            held["trackers"].close()
        if held["lock"] is not None:
            held["lock"].release()


def _state_bytes(output_dir: Path) -> bytes | None:
    path = RunState(output_dir).path
    return path.read_bytes() if path.is_file() else None


def _run_experiment(config: ExperimentConfig, log: Callable[[str], None], held: dict, given: GivenInputs) -> dict:
    al, training_args = config.al, config.training
    seed = int(training_args.seed)
    if not is_main_process():
        log = _silent  # noqa: F811  (only the main process prints)
    validate_options(config)
    strategy = strategy_from_config(al)  # randomness: select's random_state, from (seed, round) below
    data = load_multilabel_data(config.data, config.data.dataset_seed, config.model.cache_dir, given.dataset)
    if given.dataset is not None:
        config = with_in_memory_name(config, data)
    train_targets = data.targets("train")  # read only by the default oracle and by stratified initial sampling
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
    models = ModelSource(config.model, model=given.model, model_init=given.model_init)
    if models.user_given:  # one model built now (model_init) to check its head and find its tokenizer
        probe = models.initial if models.initial is not None else models.fresh()
        models.check_labels(probe, data.label_names)
        tokenizer = given.tokenizer if given.tokenizer is not None else load_tokenizer(
            config.model, default=getattr(probe, "name_or_path", None) or None)
        model_config = probe = None  # not kept: a round builds its own
    else:
        tokenizer = given.tokenizer if given.tokenizer is not None else load_tokenizer(config.model)
        model_config = models.config = load_model_config(config.model, data.label_names)
        if state is None or Phase(state.data["phase"]) is Phase.START:
            check_model_loads(config.model, model_config)
    labels = LabelStore(data.label_names, data.original_ids("train"), data.splits["train"]["text"], train_targets,
                        given.oracle)
    check_writable(output_dir)

    # ---- from here on we write
    held["lock"] = lock_run_folder(output_dir)
    held["output_dir"] = output_dir
    if _state_bytes(output_dir) != seen:  # another run wrote the folder while we checked: read it again
        state = _resume_state(output_dir, config, config_dict)
        if state is not None and state.data["finished"]:
            log(f"the run in {output_dir} has already finished; nothing to do (--overwrite starts it over)")
            return state.data["statistics"]
    recorder = RunRecorder(output_dir, config_dict, seed, option_defaults())
    recorder.statistics["output_dir"] = str(output_dir)
    recorder.statistics["processes"] = world_size()
    if given.describe():
        recorder.statistics["given"] = given.describe()  # not saved themselves: a resume needs them again
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
        labels.ask(labeled)
        state.data = {"config_hash": config_hash(config_dict), "config": config_dict, "round": 0, "phase": Phase.START,
                      "labeled_ids": labeled.tolist(), "partial": {}, "finished": False, "files": {},
                      "eval_index": recorder.eval_index, "answers": labels.answers()}
    else:
        recorder.statistics = state.data["statistics"]
        recorder.statistics.setdefault("resumed_at", []).append(now_iso())
        recorder.eval_index = state.data["eval_index"]
        labels.restore(state.data.get("answers"), state.data["labeled_ids"])
        log(f"resuming {output_dir} at round {state.data['round']}, phase {state.data['phase']}")
    # --report_to; opened after --overwrite cleared logs/ (TensorBoard writes there)
    held["trackers"] = open_trackers(training_args, output_dir, config_dict, is_main_process())

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
    scoring = {"batch_size": eval_batch, "progress": progress,
               "autocast_dtype": autocast_dtype(training_args, config.model.scoring_precision)}
    log(f"{data.name}: {len(train_targets)} train / {len(targets['validation'])} validation / "
        f"{len(targets['test'])} test, {len(data.label_names)} labels; strategy {strategy.name}; run folder {output_dir}")
    log(TABLE_HEADER)
    for record in recorder.statistics["rounds"]:
        log(table_row(record))

    ctx = RoundContext(
        config=config, state=state, commit=commit, recorder=recorder, strategy=strategy, tokenizer=tokenizer,
        tokenized=tokenized, labels=labels, models=models, targets=targets, candidates=candidates, data=data,
        budget=budget, scoring=scoring, seed=seed, output_dir=output_dir, log=log, trackers=held["trackers"],
    )
    if ctx.phase is not Phase.START or (config.model.continue_from_previous_round and state.model_dir):
        ctx.model = models.saved(str(state.model_dir))
    try:
        while state.data["round"] < al.rounds:
            run_round(ctx)
            if state.data.pop("stop", False):
                log("stopping early: the label budget is spent or the pool is empty")
                break
    except KeyboardInterrupt:
        log(f"interrupted: the run is saved up to round {state.data['round']}, phase {state.data['phase']}; "
            "rerun the same command to resume")
        raise
    if training_args.push_to_hub and is_main_process():  # the entry script uploads this folder (mlal.hub)
        ctx.model.save_pretrained(output_dir / FINAL_MODEL)
        tokenizer.save_pretrained(output_dir / FINAL_MODEL)
    recorder.finish()
    state.untrack_phase_files(keep_model=False)
    commit(finished=True, partial={})
    if is_main_process():
        shutil.rmtree(state.phase_dir, ignore_errors=True)
    log(f"results: {output_dir}")
    return recorder.statistics


