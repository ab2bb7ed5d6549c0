"""Per-class precision / recall / F1 and label co-occurrence, readable up to 100+ labels.

Labels without a positive in the evaluated split have no recall or F1: they are NaN here, listed as
absent, and never drawn as 0. With more than ``top_k`` labels, the ``top_k`` most frequent are shown one by
one and the rest are summarised (a row of their means; in the heatmaps one "other" row/column of means per label);
a scatter of F1 against support shows every label.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .style import colors

TOP_K = 30


def per_class_scores(y_true: np.ndarray, probs: np.ndarray,
                     threshold: float | np.ndarray = 0.5) -> dict[str, np.ndarray]:
    """Per label: ``precision`` (NaN when never predicted), ``recall`` and ``f1`` (NaN when the label has no
    positive in ``y_true``), ``support`` (positives) and ``predicted`` (predicted positives)."""
    y = np.asarray(y_true).astype(bool)
    pred = np.asarray(probs) >= threshold
    tp = (pred & y).sum(axis=0).astype(float)
    support, predicted = y.sum(axis=0), pred.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(support > 0, 2 * tp / (support + predicted), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support, "predicted": predicted}


def per_class_figure(y_true: np.ndarray, probs: np.ndarray, label_names: list[str], threshold: float = 0.5,
                     top_k: int = TOP_K):
    """Left: dot plot of precision, recall and F1 of the ``top_k`` most frequent labels (support in
    brackets) and one row summarising the rest. Right: F1 against support for every present label."""
    scores = per_class_scores(y_true, probs, threshold)
    order = np.argsort(-scores["support"], kind="stable")
    shown, rest = order[:top_k], order[top_k:]
    absent = [label_names[j] for j in order if scores["support"][j] == 0]
    rows = len(shown) + (1 if len(rest) else 0)
    fig, (ax, ax_all) = plt.subplots(1, 2, figsize=(12, max(3.5, 0.24 * rows + 1.6)),
                                     gridspec_kw={"width_ratios": [1.3, 1]})
    y = np.arange(len(shown))
    markers = {"precision": "o", "recall": "s", "f1": "D"}
    for (key, marker), color in zip(markers.items(), colors(3)):
        ax.scatter(scores[key][shown], y, marker=marker, color=color, s=22, label=key, zorder=3)
        if len(rest):
            ax.scatter([np.nanmean(scores[key][rest]) if np.isfinite(scores[key][rest]).any() else np.nan],
                       [len(shown)], marker=marker, color=color, s=22, zorder=3)
    ticks = [f"{label_names[j]} ({scores['support'][j]})" for j in shown]
    if len(rest):
        ticks.append(f"other {len(rest)} labels (mean)")
    ax.set_yticks(np.arange(rows), ticks, fontsize=8 if rows <= 40 else 6)
    for j, row in zip(shown, y):  # say so instead of drawing an absent label as 0
        if scores["support"][j] == 0:
            ax.text(0.5, row, "absent from this split", va="center", ha="center", fontsize=7, color="grey")
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set(xlim=(-0.02, 1.02), xlabel=f"score at threshold {threshold:.2f} (no precision dot: never predicted)",
           title=f"Per-class P / R / F1, {len(shown)} most frequent labels" if len(rest) else
           "Per-class P / R / F1, sorted by support (in brackets)")
    ax.legend(loc="lower right", fontsize=8)
    present = scores["support"] > 0
    ax_all.scatter(scores["support"][present], scores["f1"][present], color=colors(3)[2], s=18)
    ax_all.set(xscale="log", ylim=(-0.02, 1.02), xlabel="test support (positives, log)", ylabel="F1",
               title=f"F1 of all {int(present.sum())} present labels")
    if absent:
        ax_all.text(0.02, 0.98, f"{len(absent)} label(s) absent from this split (no F1):\n"
                    + ", ".join(absent[:4]) + (", ..." if len(absent) > 4 else ""),
                    transform=ax_all.transAxes, fontsize=7, va="top")
    fig.tight_layout()
    fig.order = order
    fig.absent = absent
    return fig


def cooccurrence(y: np.ndarray) -> np.ndarray:
    """Label co-occurrence counts C = Y^T Y (diagonal: label frequencies)."""
    y = np.asarray(y, dtype=np.int64)
    return y.T @ y


def false_positive_cooccurrence(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F = FP^T Y with FP = pred & not true: F[i, j] counts examples where label i is predicted but absent
    while label j is present (which true labels each false positive comes with; diagonal 0)."""
    y = np.asarray(y_true).astype(bool)
    fp = np.asarray(y_pred).astype(bool) & ~y
    return fp.astype(np.int64).T @ y.astype(np.int64)


def _top_k_with_other(matrix: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """``matrix`` restricted to the labels ``order[:k]``; the rest become one last row and column holding
    the mean per remaining label (so the summary cell is on the scale of the others, not their sum)."""
    if len(order) <= k:
        return matrix[np.ix_(order, order)].astype(float)
    keep, rest = order[:k], order[k:]
    top = matrix[np.ix_(keep, keep)]
    right = matrix[np.ix_(keep, rest)].mean(axis=1, keepdims=True)
    bottom = matrix[np.ix_(rest, keep)].mean(axis=0, keepdims=True)
    corner = np.full((1, 1), matrix[np.ix_(rest, rest)].mean())
    return np.block([[top, right], [bottom, corner]]).astype(float)


def cooccurrence_figure(y_true: np.ndarray, label_names: list[str], y_pred: np.ndarray | None = None,
                        top_k: int = TOP_K):
    """Heatmaps on one shared log colour scale: Y^T Y of the true labels and, with ``y_pred``, the
    false-positive co-occurrence FP^T Y. Labels by frequency; past ``top_k`` the rest is one "other" (mean)."""
    panels = [("true labels: YᵀY", cooccurrence(y_true))]
    if y_pred is not None:
        panels.append(("false positives: FPᵀY", false_positive_cooccurrence(y_true, y_pred)))
    order = np.argsort(-np.asarray(y_true, dtype=float).sum(axis=0), kind="stable")  # no unsigned wrap-around
    names = [label_names[j] for j in order[:top_k]]
    if len(order) > top_k:
        names.append(f"other {len(order) - top_k} (mean)")
    shown = [(title, _top_k_with_other(matrix, order, top_k)) for title, matrix in panels]
    vmax = max(float(np.log10(m + 1).max()) for _, m in shown) or 1.0
    n = len(names)
    size = max(5.0, 0.2 * n + 2)
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels) + 1, size), squeeze=False)
    cbar_ax = fig.add_axes([0.92, 0.25, 0.012, 0.5])
    for ax, (title, matrix) in zip(axes.ravel(), shown):
        sns.heatmap(np.log10(matrix + 1), ax=ax, cmap="viridis", square=True, xticklabels=names, yticklabels=names,
                    vmin=0, vmax=vmax, cbar_ax=cbar_ax, cbar_kws={"label": "log10(count + 1), shared scale"})
        ax.tick_params(labelsize=7 if n <= 32 else 5)
        ax.set_title(title)
        if title.startswith("false"):
            ax.set(xlabel="label truly present", ylabel="label predicted but absent")
        else:
            ax.set(xlabel="label", ylabel="label")
    fig.subplots_adjust(left=0.08, right=0.9, bottom=0.15, top=0.92, wspace=0.35)
    fig.matrices = [m for _, m in panels]
    return fig
