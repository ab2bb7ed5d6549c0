"""Fine-tuning one round with Hugging Face ``Trainer``."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from .console import PhaseProgressBar, TrainerLogFile, echoes_trainer_logs, progress_disabled
from .faults import maybe_fail
from .metrics import mean_average_precision
from .redact import redact_text

NOTEBOOK_BAR = "NotebookProgressCallback"  # Trainer's default in Jupyter, in place of ProgressCallback


def positive_weights(targets: np.ndarray, max_weight: float) -> np.ndarray:
    """Per-label weight of positives for BCE: (#negatives / #positives) on the labeled set,
    clipped to [1, max_weight]; labels without positives get max_weight."""
    positives = targets.sum(axis=0)
    negatives = len(targets) - positives
    ratio = np.divide(negatives, positives, out=np.full_like(positives, max_weight, dtype=float), where=positives > 0)
    return np.clip(ratio, 1.0, max_weight).astype(np.float32)


class MultiLabelTrainer(Trainer):
    """``Trainer`` with binary cross-entropy on logits and optional per-label positive weights."""

    def __init__(self, *args, pos_weight: Optional[torch.Tensor] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pos_weight = pos_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.logits
        weight = None if self.pos_weight is None else self.pos_weight.to(logits.device, logits.dtype)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), pos_weight=weight)
        return (loss, outputs) if return_outputs else loss


class FaultInjectionCallback(TrainerCallback):
    """Lets the crash tests kill a run in the middle of training (see :mod:`mlal.faults`)."""

    def on_step_end(self, args, state, control, **kwargs):
        maybe_fail("train_step")


def validation_map(eval_prediction) -> dict[str, float]:
    """``compute_metrics`` for in-round validation: mean average precision of the sigmoid outputs
    (macro over labels with a positive; reported by Trainer as ``eval_mean_average_precision``)."""
    logits, targets = eval_prediction.predictions, eval_prediction.label_ids
    probs = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
    return {"mean_average_precision": mean_average_precision(np.asarray(targets), probs)}


def validates_during_training(training_args) -> bool:
    """True when Trainer evaluates during a round (``--eval_strategy epoch|steps``)."""
    return training_args.eval_strategy != "no"  # a str enum


def fine_tune(
    model,
    train_dataset,
    tokenizer,
    training_args,
    pos_weight: Optional[np.ndarray] = None,
    checkpoint_dir: Optional[Path] = None,
    eval_dataset=None,
    early_stopping_patience: Optional[int] = None,
    log_file: Optional[Path] = None,
    description: str = "train",
) -> dict[str, Any]:
    """Train ``model`` in place on ``train_dataset``; return the loss history and seconds taken.

    When ``training_args.save_strategy`` is not "no", Trainer checkpoints go to ``checkpoint_dir``
    and an interrupted training resumes from the latest one; the folder is removed afterwards.

    With ``--eval_strategy epoch`` (or ``steps``) Trainer evaluates on ``eval_dataset`` (the round's
    validation split) and reports its loss and mean average precision. ``--save_strategy best
    --load_best_model_at_end --metric_for_best_model mean_average_precision`` keeps the best model of the
    round (Trainer's own mechanism, through a checkpoint written only when the metric improves), and
    ``early_stopping_patience`` adds Trainer's ``EarlyStoppingCallback``.

    Trainer's log history (loss per epoch or step, validation metrics) is kept in ``log_file`` (JSONL) and
    shown on stderr only with ``--log_level info``; its bars and printer give way to one bar labelled
    ``description``, drawn only on a terminal (:mod:`mlal.console`). ``--report_to`` trackers get the
    active-learning curve from the loop (:mod:`mlal.trackers`), not Trainer's per-round logs.
    """
    validate = validates_during_training(training_args)
    use_checkpoints = checkpoint_dir is not None and training_args.save_strategy != "no"  # a str enum
    with tempfile.TemporaryDirectory(prefix="mlal-trainer-") as scratch:
        output_dir = Path(checkpoint_dir) if use_checkpoints else Path(scratch)
        resume = get_last_checkpoint(str(output_dir)) if use_checkpoints and output_dir.is_dir() else None
        args = dataclasses.replace(
            training_args,
            output_dir=str(output_dir),
            save_strategy=training_args.save_strategy if use_checkpoints else "no",
            push_to_hub=False,  # the final model is pushed once, with a model card (mlal.hub)
            # Trainer pickles its args into checkpoints (training_args.bin): never a token, nor a token-shaped
            # string in the run name (mlal.redact)
            hub_token=None,
            run_name=redact_text(training_args.run_name) if training_args.run_name else training_args.run_name,
            report_to=[],  # trackers get the AL curve, one point per round (mlal.trackers)
            # pinned memory only helps (and only exists) with an accelerator
            dataloader_pin_memory=training_args.dataloader_pin_memory and torch.cuda.is_available(),
        )
        callbacks: list[TrainerCallback] = [
            FaultInjectionCallback(), PhaseProgressBar(description, progress_disabled(training_args.disable_tqdm))]
        if log_file is not None:
            callbacks.append(TrainerLogFile(log_file, echo=echoes_trainer_logs(training_args)))
        if validate and early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=early_stopping_patience))
        trainer = MultiLabelTrainer(
            model=model,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset if validate else None,
            compute_metrics=validation_map if validate else None,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
            pos_weight=None if pos_weight is None else torch.as_tensor(pos_weight),
            callbacks=callbacks,
        )
        for callback in list(trainer.callback_handler.callbacks):  # log dicts on stdout, unlabelled bars
            if isinstance(callback, (PrinterCallback, ProgressCallback)) or type(callback).__name__ == NOTEBOOK_BAR:
                trainer.remove_callback(callback)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = trainer.train(resume_from_checkpoint=resume)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if use_checkpoints:
            shutil.rmtree(output_dir, ignore_errors=True)
    history = trainer.state.log_history
    losses = [entry["loss"] for entry in history if "loss" in entry]
    # CPU seconds (all threads of this process) are comparable between runs on a shared machine.
    fit = {"train_loss": float(result.training_loss), "epoch_losses": losses, "seconds": seconds,
           "train_cpu_seconds": cpu_seconds,
           "steps": int(trainer.state.global_step), "epochs": float(trainer.state.epoch or 0.0)}
    if validate:
        fit["validation_curve"] = [
            {"epoch": entry.get("epoch"), "loss": entry.get("eval_loss"),
             "mean_average_precision": entry.get("eval_mean_average_precision")}
            for entry in history if "eval_loss" in entry
        ]
        fit["best_metric"] = trainer.state.best_metric
    return fit
