"""Name -> strategy class: the built-in registry, plug-ins by import path and entry points.

``get_strategy`` resolves a name in this order:

1. a built-in strategy registered with :func:`register` (``entropy``, ``bald``, ...);
2. an import path ``package.module:ClassName`` naming a subclass of :class:`~mlal.acquisition.Strategy`
   in the user's own module (importable: installed, or on ``sys.path`` / ``PYTHONPATH``);
3. an entry point of the group ``mlal.strategies`` (``importlib.metadata``) of that name, which a
   package declares in its ``pyproject.toml``::

       [project.entry-points."mlal.strategies"]
       my_strategy = "my_package.strategies:MyStrategy"
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import NamedTuple

from .base import Strategy, unknown_option_message

STRATEGIES: dict[str, type] = {}
ENTRY_POINT_GROUP = "mlal.strategies"


def register(cls: type) -> type:
    if not cls.name or cls.name in STRATEGIES:
        raise ValueError(f"strategy name {cls.name!r} is empty or already registered")
    STRATEGIES[cls.name] = cls
    return cls


def _entry_points() -> dict:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def _check_strategy_class(obj, origin: str) -> type:
    if not (isinstance(obj, type) and issubclass(obj, Strategy)):
        raise ValueError(f"{origin} is not a strategy: make it a subclass of mlal.acquisition.Strategy "
                         "(or ScoringStrategy) with needs, summary and _select or score")
    return obj


def _import_path(path: str) -> type:
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"strategy {path!r}: write an import path as module:ClassName, e.g. my_module:MyStrategy")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"strategy {path!r}: cannot import module {module_name!r} ({exc}); put its folder on "
                         "PYTHONPATH or install it") from None
    obj = module
    for attribute in class_name.split("."):
        if not hasattr(obj, attribute):
            raise ValueError(f"strategy {path!r}: module {module_name!r} has no {class_name!r}; check the class name")
        obj = getattr(obj, attribute)
    return _check_strategy_class(obj, f"{path!r}")


def strategy_class(name: str) -> type:
    """The class behind a strategy name (built-in, module:Class, or entry point); ValueError otherwise."""
    if name in STRATEGIES:
        return STRATEGIES[name]
    if ":" in name:
        return _import_path(name)
    found = _entry_points().get(name)
    if found is None:
        raise ValueError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)} (see --list-strategies), "
                         "or give your own as module:ClassName")
    try:
        obj = found.load()
    except Exception as exc:  # the plug-in's own import failed: say which one
        raise ValueError(f"strategy {name!r} (entry point {found.value}) cannot be loaded: "
                         f"{type(exc).__name__}: {exc}") from None
    return _check_strategy_class(obj, f"entry point {name!r} ({found.value})")


def get_strategy(name: str, **options) -> Strategy:
    """Instantiate strategy ``name`` with keyword ``options`` (its constructor parameters).

    Raises ValueError naming the valid strategies when ``name`` is unknown, naming the option and the
    options the strategy takes when an option is unknown, and the constructor's own ValueError for a bad
    value. ``name`` may be a built-in name, ``module:ClassName`` or an entry point (module docstring).
    """
    cls = strategy_class(name)
    valid = cls._get_param_names()
    for key in options:
        if key not in valid:
            raise ValueError(unknown_option_message(cls, key))
    return cls(**options)


class StrategyInfo(NamedTuple):
    name: str
    summary: str
    cost: str  # what scoring the pool costs: forward passes, MC passes, embeddings, labeled outputs
    options: tuple  # constructor parameters


def list_strategies() -> list[StrategyInfo]:
    """Every built-in strategy in registration order, then the installed entry points' (sorted by name).

    An entry point that cannot be loaded is listed with the reason in its summary."""
    infos = [_info(name, cls) for name, cls in STRATEGIES.items()]
    for name in sorted(set(_entry_points()) - set(STRATEGIES)):
        try:
            infos.append(_info(name, strategy_class(name)))
        except ValueError as exc:
            infos.append(StrategyInfo(name, f"(cannot be used: {exc})", "?", ()))
    return infos


def _info(name: str, cls: type) -> StrategyInfo:
    return StrategyInfo(name, cls.summary, cls.needs.cost(), tuple(cls._get_param_names()))
