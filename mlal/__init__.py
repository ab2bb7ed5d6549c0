"""Deep active learning for multi-label text classification (the loop, data, model and results).

Python API::

    from mlal import make_config, run_experiment
    stats = run_experiment(make_config(config="configs/demo.yaml", strategy="entropy", rounds=2))
    stats = run_experiment(dataset=my_dataset_dict, oracle=my_labeller, model_init=my_model_init, rounds=5)

Submodules load lazily, so light ones (``mlal.metrics``) can be used without importing the
training stack. The strategies and the figures are ``mlal.acquisition`` and ``mlal.plotting``: installed they
live inside this package; in a clone they are the top-level folders ``acquisition/`` and ``plotting/`` (the
repository's layout), mapped onto those names by :mod:`mlal._clone` so the same imports work in both.
"""

from importlib import import_module

from . import _clone

_clone.map_top_level_packages(__name__, ("acquisition", "plotting"))

_EXPORTS = {
    "ActiveLearningArguments": "config", "DataArguments": "config", "ExperimentConfig": "config",
    "ModelArguments": "config", "make_config": "config", "parse_config": "config",
    "UsageError": "errors", "run_experiment": "loop",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'mlal' has no attribute {name!r}")
