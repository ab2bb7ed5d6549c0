"""Writing one batch to label: to_label.csv, to_label.jsonl, Label Studio tasks and config (all atomic).

Each row: ``rank`` (1 = acquired first), ``id`` (the corpus id), ``labels`` (empty: the annotator fills it
in), ``text``, ``suggested_labels`` (the model's labels at probability >= 0.5), ``probabilities`` (the
model's top labels with their probabilities) and ``score`` (the acquisition score; for the label-free
cold start, the size of the k-means cluster the example represents).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ..results import atomic_write_bytes
from .importer import LABEL_DELIMITER
from .label_studio import batch_tasks, labeling_config

CSV_COLUMNS = ("rank", "id", "labels", "text", "suggested_labels", "probabilities", "score")
TOP_PROBABILITIES = 5


def batch_rows(ids: list[str], texts: list[str], scores: np.ndarray, probs: np.ndarray | None,
               label_names: list[str]) -> list[dict]:
    """Rows (in rank order) for the selected examples; ``probs`` (k, L) is None before any model exists."""
    rows = []
    for position, (example_id, text) in enumerate(zip(ids, texts)):
        row = {"rank": position + 1, "id": example_id, "text": text, "score": float(scores[position]),
               "suggested_labels": [], "probabilities": {}}
        if probs is not None:
            p = probs[position]
            row["suggested_labels"] = [label_names[j] for j in np.flatnonzero(p >= 0.5)]
            row["probabilities"] = {label_names[j]: round(float(p[j]), 4) for j in np.argsort(-p, kind="stable")}
        rows.append(row)
    return rows


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        top = list(row["probabilities"].items())[: max(TOP_PROBABILITIES, len(row["suggested_labels"]))]
        writer.writerow([
            row["rank"], row["id"], "", row["text"], f"{LABEL_DELIMITER} ".join(row["suggested_labels"]),
            f"{LABEL_DELIMITER} ".join(f"{name}:{p:.2f}" for name, p in top), f"{row['score']:.6g}",
        ])
    return buffer.getvalue().encode("utf-8")


def _jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps({**row, "labels": None}, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def write_batch(folder: Path, rows: list[dict], label_names: list[str], model_version: str | None) -> list[Path]:
    """Write the batch files into ``folder``; return their paths."""
    folder = Path(folder)
    files = {
        "to_label.csv": _csv_bytes(rows),
        "to_label.jsonl": _jsonl_bytes(rows),
        "label_studio_tasks.json": json.dumps(batch_tasks(rows, model_version), indent=1, ensure_ascii=False).encode(),
        "label_studio_config.xml": labeling_config(label_names).encode("utf-8"),
    }
    for name, data in files.items():
        atomic_write_bytes(folder / name, data)
    return [folder / name for name in files]
