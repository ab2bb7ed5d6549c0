"""Deep active learning for multi-label text classification (the loop, data, model and results).

Python API::

    from mlal import make_config, run_experiment
    stats = run_experiment(make_config(config="configs/demo.yaml", strategy="entropy", rounds=2))
"""

from .config import ActiveLearningArguments, DataArguments, ExperimentConfig, ModelArguments, make_config, parse_config
from .errors import UsageError
from .loop import run_experiment

__all__ = [
    "ActiveLearningArguments", "DataArguments", "ExperimentConfig", "ModelArguments", "UsageError",
    "make_config", "parse_config", "run_experiment",
]
