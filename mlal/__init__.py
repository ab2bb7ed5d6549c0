"""Deep active learning for multi-label text classification (the loop, data, model and results).

Python API::

    from mlal import make_config, run_experiment
    stats = run_experiment(make_config(config="configs/demo.yaml", strategy="entropy", rounds=2))

Submodules load lazily, so light ones (``mlal.metrics``) can be used without importing the
training stack.
"""

from importlib import import_module

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
