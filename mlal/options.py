"""Checks of an experiment's active-learning options, made before anything runs or is written."""

from __future__ import annotations

import numpy as np

from .config import ExperimentConfig
from .errors import UsageError
from .hub import check_hub_options
from .sampling import INITIAL_SAMPLING, subsample_ids
from .training import validates_during_training


def validate_options(config: ExperimentConfig) -> None:
    """Raise :class:`UsageError` (one line naming the option and the fix) for inconsistent AL options."""
    al = config.al
    checks = [
        (al.initial_size >= 1, "--initial_size must be at least 1"),
        (al.query_size >= 1, "--query_size must be at least 1"),
        (al.rounds >= 1, "--rounds must be at least 1"),
        (al.mc_passes >= 1, "--mc_passes must be at least 1"),
        (al.mc_dropout_layers >= 0, "--mc_dropout_layers must be 0 (full MC dropout) or a number of top layers"),
        (al.initial_sampling in INITIAL_SAMPLING, f"--initial_sampling must be one of {', '.join(INITIAL_SAMPLING)}"),
        (0 <= al.stop_kappa <= 1 and al.stop_window >= 1, "--stop_kappa must be in [0, 1] and --stop_window >= 1"),
        (al.loss in ("bce", "weighted_bce"), "--loss must be 'bce' or 'weighted_bce'"),
        (al.pool_subsample is None or al.pool_subsample >= 1, "--pool_subsample must be at least 1"),
        (al.pool_subsample is None or al.rounds == 1 or al.pool_subsample >= al.query_size,
         f"--pool_subsample {al.pool_subsample} is smaller than --query_size {al.query_size}: a round acquires only "
         "from the scored subsample; raise --pool_subsample or lower --query_size"),
        (al.pool_fraction is None or 0 < al.pool_fraction <= 1, "--pool_fraction must be in (0, 1]"),
        (al.label_budget is None or al.label_budget >= al.initial_size, "--label_budget must be >= --initial_size"),
        (al.early_stopping_patience is None or al.early_stopping_patience >= 1,
         "--early_stopping_patience must be at least 1"),
        (al.early_stopping_patience is None or validates_during_training(config.training),
         "--early_stopping_patience needs --eval_strategy epoch (validation during each round's training)"),
        (config.data.max_length >= 8, "--max_length must be at least 8"),
        (not config.training.push_to_hub or bool(config.training.hub_model_id),
         "--push_to_hub needs --hub_model_id user/name"),
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
    if pool_after_initial <= 0:
        raise UsageError(
            f"the unlabeled pool is empty: --initial_size {al.initial_size} uses all {len(ids)} candidate examples; "
            "lower --initial_size or use more data"
        )
    if al.rounds > 1 and al.query_size > pool_after_initial:
        raise UsageError(
            f"--query_size {al.query_size} is larger than the unlabeled pool ({pool_after_initial} examples); "
            "lower --query_size or use more data"
        )
    return ids
