"""Which of Trainer's ``TrainingArguments`` keys work in the active-learning loop, and which are refused.

Every key of ``TrainingArguments`` passes through the command line and YAML. Each round trains with
``Trainer`` (:mod:`mlal.training`), but pool scoring, test evaluation, resuming and the Hub upload are
mlal's own, so some keys would be silently ignored or would break the loop. :data:`TRAINER_KEYS`
classifies every field (``dataclasses.fields(TrainingArguments)``):

* ``SUPPORTED``: passed to ``Trainer`` for each round's training (or read by mlal itself);
* ``HUB``: Hub keys, checked by :mod:`mlal.hub`;
* anything else is a reason string: the key is refused when the user sets it (command line or YAML),
  before anything is written, with that reason in the one-line error.

A key this table does not know (a field added by a newer transformers) is refused too, until it is
classified here; ``tests/test_trainer_options.py`` fails when the table and the installed
``TrainingArguments`` disagree.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

from .errors import UsageError

SUPPORTED = "supported"
HUB = "handled by mlal.hub"

_ROUND_LOOP = "every round trains on the labeled set, then mlal evaluates on validation and test and scores the pool"
_OWN_INFERENCE = ("mlal scores the pool and the test set with the trained model outside Trainer, which a sharded "
                  "model cannot do; use plain data-parallel processes (torchrun / accelerate launch)")

TRAINER_KEYS: dict[str, str] = {
    # read by mlal itself
    "output_dir": SUPPORTED,  # the run folder (default results/<dataset>/<strategy>/seed<k>)
    "seed": SUPPORTED,  # the run's one random state: initial set, model init, acquisition ties
    "local_rank": SUPPORTED,  # set by launchers
    "push_to_hub": SUPPORTED, "hub_model_id": SUPPORTED, "hub_token": SUPPORTED, "hub_private_repo": SUPPORTED,
    "hub_strategy": HUB, "hub_revision": HUB, "hub_always_push": HUB,
    # optimisation
    **dict.fromkeys((
        "per_device_train_batch_size", "num_train_epochs", "max_steps", "learning_rate", "lr_scheduler_type",
        "lr_scheduler_kwargs", "warmup_steps", "optim", "optim_args", "weight_decay", "adam_beta1", "adam_beta2",
        "adam_epsilon", "optim_target_modules", "gradient_accumulation_steps", "average_tokens_across_devices",
        "max_grad_norm", "auto_find_batch_size", "neftune_noise_alpha",
    ), SUPPORTED),
    # precision, memory and speed (--bf16/--fp16 also set the autocast dtype of pool scoring)
    **dict.fromkeys((
        "bf16", "fp16", "bf16_full_eval", "fp16_full_eval", "tf32", "activation_checkpointing",
        "activation_checkpointing_kwargs", "gradient_checkpointing", "gradient_checkpointing_kwargs",
        "torch_compile", "torch_compile_backend", "torch_compile_mode", "use_liger_kernel", "liger_kernel_config",
        "use_cache", "torch_empty_cache_steps", "use_cpu", "full_determinism", "data_seed", "debug",
        "skip_memory_metrics", "accelerator_config", "parallelism_config",
    ), SUPPORTED),
    # logging
    **dict.fromkeys((
        "logging_strategy", "logging_steps", "logging_first_step", "log_on_each_node", "logging_nan_inf_filter",
        "include_num_input_tokens_seen", "log_level", "log_level_replica", "disable_tqdm", "report_to", "run_name",
        "project", "trackio_space_id", "trackio_bucket_id", "trackio_static_space_id",
    ), SUPPORTED),
    # in-round validation (--eval_strategy epoch + --load_best_model_at_end + --early_stopping_patience)
    **dict.fromkeys((
        "eval_strategy", "eval_steps", "eval_delay", "per_device_eval_batch_size", "eval_on_start",
        "eval_do_concat_batches", "eval_use_gather_object", "eval_accumulation_steps", "include_for_metrics",
        "load_best_model_at_end", "metric_for_best_model", "greater_is_better",
    ), SUPPORTED),
    # checkpoints inside a round (resumed from when an interrupted run is rerun)
    **dict.fromkeys((
        "save_strategy", "save_steps", "save_on_each_node", "save_total_limit", "save_only_model",
        "enable_jit_checkpoint", "ignore_data_skip", "restore_callback_states_from_checkpoint",
    ), SUPPORTED),
    # data loading and processes
    **dict.fromkeys((
        "dataloader_drop_last", "dataloader_num_workers", "dataloader_pin_memory", "dataloader_persistent_workers",
        "dataloader_prefetch_factor", "dataloader_multiprocessing_context", "dataloader_in_order",
        "remove_unused_columns", "train_sampling_strategy", "length_column_name", "ddp_find_unused_parameters",
        "ddp_bucket_cap_mb", "ddp_broadcast_buffers", "ddp_static_graph", "ddp_backend", "ddp_timeout",
    ), SUPPORTED),
    # refused, with the reason shown in the error
    "resume_from_checkpoint": "an AL run resumes by rerunning the same command (same --output_dir)",
    "do_train": f"{_ROUND_LOOP}; use --rounds",
    "do_eval": f"{_ROUND_LOOP}; use --eval_strategy epoch for validation during a round's training",
    "do_predict": f"{_ROUND_LOOP}; the test predictions of every round are saved in eval/round_XXX.npz",
    "label_smoothing_factor": "the loss is mlal's binary cross-entropy; choose it with --loss",
    "label_names": "the labels are always the 'labels' column mlal builds; name the data's column with --label_column",
    "prediction_loss_only": "in-round validation reports mean average precision, which needs the predictions",
    "batch_eval_metrics": "in-round validation computes mean average precision over all predictions at once",
    "fsdp": _OWN_INFERENCE,
    "fsdp_config": _OWN_INFERENCE,
    "deepspeed": _OWN_INFERENCE,
}


def refused_reason(key: str) -> str | None:
    """Why ``key`` cannot be used in an AL run, or None when it works (or :mod:`mlal.hub` checks it)."""
    kind = TRAINER_KEYS.get(key, "it is not known to work in the AL loop (new in this transformers version?)")
    return None if kind in (SUPPORTED, HUB) else kind


def check_trainer_options(explicit: Iterable[str], training_field_names: Iterable[str]) -> None:
    """Raise :class:`UsageError` for the first refused ``TrainingArguments`` key the user set.

    ``explicit``: option names the user gave (command line or YAML); only those are checked, since
    ``TrainingArguments`` itself changes some fields (``--eval_strategy epoch`` turns on ``do_eval``).
    """
    fields = set(training_field_names)
    for key in sorted(set(explicit) & fields):
        reason = refused_reason(key)
        if reason is not None:
            raise UsageError(f"--{key} is not used: {reason}; remove it")


def training_field_names() -> list[str]:
    from transformers import TrainingArguments

    return [f.name for f in dataclasses.fields(TrainingArguments) if f.init]
