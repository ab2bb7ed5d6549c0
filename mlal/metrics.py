"""Multi-label evaluation metrics (scikit-learn), threshold sweeps and threshold tuning.

Arrays: ``y_true`` is multi-hot of shape (n_samples, n_labels); ``probs`` are sigmoid
probabilities of the same shape.

Macro averages (macro-F1, per-class precision / recall / F1, mAP) are taken over the labels *present* in
the evaluated split (at least one positive): a label without positives has no defined recall or F1, and
counting it as 0 would cap a perfect model below 1 (on Reuters with a 1000-example test subsample, 16 of
90 labels are absent: a perfect model would score 0.82). Per-class outputs hold NaN for absent labels and
``macro_labels_excluded`` says how many were left out. False positives on absent labels still count in
the micro and samples averages.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

THRESHOLD_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)


def mean_average_precision(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Macro average precision over the labels that have at least one positive (threshold-free)."""
    present = present_labels(y_true)
    if not present.any():
        return float("nan")
    return float(average_precision_score(y_true[:, present], probs[:, present], average="macro"))


def present_labels(y_true: np.ndarray) -> np.ndarray:
    """Boolean mask of shape (n_labels,): labels with at least one positive in ``y_true``."""
    return np.asarray(y_true).astype(bool).any(axis=0)


def per_class_metrics(y_true: np.ndarray, probs: np.ndarray, threshold: float | np.ndarray = 0.5) -> dict[str, np.ndarray]:
    """Precision, recall and F1 per label at ``threshold`` (arrays of shape (n_labels,)) and support (positives).

    F1_j = 2 TP_j / (2 TP_j + FP_j + FN_j). Labels without positives get NaN in precision, recall and F1
    (never 0); a present label that is never predicted has precision 0 (and recall and F1 0).
    """
    y_true = np.asarray(y_true).astype(int)
    y_pred = (np.asarray(probs) >= threshold).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    absent = ~present_labels(y_true)
    out = {"precision": precision.astype(float), "recall": recall.astype(float), "f1": f1.astype(float)}
    for values in out.values():
        values[absent] = np.nan
    out["support"] = support
    return out


def multilabel_metrics(y_true: np.ndarray, probs: np.ndarray, threshold: float | np.ndarray = 0.5) -> dict[str, float]:
    """F1 (micro, macro, samples), precision/recall, Hamming loss, subset accuracy at ``threshold``,
    plus the threshold-free mean average precision and micro AP.

    Macro-F1 and mAP average over the labels present in ``y_true`` (NaN when none is);
    ``macro_labels_excluded`` counts the labels left out. Samples-F1 counts an example with no true and no
    predicted label as 1 (a correct empty prediction), not 0."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = (np.asarray(probs) >= threshold).astype(int)
    present = present_labels(y_true)
    kw = {"zero_division": 0}
    macro_f1 = per_class_metrics(y_true, probs, threshold)["f1"][present].mean() if present.any() else np.nan
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", **kw)),
        "macro_f1": float(macro_f1),
        "macro_labels_excluded": int((~present).sum()),
        "samples_f1": float(f1_score(y_true, y_pred, average="samples", zero_division=1.0)),
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
    """Micro- and macro-F1 for each global threshold in ``grid``; macro over the labels present in ``y_true``
    (NaN when none is), as in :func:`multilabel_metrics`."""
    micro = np.empty(len(grid))
    macro = np.empty(len(grid))
    present = present_labels(y_true)
    for k, (_, f1, tp, denominator) in enumerate(_counts_per_threshold(y_true, probs, grid)):
        micro[k] = 2 * tp.sum() / max(denominator.sum(), 1)
        macro[k] = f1[present].mean() if present.any() else np.nan
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
