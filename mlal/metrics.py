"""Multi-label evaluation metrics (scikit-learn), threshold sweeps and threshold tuning.

Arrays: ``y_true`` is multi-hot of shape (n_samples, n_labels); ``probs`` are sigmoid
probabilities of the same shape.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    precision_score,
    recall_score,
)

THRESHOLD_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)


def mean_average_precision(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Macro average precision over the labels that have at least one positive (threshold-free)."""
    present = y_true.sum(axis=0) > 0
    if not present.any():
        return float("nan")
    return float(average_precision_score(y_true[:, present], probs[:, present], average="macro"))


def multilabel_metrics(y_true: np.ndarray, probs: np.ndarray, threshold: float | np.ndarray = 0.5) -> dict[str, float]:
    """F1 (micro, macro, samples), precision/recall, Hamming loss, subset accuracy at ``threshold``,
    plus the threshold-free mean average precision (macro over labels with positives) and micro AP."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = (np.asarray(probs) >= threshold).astype(int)
    kw = {"zero_division": 0}
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", **kw)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", **kw)),
        "samples_f1": float(f1_score(y_true, y_pred, average="samples", **kw)),
        "micro_precision": float(precision_score(y_true, y_pred, average="micro", **kw)),
        "micro_recall": float(recall_score(y_true, y_pred, average="micro", **kw)),
        "hamming_loss": float(hamming_loss(y_true, y_pred)),
        "subset_accuracy": float(accuracy_score(y_true, y_pred)),
        "mean_average_precision": mean_average_precision(y_true, probs),
        "micro_average_precision": float(average_precision_score(y_true.ravel(), np.asarray(probs).ravel()))
        if y_true.any()
        else float("nan"),
        "mean_predicted_labels": float(y_pred.sum(axis=1).mean()),
    }


def _counts_per_threshold(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray):
    """Yield (threshold, per-label F1, TP, 2 TP + FP + FN) for each threshold of ``grid``,
    vectorised over samples and labels."""
    y = np.asarray(y_true).astype(bool)
    for threshold in grid:
        pred = probs >= threshold
        tp = (pred & y).sum(axis=0).astype(float)
        denominator = 2 * tp + (pred & ~y).sum(axis=0) + (~pred & y).sum(axis=0)
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        yield threshold, f1, tp, denominator


def threshold_sweep(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> dict[str, np.ndarray]:
    """Micro- and macro-F1 for each global threshold in ``grid``."""
    micro = np.empty(len(grid))
    macro = np.empty(len(grid))
    for k, (_, f1, tp, denominator) in enumerate(_counts_per_threshold(y_true, probs, grid)):
        micro[k] = 2 * tp.sum() / max(denominator.sum(), 1)
        macro[k] = f1.mean()
    return {"threshold": np.asarray(grid, dtype=float), "micro_f1": micro, "macro_f1": macro}


def tune_threshold(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> float:
    """The global threshold that maximises micro-F1 on (validation) data; the lowest one on ties."""
    sweep = threshold_sweep(y_true, probs, grid)
    return float(sweep["threshold"][int(np.argmax(sweep["micro_f1"]))])


def tune_per_class_thresholds(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """One threshold per label, each maximising that label's F1 on (validation) data; 0.5 for labels without
    positives. Vectorised over samples and labels; the lowest threshold wins ties."""
    has_positive = np.asarray(y_true).astype(bool).any(axis=0)
    best_f1 = np.full(has_positive.shape, -1.0)
    best = np.full(has_positive.shape, 0.5)
    for threshold, f1, _, _ in _counts_per_threshold(y_true, probs, grid):
        better = (f1 > best_f1) & has_positive
        best[better], best_f1[better] = threshold, f1[better]
    return best
