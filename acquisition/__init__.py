"""Acquisition functions for multi-label active learning: pure functions of arrays.

Import a strategy by name with :func:`get_strategy`; :func:`list_strategies` lists them.
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
    MCDropoutStats,
    ModelOutputs,
    Needs,
    ScoringStrategy,
    Selection,
    Strategy,
    binary_entropy,
    stable_random,
    top_k,
)
from .registry import STRATEGIES, get_strategy, list_strategies, register

__all__ = [
    "AcquisitionInput", "AcquisitionInputError", "MCDropoutStats", "ModelOutputs", "Needs", "STRATEGIES",
    "ScoringStrategy", "Selection", "Strategy", "binary_entropy", "get_strategy", "list_strategies", "register", "stable_random", "top_k",
]
