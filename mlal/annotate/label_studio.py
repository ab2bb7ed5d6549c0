"""Label Studio: a batch as tasks with pre-annotations, the labeling config, and reading its JSON export.

Tasks (imported into a Label Studio project): ``data`` holds ``text``, our ``example_id``, ``rank`` and
``score``; ``predictions`` holds the model's suggested labels as a pre-annotation whose ``score`` is the
acquisition score, so annotators can sort the Data Manager by "Prediction score". The labeling config is a
multi-label ``<Choices choice="multiple">`` over the project's label names. An annotation submitted with
no choice means "none of the labels"; a skipped (cancelled) task stays unlabeled.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from ..errors import UsageError

FROM_NAME, TO_NAME = "labels", "text"


def labeling_config(label_names: list[str]) -> str:
    choices = "\n".join(f"    <Choice value={quoteattr(name)}/>" for name in label_names)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple" showInline="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def batch_tasks(rows: list[dict], model_version: str | None) -> list[dict]:
    """Label Studio tasks for batch ``rows`` (dicts with id, text, rank, score, suggested_labels)."""
    tasks = []
    for row in rows:
        task = {"data": {"text": row["text"], "example_id": row["id"], "rank": row["rank"], "score": row["score"]}}
        if model_version is not None:
            task["predictions"] = [{
                "model_version": model_version,
                "score": row["score"],
                "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                            "value": {"choices": list(row["suggested_labels"])}}] if row["suggested_labels"] else [],
            }]
        tasks.append(task)
    return tasks


def _latest_annotation(annotations: list[dict]) -> dict | None:
    done = [a for a in annotations or [] if not a.get("was_cancelled")]
    if not done:
        return None
    return max(done, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0))


def read_export(path: Path) -> list[tuple[int, dict]]:
    """(task number, row) for each task of a Label Studio JSON export; a row has ``id`` and ``labels``
    (a list of names, or None when the task has no submitted annotation)."""
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a readable Label Studio JSON export ({exc.__class__.__name__}); export the "
                         "project as JSON and import that file") from None
    if not isinstance(tasks, list):
        raise UsageError(f"{path}: a Label Studio JSON export is a list of tasks; export the project as JSON")
    rows = []
    for number, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            rows.append((number, {"_malformed": "not a task with 'data'"}))
            continue
        annotation = _latest_annotation(task.get("annotations", []))
        labels = None
        if annotation is not None:
            labels = []
            for result in annotation.get("result", []):
                if result.get("from_name") == FROM_NAME and result.get("type") == "choices":
                    labels.extend(result.get("value", {}).get("choices", []))
        rows.append((number, {"id": task["data"].get("example_id"), "labels": labels}))
    return rows
