"""Sweeps: ``--strategy a,b,c --seed 1,2,3`` on the command line expands to one run per pair.

Each run gets its own folder (``results/<dataset>/<strategy>/seed<k>`` by default, or
``<output_dir>/<strategy>/seed<k>`` when --output_dir is given; a plug-in ``module:Class`` gets the folder
``module.Class``, :func:`mlal.run_format.strategy_folder`). Runs go one after the other;
a finished run is skipped and an interrupted one resumes, so a sweep can be continued anywhere.
"""

from __future__ import annotations

import itertools

from .run_format import strategy_folder

SWEEP_FLAGS = ("strategy", "seed")


def _find(argv: list[str], name: str) -> tuple[int, str] | None:
    for i, token in enumerate(argv):
        if token in (f"--{name}", f"--{name.replace('_', '-')}") and i + 1 < len(argv):
            return i, argv[i + 1]
        if token.split("=", 1)[0] in (f"--{name}", f"--{name.replace('_', '-')}") and "=" in token:
            return i, token.split("=", 1)[1]
    return None


def _set(argv: list[str], name: str, value: str) -> list[str]:
    found = _find(argv, name)
    if found is None:
        return [*argv, f"--{name}", value]
    i, _ = found
    if "=" in argv[i]:
        return [*argv[:i], f"--{name}={value}", *argv[i + 1:]]
    return [*argv[:i + 1], value, *argv[i + 2:]]


def expand_sweep(argv: list[str]) -> list[list[str]]:
    """One argument list per (strategy, seed) pair; ``[argv]`` itself when nothing is swept."""
    values = {}
    for name in SWEEP_FLAGS:
        found = _find(argv, name)
        if found and "," in found[1]:
            values[name] = [v.strip() for v in found[1].split(",") if v.strip()]
    if not values:
        return [argv]
    base = _find(argv, "output_dir")
    runs = []
    for combination in itertools.product(*(values[name] for name in values)):
        run_argv = list(argv)
        chosen = dict(zip(values, combination))
        for name, value in chosen.items():
            run_argv = _set(run_argv, name, value)
        if base is not None:
            strategy = chosen.get("strategy") or (_find(run_argv, "strategy") or (0, "run"))[1]
            seed = chosen.get("seed") or (_find(run_argv, "seed") or (0, "default"))[1]
            run_argv = _set(run_argv, "output_dir", f"{base[1].rstrip('/')}/{strategy_folder(strategy)}/seed{seed}")
        runs.append(run_argv)
    return runs
