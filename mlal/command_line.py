"""The command line: one argparse parser over every option, read once (also for YAML files).

:func:`given_options` returns exactly the options the user set (``--config`` YAML first, then the
command line), typed and checked against their choices; :mod:`mlal.config` builds the dataclasses
from them, and knows from them which keys were set explicitly.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError
from .sweep import SWEEP_FLAGS


def _option_classes():
    from .config import ActiveLearningArguments, DataArguments, ModelArguments, _training_arguments_class

    return ModelArguments, DataArguments, ActiveLearningArguments, _training_arguments_class()


def build_parser(given_only: bool = False):
    """The command line of every option (HfArgumentParser over the four dataclasses, plus --config).

    Argparse errors (unknown choice, bad number) raise :class:`UsageError`, so they print as one
    ``error: ...`` line with exit status 2. ``--strategy`` and ``--seed`` accept comma-separated lists (a
    sweep, see :mod:`mlal.sweep`). With ``given_only`` every default is suppressed, so parsing returns exactly
    the options that were given (the ``--help`` text still shows the defaults).
    """
    from transformers import HfArgumentParser

    from .config import TRAINER_DEFAULTS

    class OptionParser(HfArgumentParser):
        suppressed: list = []  # (action, default) pairs hidden by given_only, shown again by --help

        def error(self, message):
            raise UsageError(f"{message}; see --help")

        def format_help(self):
            saved = [(action, action.default) for action in self._actions]
            for action, default in self.suppressed:
                action.default = default
            try:
                return super().format_help()
            finally:
                for action, default in saved:
                    action.default = default

    from .hub import HUB_HELP

    parser = OptionParser(
        _option_classes(),
        description="Deep active learning for multi-label text classification. Options come from --config "
        "(YAML, flat keys) and are overridden by the command line; Trainer's TrainingArguments pass through "
        "(see mlal/trainer_options.py for the few that are refused).",
    )
    parser.add_argument("--config", default=None, help="YAML file of option values (flat keys as on the command line).")
    parser.set_defaults(**TRAINER_DEFAULTS)
    for action in parser._actions:
        if "--hub_token" in action.option_strings:
            action.help = ("Hub token for --push_to_hub. Prefer the HF_TOKEN environment variable or `hf auth login` "
                           "(`huggingface-cli login`): a token on the command line can end up in your shell history. "
                           "It is never saved, logged or uploaded.")
        for option, text in HUB_HELP.items():  # what the final push does with Trainer's Hub options (mlal.hub)
            if option in action.option_strings:
                action.help = text
        if action.dest in SWEEP_FLAGS:
            action.type = _sweepable(action.type or str)
    if given_only:
        parser.suppressed = [(action, action.default) for action in parser._actions if action.dest != "help"]
        for action, _ in parser.suppressed:
            action.default = argparse.SUPPRESS
        parser._defaults.clear()
    return parser


def _sweepable(convert):
    """``convert`` for one value, a list of converted values for a comma-separated sweep."""
    def parse(text: str):
        if "," in text:
            return [convert(part.strip()) for part in text.split(",") if part.strip()]
        return convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")  # argparse names the type in its errors
    return parse


def known_keys() -> set[str]:
    keys = {"config"}
    for cls in _option_classes():
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


def read_options(tokens: list[str]) -> dict[str, Any]:
    """The options given in ``tokens`` (command-line form), typed, as ``{name: value}``; nothing else.

    The one parse of a command line: values are converted and checked against their choices by
    argparse; names missing from the result were not given. Unknown options raise :class:`UsageError`.
    """
    values, unknown = build_parser(given_only=True).parse_known_args(list(tokens))
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r}; see --help for the valid options")
    return vars(values)


def given_options(argv: list[str]) -> dict[str, Any]:
    """Every option the user set: the YAML file of ``--config`` first, overridden by the command line."""
    command_line = read_options(argv)
    config_path = command_line.pop("config", None)
    values = {}
    if config_path:
        yaml_values = load_yaml_config(config_path)
        yaml_values.pop("config", None)
        values = read_options(options_to_argv(yaml_values))
    values.update(command_line)
    return values
