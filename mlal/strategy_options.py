"""From the command line's strategy options to a strategy object, in one table.

The CLI names each strategy's hyper-parameter ``<strategy>_<parameter>`` (``--margin_aggregation``); the
strategy's constructor takes ``<parameter>`` (``Margin(aggregation=...)``). :data:`CLI_STRATEGY_OPTIONS`
maps one to the other. :func:`strategy_from_config` passes a strategy only the options it takes; an option
set to a non-default value for a strategy that does not take it is refused with one line (UsageError).
A plug-in (``--strategy my_module:MyStrategy``) is imported from the current folder, PYTHONPATH or an
installed package, and built with its constructor's defaults.
"""

from __future__ import annotations

import dataclasses
import os
import sys

from .errors import UsageError

# CLI option (ActiveLearningArguments field) -> (strategy name, constructor parameter)
CLI_STRATEGY_OPTIONS: dict[str, tuple[str, str]] = {
    "margin_aggregation": ("margin", "aggregation"),
    "adaptive_beta": ("adaptive", "beta"),
    "beal_variant": ("beal", "variant"),
    "mmc_decision": ("mmc", "decision"),
    "cluster_margin_factor": ("cluster_margin", "factor"),
    "cluster_margin_threshold": ("cluster_margin", "threshold"),
    "cluster_margin_neighbors": ("cluster_margin", "neighbors"),
}


def _defaults(al) -> dict:
    return {f.name: f.default for f in dataclasses.fields(al) if f.name in CLI_STRATEGY_OPTIONS}


def strategy_options(al) -> dict:
    """The constructor options for ``al.strategy`` from the CLI options; UsageError for one set in vain."""
    defaults, options = _defaults(al), {}
    for cli_name, (owner, parameter) in CLI_STRATEGY_OPTIONS.items():
        value = getattr(al, cli_name)
        if owner == al.strategy:
            options[parameter] = value
        elif value != defaults[cli_name]:
            raise UsageError(f"--{cli_name} is an option of strategy {owner!r}, not of {al.strategy!r}; "
                             f"drop it or use --strategy {owner}")
    return options


def strategy_from_config(al):
    """The strategy object of an :class:`~mlal.config.ActiveLearningArguments` (UsageError when it cannot
    be built: unknown name, a plug-in that cannot be imported, an option set for another strategy, a bad
    value)."""
    from mlal.acquisition import get_strategy

    options = strategy_options(al)
    if ":" in al.strategy and os.getcwd() not in sys.path:  # module:Class from the current folder, as uvicorn does
        sys.path.append(os.getcwd())
    try:
        return get_strategy(al.strategy, **options)
    except ValueError as exc:
        message = str(exc)
        for cli_name, (owner, parameter) in CLI_STRATEGY_OPTIONS.items():  # name the flag the user typed
            if owner == al.strategy and message.startswith(f"{parameter} "):
                message = f"--{cli_name}{message[len(parameter):]}"
        raise UsageError(message) from None


def describe_strategies() -> str:
    """What --list-strategies prints: per strategy, its name and summary, then what scoring costs and the
    command-line options it takes."""
    from mlal.acquisition import list_strategies

    lines = []
    for info in list_strategies():
        flags = [f"--{cli}" for cli, (owner, _) in CLI_STRATEGY_OPTIONS.items() if owner == info.name]
        options = ", ".join(flags) if info.name in _builtin_names() else ", ".join(info.options)
        lines.append(f"{info.name:<17} {info.summary}")
        lines.append(f"{'':<17}   cost: {info.cost}" + (f"; options: {options}" if options else ""))
    return "\n".join(lines)


def _builtin_names() -> set:
    from mlal.acquisition import STRATEGIES

    return set(STRATEGIES)
