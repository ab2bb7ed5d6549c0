"""What a run shows while it runs: one table row per round on stdout, one labelled bar per phase on a terminal.

stdout carries the dataset summary, :data:`TABLE_HEADER`, one :func:`table_row` per round with its
stopping-advice line, and ``results: <run folder>``. Trainer's per-epoch/step log dicts do not go there:
:class:`TrainerLogFile` keeps them in ``<run>/logs/trainer_round_<k>.jsonl`` and shows them on stderr only
with ``--log_level info`` (or ``debug``), as Trainer itself does for its own messages. Progress bars (one
per phase: train, evaluate, pool scoring) appear only when stderr is a terminal, as tqdm's ``disable=None``
decides; the bars that transformers, datasets and huggingface_hub draw themselves (loading weights,
writing model shards, tokenising) are switched off. Warnings still go to stderr through :mod:`logging`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm
from transformers import TrainerCallback

from .run_format import LOGS_DIR

logger = logging.getLogger(__name__)

TABLE_HEADER = f"{'round':>5} {'labeled':>8} {'micro-F1':>9} {'macro-F1':>9} {'mAP':>7} {'tuned-F1':>9} {'seconds':>8}"
TRAINER_LOG = "trainer_round_{round:03d}.jsonl"  # under <run>/logs/


def table_row(record: dict) -> str:
    test, tuned = record["test"], record["test_at_tuned_threshold"]
    return (
        f"{record['round']:>5} {record['labeled_count']:>8} {test['micro_f1']:>9.4f} {test['macro_f1']:>9.4f} "
        f"{test['mean_average_precision']:>7.4f} {tuned['micro_f1']:>9.4f} {sum(record['seconds'].values()):>8.1f}"
    )


def trainer_log_path(output_dir: Path, round_index: int) -> Path:
    """Where round ``round_index``'s Trainer log history is kept (one JSON object per line)."""
    return Path(output_dir) / LOGS_DIR / TRAINER_LOG.format(round=round_index)


def quiet_library_progress_bars() -> None:
    """Switch off the bars transformers, datasets and huggingface_hub draw (loading weights, writing model
    shards, ``Dataset.map``): the run draws its own, one per phase, and only on a terminal."""
    import datasets
    import huggingface_hub.utils
    import transformers.utils.logging

    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    huggingface_hub.utils.disable_progress_bars()


def progress_disabled(disable_tqdm: bool) -> Optional[bool]:
    """tqdm's ``disable``: True with ``--disable_tqdm``, else None (drawn only when stderr is a terminal)."""
    return True if disable_tqdm else None


def echoes_trainer_logs(training_args) -> bool:
    """Whether Trainer's log dicts are shown on stderr too: ``--log_level info`` or ``debug`` (HF's levels)."""
    return training_args.get_process_log_level() <= logging.INFO


class TrainerLogFile(TrainerCallback):
    """Keeps Trainer's ``log_history`` (losses per epoch or step, eval metrics, runtime) in a JSONL file.

    The whole history is rewritten at every log event, so a training resumed from a Trainer checkpoint (whose
    state carries the earlier history) leaves one complete file, never duplicates.
    """

    def __init__(self, path: Path, echo: bool = False):
        self.path = Path(path)
        self.echo = echo

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_text("".join(json.dumps(entry) + "\n" for entry in state.log_history))
        os.replace(temporary, self.path)
        if self.echo and logs:
            logger.info("trainer: %s", json.dumps(logs))


class PhaseProgressBar(TrainerCallback):
    """One labelled bar over Trainer's optimisation steps (replaces Trainer's unlabelled bars and printer)."""

    def __init__(self, description: str, disable: Optional[bool]):
        self.description = description
        self.disable = disable
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.description, leave=False,
                            disable=self.disable, dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
