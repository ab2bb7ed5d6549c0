"""Pushing the final model to the Hugging Face Hub with a model card.

The folder that is uploaded holds the final model and tokenizer, ``README.md`` (the model card, with
YAML metadata), the run's ``statistics.json`` and the learning-curve figure. Tokens come from
``HF_TOKEN``, ``hf auth login`` (``huggingface-cli login``) or ``--hub_token``; they are never printed,
saved or uploaded (:mod:`mlal.redact` masks them in everything prepared for upload).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Optional

import yaml

from .redact import redact, redact_text

FINAL_MODEL = "final_model"
TEXT_SUFFIXES = {".json", ".md", ".txt", ".yaml", ".yml", ".jinja"}


def _metric_rows(rounds: list[dict[str, Any]]) -> list[str]:
    rows = ["| round | labeled | micro-F1 | macro-F1 | mAP | micro-F1 at tuned threshold |", "|---|---|---|---|---|---|"]
    for r in rounds:
        test, tuned = r["test"], r["test_at_tuned_threshold"]
        rows.append(f"| {r['round']} | {r['labeled_count']} | {test['micro_f1']:.4f} | {test['macro_f1']:.4f} | "
                    f"{test['mean_average_precision']:.4f} | {tuned['micro_f1']:.4f} (t = {r['tuned_threshold']:.2f}) |")
    return rows


def build_model_card(statistics: dict[str, Any], figure_name: Optional[str] = "learning_curves.png") -> str:
    """The README.md of the pushed model: YAML metadata, then what was trained, how, and how well."""
    config = statistics["config"]
    rounds = statistics["rounds"]
    final = rounds[-1]
    base_model = config["model"]["model"]
    dataset = config["data"]["dataset"]
    strategy = config["active_learning"]["strategy"]
    metadata = {
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "base_model": base_model,
        "datasets": [dataset],
        "tags": ["multi-label-classification", "active-learning", f"acquisition-{strategy}"],
        "metrics": ["f1", "average_precision"],
        "model-index": [{
            "name": f"{Path(str(base_model)).name}-{strategy}-active-learning",
            "results": [{
                "task": {"type": "text-classification", "name": "Multi-label text classification"},
                "dataset": {"name": str(dataset), "type": str(dataset)},
                "metrics": [
                    {"type": "f1", "name": "micro-F1 (threshold 0.5)", "value": round(final["test"]["micro_f1"], 4)},
                    {"type": "f1", "name": "macro-F1 (threshold 0.5)", "value": round(final["test"]["macro_f1"], 4)},
                    {"type": "average_precision", "name": "mean average precision",
                     "value": round(final["test"]["mean_average_precision"], 4)},
                ],
            }],
        }],
    }
    labels = statistics["label_names"]
    lines = [
        "---", yaml.safe_dump(metadata, sort_keys=False).strip(), "---", "",
        f"# {Path(str(base_model)).name} fine-tuned by active learning ({strategy})", "",
        f"A multi-label classifier ({len(labels)} labels, sigmoid outputs) fine-tuned from `{base_model}` on "
        f"`{dataset}` with {len(rounds)} rounds of active learning, acquisition strategy `{strategy}`. "
        f"The final model was trained on {final['labeled_count']} labeled examples.", "",
        "## Results on the test split", "", *_metric_rows(rounds), "",
        f"Labels used per round: {', '.join(str(r['labeled_count']) for r in rounds)}. "
        f"Decision threshold tuned on validation: {final['tuned_threshold']:.2f} (metrics at 0.5 are shown too).", "",
    ]
    if figure_name:
        lines += [f"![Learning curves]({figure_name})", ""]
    lines += [
        "## Labels", "", ", ".join(f"`{name}`" for name in labels), "",
        "## Usage", "", "```python",
        "from transformers import pipeline",
        "classifier = pipeline('text-classification', model='<this repo>', top_k=None, function_to_apply='sigmoid')",
        "```", "",
        "## Training", "",
        f"Seed {statistics['seed']}; config and per-round statistics in `statistics.json`; "
        f"code commit {statistics['provenance']['git'].get('commit')}.", "",
    ]
    return "\n".join(lines)


def prepare_upload_folder(run_dir: Path, statistics: dict[str, Any], figure: Optional[Path] = None) -> Path:
    """Assemble ``<run_dir>/hub`` from the saved final model, the statistics and the figure."""
    run_dir = Path(run_dir)
    source = run_dir / FINAL_MODEL
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is missing: the run did not save its final model")
    folder = run_dir / "hub"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder)
    statistics = redact(statistics)
    (folder / "statistics.json").write_text(json.dumps(statistics, indent=2))
    figure_name = None
    if figure is not None and Path(figure).is_file():
        figure_name = Path(figure).name
        shutil.copy(figure, folder / figure_name)
    (folder / "README.md").write_text(build_model_card(statistics, figure_name))
    for path in folder.rglob("*"):  # last guard: no token-like string leaves in any text file
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = path.read_text(errors="surrogateescape")
            if redact_text(text) != text:
                path.write_text(redact_text(text), errors="surrogateescape")
    return folder


def push_folder(folder: Path, repo_id: str, token: Optional[str] = None, private: Optional[bool] = None) -> str:
    """Create the repo if needed and upload ``folder``; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id=repo_id, exist_ok=True, private=private)
    commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id,
                               commit_message="Upload model trained by multi-label active learning")
    return str(getattr(commit, "commit_url", commit))
