"""The run folder's file names and array keys, in one place (no heavy imports: plotting reads it too).

Every module that writes or reads a run folder (mlal.results, mlal.state, mlal.run_folder, mlal.loop,
plotting.runs) and the tests take the names from here.

Layout of ``<output_dir>`` (format :data:`FORMAT_VERSION`)::

    statistics.json           config, option_defaults (every option's default, for readers of older runs),
                              provenance, format_version, one record per round
    metrics.csv               one row per round: labeled count, headline metrics, phase seconds
    requirements-frozen.txt   pip freeze of the environment that ran
    state.json, state/        resumable state of the run (mlal.state)
    eval/index.json           which arrays each round's .npz holds, with shapes
    eval/round_000.npz        the arrays below
    checkpoints/              each round's model (--save_checkpoints) and Trainer checkpoints inside a round
    final_model/, hub/, figures/   written for --push_to_hub (mlal.hub)

Format versions: 1 had no version field; 2 wrote ``"schema_version": 2``; 3 writes ``"format_version": 3``
(same content). Readers accept every version up to :data:`FORMAT_VERSION` and refuse newer ones with
:func:`check_format_version` (a file written by a newer mlal).

Arrays of ``eval/round_XXX.npz`` (ids are row numbers of the train split; ``*_original_ids`` are the
dataset's own ids of the same rows; targets are multi-hot uint8 of shape (n, n_labels))::

    test_probs, test_targets, validation_probs, validation_targets, label_names
    labeled_ids, labeled_original_ids, labeled_targets          the labeled set this round trained on
    selected_ids, selected_original_ids, selected_targets       the batch acquired this round
    selected_scores                                             acquisition score of each selected example
    pool_ids, pool_original_ids, pool_scores                    every scored pool example and its score
    pool_scores_recorded                                        False (scores all NaN) for strategies that
                                                                rank without a per-example score (badge, coreset)
"""

from __future__ import annotations

import re

FORMAT_VERSION = 3
FORMAT_KEY = "format_version"  # the key of FORMAT_VERSION in statistics.json
SCHEMA_VERSION = FORMAT_VERSION  # former name
STATISTICS = "statistics.json"
METRICS_CSV = "metrics.csv"
REQUIREMENTS = "requirements-frozen.txt"
STATE = "state.json"
STATE_DIR = "state"
EVAL_DIR = "eval"
EVAL_INDEX = "index.json"
CHECKPOINTS_DIR = "checkpoints"
FINAL_MODEL_DIR = "final_model"
HUB_DIR = "hub"
FIGURES_DIR = "figures"
LOGS_DIR = "logs"  # Trainer log history per round, tracker files (mlal.console, mlal.trackers)

# Options that do not change what a run computes: ignored when matching a rerun to its run folder (mlal.state)
# and when grouping runs in the gallery (plotting.groups), which also ignores the seed.
NON_SEMANTIC = frozenset({
    "overwrite", "list_strategies", "output_dir", "disable_tqdm", "logging_dir", "run_name", "report_to",
    "push_to_hub", "hub_model_id", "hub_token", "hub_strategy", "hub_private_repo", "hub_revision", "hub_always_push",
    "save_checkpoints",
    "log_level", "log_level_replica", "save_strategy", "save_steps", "save_total_limit",
    "stop_kappa", "stop_window",  # only the stopping advice printed beside the run
})
SEED_KEYS = frozenset({"seed"})

# Metrics of each evaluated set written to metrics.csv (prefix: the record key, e.g. test_micro_f1).
HEADLINE_METRICS = ("micro_f1", "macro_f1", "samples_f1", "micro_precision", "micro_recall", "hamming_loss",
                    "subset_accuracy", "mean_average_precision", "micro_average_precision")
EVALUATIONS = ("test", "test_at_tuned_threshold", "test_at_per_class_thresholds", "validation")
PHASES = ("train", "evaluate", "pool_scoring", "acquisition")


class RunFormatError(ValueError):
    """A run folder written in a format this version cannot read."""


def format_version(statistics: dict) -> int:
    """The format version of a statistics.json document (2 was written as schema_version; 1 had none)."""
    return int(statistics.get(FORMAT_KEY, statistics.get("schema_version", 1)))


def check_format_version(statistics: dict, source: object = STATISTICS) -> int:
    """The document's format version; :class:`RunFormatError` when it is newer than :data:`FORMAT_VERSION`."""
    version = format_version(statistics)
    if version > FORMAT_VERSION:
        raise RunFormatError(
            f"{source} is in run format {version}, newer than this mlal reads (format {FORMAT_VERSION}); "
            "update mlal (git pull, or pip install -U) to read it"
        )
    return version


def strategy_folder(strategy: str) -> str:
    """A run-folder name for a strategy name: built-in names stay; a plug-in's import path
    ``package.module:Class`` becomes ``package.module.Class`` (no colon, which Windows and some tools refuse);
    any other character outside [A-Za-z0-9._-] becomes '_'."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", strategy.replace(":", ".")).lstrip(".")
    return name or "strategy"


def round_file(round_number: int) -> str:
    """The file name of a round's arrays inside :data:`EVAL_DIR`."""
    return f"round_{int(round_number):03d}.npz"


def metrics_row(record: dict) -> dict:
    """The flat metrics.csv row of one round record (missing values are empty cells)."""
    row = {"round": record["round"], "labeled_count": record["labeled_count"],
           "pool_scored": record.get("pool_scored", ""), "tuned_threshold": record.get("tuned_threshold", ""),
           "last_epoch_loss": (record.get("epoch_losses") or [""])[-1],
           "train_loss_all_epochs": record.get("train_loss", "")}
    for evaluation in EVALUATIONS:
        for metric in HEADLINE_METRICS:
            row[f"{evaluation}_{metric}"] = record.get(evaluation, {}).get(metric, "")
    seconds = record.get("seconds", {})
    for phase in PHASES:
        row[f"seconds_{phase}"] = seconds.get(phase, "")
    row["seconds_total"] = sum(seconds.values()) if seconds else ""
    return row
