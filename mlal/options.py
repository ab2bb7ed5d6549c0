"""Checks of an experiment's active-learning options, made before anything runs or is written."""

from __future__ import annotations

import numpy as np

from .config import ExperimentConfig
from .errors import UsageError
from .hub import check_hub_options
from .sampling import subsample_ids
from .training import validates_during_training


def validate_options(config: ExperimentConfig) -> None:
    """Raise :class:`UsageError` (one line naming the option and the fix) for inconsistent AL options."""
    al = config.al
    # Checks of one option alone are the dataclasses' own (__post_init__ in mlal.config, Literal choices);
    # here: checks that relate several options.
    checks = [
        (al.pool_subsample is None or al.rounds == 1 or al.pool_subsample >= al.query_size,
         f"--pool_subsample {al.pool_subsample} is smaller than --query_size {al.query_size}: a round acquires only "
         "from the scored subsample; raise --pool_subsample or lower --query_size"),
        (al.label_budget is None or al.label_budget >= al.initial_size, "--label_budget must be >= --initial_size"),
        (al.early_stopping_patience is None or validates_during_training(config.training),
         "--early_stopping_patience needs --eval_strategy epoch (validation during each round's training)"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    check_hub_options(config.training)  # --hub_strategy, --hub_revision, ... (mlal.hub)


def candidate_ids(config: ExperimentConfig, n_train: int, seed: int) -> np.ndarray:
    """Training rows that may be labeled: all of them, or a seeded fraction (--pool_fraction)."""
    ids = np.arange(n_train)
    if config.al.pool_fraction is not None and config.al.pool_fraction < 1:
        ids = subsample_ids(ids, max(1, int(round(config.al.pool_fraction * n_train))), seed)
    al = config.al
    pool_after_initial = len(ids) - al.initial_size
    if pool_after_initial < 0:
        raise UsageError(
            f"--initial_size {al.initial_size} is larger than the {len(ids)} candidate examples; "
            "lower --initial_size or use more data"
        )
    if pool_after_initial == 0 and al.rounds > 1:  # one round on every candidate (a full-data run) needs no pool
        raise UsageError(
            f"the unlabeled pool is empty: --initial_size {al.initial_size} uses all {len(ids)} candidate examples; "
            "lower --initial_size, use more data, or train on all of them with --rounds 1"
        )
    if al.rounds > 1 and al.query_size > pool_after_initial:
        raise UsageError(
            f"--query_size {al.query_size} is larger than the unlabeled pool ({pool_after_initial} examples); "
            "lower --query_size or use more data"
        )
    return ids
