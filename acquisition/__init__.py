"""Acquisition functions for multi-label active learning: pure functions of arrays.

Import a strategy by name with :func:`get_strategy` (built-in, ``module:ClassName`` or an entry point
of the group ``mlal.strategies``); :func:`list_strategies` lists them with what each costs.
This package never imports the training loop, Trainer or plotting.
"""

# Registration order is the order --list-strategies prints.
from . import uncertainty  # noqa: F401,I001
from . import set_based  # noqa: F401,I001
from . import bayesian  # noqa: F401,I001
from . import diversity  # noqa: F401,I001
from .base import (
    AcquisitionInput,
    AcquisitionInputError,
    ModelOutputs,
    Needs,
    ScoringStrategy,
    Selection,
    Strategy,
    binary_entropy,
    stable_random,
    top_k,
)
from .mc import MCAccumulator, MCDropoutStats, MCStatistic, mc_statistics_from_passes
from .registry import STRATEGIES, StrategyInfo, get_strategy, list_strategies, register, strategy_class

__all__ = [
    "AcquisitionInput", "AcquisitionInputError", "MCAccumulator", "MCDropoutStats", "MCStatistic", "ModelOutputs",
    "Needs", "STRATEGIES", "ScoringStrategy", "Selection", "Strategy", "StrategyInfo", "binary_entropy",
    "get_strategy", "list_strategies", "mc_statistics_from_passes", "register", "stable_random", "strategy_class",
    "top_k",
]
