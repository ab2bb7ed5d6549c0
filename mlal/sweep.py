"""Sweeps: ``--strategy a,b,c --seed 1,2,3`` expands to one run per pair.

Each run gets its own folder (``results/<dataset>/<strategy>/seed<k>`` by default, or
``<output_dir>/<strategy>/seed<k>`` when --output_dir is given; a plug-in ``module:Class`` gets the folder
``module.Class``, :func:`mlal.run_format.strategy_folder`). Runs go one after the other;
a finished run is skipped and an interrupted one resumes, so a sweep can be continued anywhere.
The command line is parsed once (:func:`mlal.config.given_options`); a comma-separated value of a
sweep flag arrives here as a list.
"""

from __future__ import annotations

import itertools
from typing import Any

from .run_format import strategy_folder

SWEEP_FLAGS = ("strategy", "seed")


def expand_sweep(values: dict[str, Any], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """One option mapping per (strategy, seed) pair; ``[values]`` itself when nothing is swept.

    ``values``: the options the user set (a list for a swept flag); ``defaults``: strategy and seed used in
    the per-run folder names when one of them is not swept and not given.
    """
    swept = {name: values[name] for name in SWEEP_FLAGS if isinstance(values.get(name), list)}
    if not swept:
        return [values]
    runs = []
    for combination in itertools.product(*swept.values()):
        run = {**values, **dict(zip(swept, combination))}
        if "output_dir" in values:
            strategy, seed = (run.get(name, defaults.get(name)) for name in ("strategy", "seed"))
            run["output_dir"] = f"{str(values['output_dir']).rstrip('/')}/{strategy_folder(strategy)}/seed{seed}"
        runs.append(run)
    return runs
