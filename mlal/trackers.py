"""The active-learning curve for experiment trackers: ``--report_to tensorboard|wandb|trackio|mlflow``.

``--report_to`` is Trainer's own option; here it receives one point per round, logged with
``step = labels used`` (the round's labeled count), so the tracker's x-axis is the AL curve's:

- ``al/round``, ``al/labeled_count``;
- ``test/micro_f1``, ``test/macro_f1``, ``test/mean_average_precision`` (threshold 0.5) and
  ``test/micro_f1_tuned_threshold``;
- ``train/loss`` (the round's mean training loss), ``stopping/kappa`` when there is one;
- ``seconds/<phase>`` for train, evaluate, pool_scoring and acquisition.

Trainer's own per-epoch/step logs stay in the run folder (``logs/trainer_round_<k>.jsonl``,
:mod:`mlal.console`); the per-round Trainers are not given the trackers (each would start a run of its own
with a step counter restarting at 0). Only the main process logs. A tracker whose package is not installed
is refused before the run starts (:func:`check_report_to`); no tracker is a dependency of this project.
TensorBoard event files go to ``<run>/logs/tensorboard``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Callable

from .errors import UsageError
from .redact import redact_text

# report_to name -> the package it needs
PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "trackio": "trackio", "mlflow": "mlflow"}
# Trainer integrations that are not metric trackers (kubeflow is added by transformers when available).
NOT_TRACKERS = ("codecarbon", "kubeflow")
PROJECT = "mlal-active-learning"  # wandb / trackio project unless WANDB_PROJECT / TRACKIO_PROJECT is set


def requested_trackers(training_args) -> list[str]:
    """``--report_to`` as a list of tracker names ("none" is [], "all" was expanded by TrainingArguments)."""
    report_to = training_args.report_to or []
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    return [name for name in names if name not in ("none", *NOT_TRACKERS)]


def check_report_to(training_args) -> None:
    """Raise :class:`UsageError` for a ``--report_to`` tracker that is unsupported or not installed."""
    for name in requested_trackers(training_args):
        if name not in PACKAGES:
            raise UsageError(f"--report_to {name} is not supported for the active-learning curve; use one of "
                             f"{', '.join(PACKAGES)} (Trainer's per-epoch logs are kept in <run>/logs/)")
        if importlib.util.find_spec(PACKAGES[name]) is None:
            raise UsageError(f"--report_to {name} needs the {PACKAGES[name]} package, which is not installed: "
                             f"pip install {PACKAGES[name]}, or drop --report_to {name}")


def round_metrics(record: dict) -> dict[str, float]:
    """The scalars of one finished round (a record of ``statistics.json``) that trackers receive."""
    metrics = {
        "al/round": record["round"],
        "al/labeled_count": record["labeled_count"],
        "test/micro_f1": record["test"]["micro_f1"],
        "test/macro_f1": record["test"]["macro_f1"],
        "test/mean_average_precision": record["test"]["mean_average_precision"],
        "test/micro_f1_tuned_threshold": record["test_at_tuned_threshold"]["micro_f1"],
        **{f"seconds/{phase}": seconds for phase, seconds in record["seconds"].items()},
    }
    if record.get("train_loss") is not None:
        metrics["train/loss"] = record["train_loss"]
    kappa = record.get("stopping", {}).get("kappa")
    if kappa is not None:
        metrics["stopping/kappa"] = kappa
    return {name: float(value) for name, value in metrics.items()}


def _tensorboard(output_dir: Path, run_name: str, config: dict):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(output_dir / "logs" / "tensorboard"))

    def log(metrics: dict, step: int) -> None:
        for name, value in metrics.items():
            writer.add_scalar(name, value, global_step=step)
        writer.flush()

    return log, writer.close


def _wandb(output_dir: Path, run_name: str, config: dict):
    import wandb

    run = wandb.init(project=os.environ.get("WANDB_PROJECT", PROJECT), name=run_name, config=config)
    return (lambda metrics, step: run.log(metrics, step=step)), run.finish


def _trackio(output_dir: Path, run_name: str, config: dict):
    import trackio

    trackio.init(project=os.environ.get("TRACKIO_PROJECT", PROJECT), name=run_name, config=config)
    return (lambda metrics, step: trackio.log(metrics, step=step)), trackio.finish


def _mlflow(output_dir: Path, run_name: str, config: dict):
    import mlflow

    mlflow.start_run(run_name=run_name)
    return (lambda metrics, step: mlflow.log_metrics(metrics, step=step)), mlflow.end_run


BACKENDS: dict[str, Callable] = {"tensorboard": _tensorboard, "wandb": _wandb, "trackio": _trackio, "mlflow": _mlflow}


class ALCurveTrackers:
    """The ``--report_to`` trackers of one run; :meth:`log_round` after each round, :meth:`close` at the end.

    With no tracker (``--report_to none``, the default) both are no-ops.
    """

    def __init__(self, names: list[str], output_dir: Path, run_name: str, config: dict):
        self.names = list(names)
        self._backends = [BACKENDS[name](Path(output_dir), run_name, config) for name in self.names]

    def log_round(self, record: dict) -> None:
        metrics = round_metrics(record)
        for log, _close in self._backends:
            log(metrics, int(record["labeled_count"]))

    def close(self) -> None:
        backends, self._backends = self._backends, []
        for _log, close in backends:
            close()


def open_trackers(training_args, output_dir: Path, config: dict, main_process: bool = True) -> ALCurveTrackers:
    """The trackers ``--report_to`` names (none on processes other than the main one)."""
    names = requested_trackers(training_args) if main_process else []
    run_name = redact_text(training_args.run_name or str(output_dir))  # a tracker is a place a token must not go
    return ALCurveTrackers(names, output_dir, run_name, config)
