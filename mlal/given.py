"""What a Python caller may hand :func:`mlal.loop.run_experiment` instead of naming it in the config.

* ``dataset``: a ``datasets.DatasetDict`` (or one ``Dataset``, taken as train) with the text and labels columns
  the command line understands (``--text_column``, ``--label_column``, label formats of :mod:`mlal.labels`), or
  a path (anything ``--dataset`` accepts, including a ``save_to_disk`` folder);
* ``model`` (a ``PreTrainedModel`` instance, deep-copied per round; a string is the ``--model`` option) or
  ``model_init`` (a callable returning a fresh model, called once per round), see :class:`mlal.modeling.ModelSource`;
  ``tokenizer`` (else ``--tokenizer`` / ``--model`` is loaded);
* ``oracle``: who labels the acquired examples, see :mod:`mlal.oracle`.

None of these objects is saved in the run folder; a run resumes only when called again with the same ones.
An in-memory dataset is recorded in the config as ``in_memory:sha256:<digest of its texts and labels>``, so a
resume with different data is refused like any other config change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from .config import ExperimentConfig, make_config
from .data import IN_MEMORY, SPLITS, MultiLabelData
from .errors import UsageError


@dataclass
class GivenInputs:
    """The objects a caller passed in place of config options (all optional)."""

    dataset: Any = None  # datasets.DatasetDict or Dataset, in memory
    model: Any = None  # a PreTrainedModel instance
    model_init: Optional[Callable[[], Any]] = None
    tokenizer: Any = None
    oracle: Optional[Callable] = None

    def describe(self) -> dict[str, str]:
        """What was given, for the run's statistics (the objects themselves are not saved)."""
        described = {}
        if self.dataset is not None:
            described["dataset"] = f"{type(self.dataset).__name__} in memory"
        if self.model is not None:
            described["model"] = f"{type(self.model).__name__} instance"
        if self.model_init is not None:
            described["model"] = f"model_init {getattr(self.model_init, '__qualname__', type(self.model_init).__name__)}"
        if self.tokenizer is not None:
            described["tokenizer"] = type(self.tokenizer).__name__
        if self.oracle is not None:
            described["oracle"] = getattr(self.oracle, "__qualname__", type(self.oracle).__name__)
        return described


def resolve_inputs(config: Optional[ExperimentConfig], options: dict, **given: Any) -> tuple[ExperimentConfig, GivenInputs]:
    """The config (``config`` or ``make_config(**options)``) and the objects given, checked before anything runs."""
    from datasets import Dataset, DatasetDict

    if config is not None and options:
        raise UsageError(f"pass either a config or options such as {next(iter(options))}=..., not both; "
                         "build one config with make_config(**options)")
    dataset, model = given.get("dataset"), given.get("model")
    paths = {}
    if isinstance(dataset, (str, os.PathLike)):
        paths["dataset"], given["dataset"] = str(dataset), None
    elif dataset is not None and not isinstance(dataset, (Dataset, DatasetDict)):
        raise UsageError(f"dataset must be a datasets.DatasetDict, a Dataset or a path, not {type(dataset).__name__}")
    if isinstance(model, (str, os.PathLike)):  # a model name is the --model option
        paths["model"], given["model"] = str(model), None
    if config is None:
        config = make_config(**options, **paths)
    elif paths:
        config = dataclasses.replace(
            config, data=dataclasses.replace(config.data, dataset=paths.get("dataset", config.data.dataset)),
            model=dataclasses.replace(config.model, model=paths.get("model", config.model.model)))
    inputs = GivenInputs(**given)
    if inputs.oracle is not None and not callable(inputs.oracle):
        raise UsageError(f"oracle must be a callable oracle(original_ids, texts) -> labels, not "
                         f"{type(inputs.oracle).__name__}")
    if inputs.oracle is not None and config.al.initial_sampling == "stratified":
        raise UsageError("initial_sampling 'stratified' reads the labels of the whole pool, which an oracle does not "
                         "give; use initial_sampling='random' or 'kmeans'")
    if (inputs.model is not None or inputs.model_init is not None) and config.al.initial_sampling == "kmeans":
        raise UsageError("initial_sampling 'kmeans' embeds the pool with the config's --model, not a given model; "
                         "use initial_sampling='random', or pass the model by name")
    return config, inputs


def with_in_memory_name(config: ExperimentConfig, data: MultiLabelData) -> ExperimentConfig:
    """The config naming an in-memory dataset by a digest of its texts and labels (so resuming checks the data)."""
    digest = hashlib.sha256()
    for split in SPLITS:
        digest.update("\0".join(data.splits[split]["text"]).encode())
        digest.update(np.ascontiguousarray(data.targets(split)).tobytes())
        digest.update("\0".join(data.original_ids(split).tolist()).encode())
    digest.update("\0".join(data.label_names).encode())
    name = f"{IN_MEMORY}:sha256:{digest.hexdigest()[:16]}"
    return dataclasses.replace(config, data=dataclasses.replace(config.data, dataset=name))
