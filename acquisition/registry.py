"""Name -> strategy class registry used by ``--strategy`` and ``--list-strategies``."""

from __future__ import annotations

import inspect

STRATEGIES: dict[str, type] = {}


def register(cls: type) -> type:
    if not cls.name or cls.name in STRATEGIES:
        raise ValueError(f"strategy name {cls.name!r} is empty or already registered")
    STRATEGIES[cls.name] = cls
    return cls


def list_strategies() -> list[tuple[str, str]]:
    """(name, one-line summary) for every registered strategy, in registration order."""
    return [(name, cls.summary) for name, cls in STRATEGIES.items()]


def get_strategy(name: str, **options):
    """Instantiate strategy ``name``; options that its constructor does not take are ignored.

    Raises ValueError naming the valid strategies when ``name`` is unknown.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)} (see --list-strategies)")
    cls = STRATEGIES[name]
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{key: value for key, value in options.items() if key in accepted})
