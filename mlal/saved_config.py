"""Configs saved by runs of other versions: every option's default, recorded with each run, and an older run's
config completed with the defaults of the options it predates (a run saved before an option existed ran as the
option's default does)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .config import ActiveLearningArguments, DataArguments, ModelArguments, _jsonable, config_from_options


def option_defaults() -> dict[str, dict[str, Any]]:
    """What ``ExperimentConfig.to_dict`` saves when no option is set: every option's default in its section, Trainer
    keys resolved as a run resolves them (our defaults, then ``TrainingArguments``' own). Saved with each run
    (statistics.json ``option_defaults``), so that a reader (the gallery's grouping) can fill in what a run saved
    by an older version lacks with the value it ran as."""
    return config_from_options({}).to_dict()


def with_later_options_at_defaults(saved: dict[str, Any]) -> dict[str, Any]:
    """A saved config (``ExperimentConfig.to_dict``) with every option of ours that it lacks set to its default: a
    run saved by a version before the option existed ran as the option's default does, so a newer version
    resumes it unless the option is now set to something else."""
    filled = {section: dict(values) for section, values in saved.items()}
    sections = {"model": ModelArguments, "data": DataArguments, "active_learning": ActiveLearningArguments}
    for section, arguments in sections.items():
        values = filled.setdefault(section, {})
        for option in dataclasses.fields(arguments):
            if option.name not in values and option.default is not dataclasses.MISSING:
                values[option.name] = _jsonable(option.default)
    return filled
