"""Pushing a run's final model to the Hugging Face Hub with a model card and its decision thresholds.

The uploaded folder (``<run>/hub``) holds the final model and tokenizer, ``README.md`` (the model card,
:mod:`mlal.model_card`), the run's ``statistics.json`` and the learning-curve figure. ``config.json``
carries the labels (``id2label``/``label2id``, ``problem_type: multi_label_classification``) and the
thresholds the reported metrics used: ``mlal_threshold`` (global) and ``mlal_per_class_thresholds``
(by label name), both tuned on validation in the last round.

One run pushes to ``--hub_model_id`` (branch ``--hub_revision`` if given); each run of a sweep pushes to
its own repo, ``<hub_model_id>-<strategy>-seed<k>``. Only the main process pushes. Tokens come from
``HF_TOKEN``, ``hf auth login`` or ``--hub_token``; they are never printed, saved or uploaded
(:mod:`mlal.redact`), and no local path (run folder, home, data or model folder) is uploaded either.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from .distributed import is_main_process
from .errors import UsageError
from .redact import redact, redact_text
from .run_format import FINAL_MODEL_DIR as FINAL_MODEL
from .run_format import HUB_DIR as UPLOAD_DIR
from .run_format import STATISTICS
TEXT_SUFFIXES = {".json", ".md", ".txt", ".yaml", ".yml", ".jinja"}
# Keys that transformers writes into saved configs and that name the folder the model was loaded from.
LOCAL_KEYS = ("_name_or_path", "name_or_path", "is_local", "local_files_only", "_commit_hash")
# An absolute, home-relative or ./ ../ path inside a string (not a URL and not a Hub id such as user/name).
LOCAL_PATH = re.compile(r"(?<![\w:/.~-])(?:~|\.{1,2})?/[^\s'\",;=]*")
BRANCH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")
# --help text for Trainer's Hub options, as this tool uses them (mlal.config.build_parser applies it).
HUB_HELP = {
    "--hub_model_id": "Repo for --push_to_hub (user/name); in a sweep each run pushes to <id>-<strategy>-seed<k>.",
    "--hub_revision": "Branch to push to (created if missing); unset: the default branch, main.",
    "--hub_strategy": "Only 'end' (the default): the final model is pushed once, with its model card and thresholds.",
    "--hub_always_push": "Not supported (it concerns Trainer's checkpoint pushes, which this tool does not make).",
}


def check_hub_options(training_args) -> None:
    """Refuse (UsageError, one line) the Hub options this tool cannot honour, before anything is written.

    The final model is pushed once, at the end of the run: ``--hub_strategy`` other than ``end`` and
    ``--hub_always_push`` (Trainer's checkpoint pushes) are refused; ``--hub_model_id`` and
    ``--hub_revision`` must be a valid repo id and branch name.
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    strategy = str(getattr(training_args.hub_strategy, "value", training_args.hub_strategy))
    if strategy != "end":
        raise UsageError(f"--hub_strategy {strategy} is not supported: the final model is pushed once, with its model "
                         "card, at the end of the run; drop --hub_strategy (or use --save_checkpoints to keep rounds)")
    if training_args.hub_always_push:
        raise UsageError("--hub_always_push applies to Trainer's checkpoint pushes, which this tool does not make "
                         "(it pushes the final model once); drop --hub_always_push")
    if not training_args.push_to_hub:
        return
    repo_id = training_args.hub_model_id
    if not repo_id:
        raise UsageError("--push_to_hub needs --hub_model_id user/name")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise UsageError(f"--hub_model_id {repo_id!r} is not a valid Hub repo id ({str(exc).split('.')[0]}); "
                         "use user/name with letters, digits, '-', '_' or '.'") from None
    revision = training_args.hub_revision
    if revision is not None and (not BRANCH.match(revision) or ".." in revision or revision.endswith(("/", ".lock"))):
        raise UsageError(f"--hub_revision {revision!r} is not a valid branch name; use letters, digits, '-', '_', "
                         "'.' or '/' (e.g. --hub_revision round-robin-v2)")


def run_repo_id(training_args, strategy: str, seed: int, sweep: bool = False) -> str:
    """The repo a run pushes to: ``--hub_model_id``, or ``<hub_model_id>-<strategy>-seed<k>`` in a sweep."""
    repo_id = training_args.hub_model_id
    return f"{repo_id}-{strategy}-seed{seed}" if sweep else repo_id


def push_run(config, statistics: dict, sweep: bool = False) -> Optional[str]:
    """Render the learning curves, assemble ``<run>/hub`` and upload it; the commit URL, or None when this
    run does not push (no --push_to_hub, or not the main process of a multi-process run)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    training = config.training
    if not training.push_to_hub or not is_main_process():
        return None
    repo_id = run_repo_id(training, config.al.strategy, training.seed, sweep)
    run_dir = Path(statistics["output_dir"])
    if not (run_dir / FINAL_MODEL).is_dir():
        raise UsageError(f"{run_dir} holds a run that finished without saving its final model (it ran without "
                         "--push_to_hub); rerun it with --overwrite --push_to_hub")
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise UsageError(f"the sweep's repo id {repo_id!r} is not a valid Hub repo id (too long?); use a shorter "
                         "--hub_model_id (finished runs are kept and skipped on the rerun)") from None

    import matplotlib.pyplot as plt

    from .lock import FolderLock
    from mlal.plotting import find_runs, learning_curves_figure, save_figure

    with FolderLock(run_dir, purpose="Hub upload"):  # it writes figures/ and hub/ into the run folder
        figure = learning_curves_figure(find_runs([run_dir]))
        png = save_figure(figure, run_dir / "figures", "learning_curves")[0]
        plt.close(figure)
        folder = prepare_upload_folder(run_dir, statistics, repo_id, png, revision=training.hub_revision)
    url = push_folder(folder, repo_id, token=training.hub_token, private=training.hub_private_repo,
                      revision=training.hub_revision)
    print(f"pushed {folder} to the Hub: {url}")
    return url


def strip_local_paths(value: Any) -> Any:
    """A copy of a JSON-like structure where every local path in a string becomes ``<local>/<last part>``."""
    if isinstance(value, dict):
        return {k: strip_local_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_local_paths(v) for v in value]
    if isinstance(value, str):
        return LOCAL_PATH.sub(lambda m: "<local>/" + Path(m.group(0).rstrip("/")).name, value)
    return value


def save_thresholds(config_path: Path, statistics: dict[str, Any]) -> None:
    """Write the labels and the last round's tuned thresholds into a saved model's ``config.json``."""
    labels = list(statistics["label_names"])
    final = statistics["rounds"][-1]
    config = json.loads(config_path.read_text())
    saved = [config.get("id2label", {}).get(str(i)) for i in range(len(labels))]
    if saved != labels:
        raise RuntimeError(f"{config_path} labels {saved} differ from the run's labels {labels}")
    config.update(
        id2label={str(i): label for i, label in enumerate(labels)},
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="multi_label_classification",
        mlal_threshold=float(final["tuned_threshold"]),
        mlal_per_class_thresholds={label: float(t) for label, t in zip(labels, final["per_class_thresholds"])},
    )
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _drop_local_keys(folder: Path) -> None:
    for name in ("config.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        path = folder / name
        if path.is_file():
            data = json.loads(path.read_text())
            if isinstance(data, dict) and any(key in data for key in LOCAL_KEYS):
                path.write_text(json.dumps({k: v for k, v in data.items() if k not in LOCAL_KEYS}, indent=2) + "\n")


def local_roots(run_dir: Path, statistics: dict[str, Any]) -> list[str]:
    """Folders of this machine whose names must not appear in an uploaded file."""
    roots = {Path(run_dir).resolve(), Path(run_dir).absolute(), Path.home(), Path.cwd(), Path(sys.prefix),
             Path(tempfile.gettempdir()).resolve(), Path(__file__).resolve().parents[1]}
    data = statistics.get("config", {})
    for value in (data.get("model", {}).get("model"), data.get("data", {}).get("dataset")):
        if value and Path(str(value)).exists():
            roots.add(Path(str(value)).resolve())
    return sorted({str(root) for root in roots if len(root.parts) > 1})


def check_no_local_paths(folder: Path, roots: list[str]) -> None:
    """Raise UsageError (and upload nothing) if a text file of ``folder`` names one of ``roots``."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = path.read_text(errors="surrogateescape")
            for root in roots:
                if any(root + end in text for end in (os.sep, '"', "'")):
                    raise UsageError(f"{path} names the local folder {root}; not uploading (please report this)")


def prepare_upload_folder(run_dir: Path, statistics: dict[str, Any], repo_id: str, figure: Optional[Path] = None,
                          revision: Optional[str] = None) -> Path:
    """Assemble ``<run_dir>/hub`` from the saved final model, the statistics, the figure and the model card."""
    from .model_card import base_model_info, build_model_card, check_card, dataset_info

    run_dir = Path(run_dir)
    source = run_dir / FINAL_MODEL
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is missing: the run did not save its final model")
    statistics = redact(statistics)
    roots = local_roots(run_dir, statistics)
    base = base_model_info(statistics["config"]["model"]["model"])
    dataset = dataset_info(statistics["config"]["data"]["dataset"], statistics["config"]["data"].get("dataset_config"))
    statistics = {key: value if key == "label_names" else strip_local_paths(value) for key, value in statistics.items()}
    folder = run_dir / UPLOAD_DIR
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder)
    _drop_local_keys(folder)
    save_thresholds(folder / "config.json", statistics)
    (folder / STATISTICS).write_text(json.dumps(statistics, indent=2))
    figure_name = None
    if figure is not None and Path(figure).is_file():
        figure_name = Path(figure).name
        shutil.copy(figure, folder / figure_name)
    card = str(build_model_card(statistics, repo_id, base, dataset, revision, figure_name))
    check_card(card, repo_id, statistics["label_names"])
    (folder / "README.md").write_text(card)
    for path in folder.rglob("*"):  # last guard: no token-like string leaves in any text file
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = path.read_text(errors="surrogateescape")
            if redact_text(text) != text:
                path.write_text(redact_text(text), errors="surrogateescape")
    check_no_local_paths(folder, roots)
    return folder


def push_folder(folder: Path, repo_id: str, token: Optional[str] = None, private: Optional[bool] = None,
                revision: Optional[str] = None) -> str:
    """Create the repo (and the branch ``revision``) if needed and upload ``folder``; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id=repo_id, exist_ok=True, private=private)
    if revision:
        api.create_branch(repo_id=repo_id, branch=revision, exist_ok=True)
    commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, revision=revision,
                               commit_message="Upload model trained by multi-label active learning")
    return str(getattr(commit, "commit_url", commit))
