"""Fine-tuning one round with Hugging Face ``Trainer``."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from transformers import DataCollatorWithPadding, Trainer


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


def fine_tune(
    model,
    train_dataset,
    tokenizer,
    training_args,
    pos_weight: Optional[np.ndarray] = None,
    output_dir: Optional[Path] = None,
) -> dict[str, Any]:
    """Train ``model`` in place on ``train_dataset``; return the loss history and seconds taken."""
    with tempfile.TemporaryDirectory(prefix="mlal-trainer-") as scratch:
        args = dataclasses.replace(
            training_args,
            output_dir=str(output_dir or scratch),
            save_strategy="no",
            # pinned memory only helps (and only exists) with an accelerator
            dataloader_pin_memory=training_args.dataloader_pin_memory and torch.cuda.is_available(),
        )
        trainer = MultiLabelTrainer(
            model=model,
            args=args,
            train_dataset=train_dataset,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
            pos_weight=None if pos_weight is None else torch.as_tensor(pos_weight),
        )
        start = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - start
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {"train_loss": float(result.training_loss), "epoch_losses": losses, "seconds": seconds}
