"""Per-class precision / recall / F1 sorted by support, and label co-occurrence heatmaps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from mlal.metrics import per_class_metrics

from .style import colors


def per_class_scores(y_true: np.ndarray, probs: np.ndarray, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Per-label precision, recall, F1 (NaN for labels without positives: no bar is drawn) and support."""
    return per_class_metrics(y_true, probs, threshold)


def per_class_figure(y_true: np.ndarray, probs: np.ndarray, label_names: list[str], threshold: float = 0.5):
    """Horizontal bars of precision, recall and F1 per label, most frequent label on top."""
    scores = per_class_scores(y_true, probs, threshold)
    order = np.argsort(-scores["support"], kind="stable")
    n = len(label_names)
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.28 * n + 1.2)))
    y = np.arange(n)
    height = 0.27
    for offset, (key, color) in zip((-height, 0, height), zip(("precision", "recall", "f1"), colors(3))):
        ax.barh(y + offset, scores[key][order], height=height, color=color, label=key)
    ax.set_yticks(y, [f"{label_names[j]} ({scores['support'][j]})" for j in order], fontsize=8 if n <= 40 else 6)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel=f"score at threshold {threshold:.2f}",
           title="Per-class precision / recall / F1, sorted by support (in brackets)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.order = order
    return fig


def cooccurrence(y: np.ndarray) -> np.ndarray:
    """Label co-occurrence counts C = Y^T Y (diagonal: label frequencies)."""
    y = np.asarray(y, dtype=np.int64)
    return y.T @ y


def cooccurrence_figure(y_true: np.ndarray, label_names: list[str], y_pred: np.ndarray | None = None):
    """Heatmap of Y^T Y for the true labels; with ``y_pred``, a second panel for predicted vs true (Y_pred^T Y)."""
    panels = [("true labels: Y^T Y", cooccurrence(y_true))]
    if y_pred is not None:
        panels.append(("predicted vs true: Y_pred^T Y", np.asarray(y_pred, dtype=np.int64).T @ np.asarray(y_true, dtype=np.int64)))
    n = len(label_names)
    size = max(5.0, 0.22 * n + 2)
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (title, matrix) in zip(axes.ravel(), panels):
        sns.heatmap(np.log10(matrix + 1), ax=ax, cmap="viridis", square=True, xticklabels=label_names,
                    yticklabels=label_names, cbar_kws={"label": "log10(count + 1)", "shrink": 0.7})
        ax.tick_params(labelsize=7 if n <= 40 else 5)
        ax.set_title(title)
        if "predicted" in title:
            ax.set(xlabel="true label", ylabel="predicted label")
        else:
            ax.set(xlabel="label", ylabel="label")
    fig.tight_layout()
    fig.matrices = [m for _, m in panels]
    return fig
