"""Probability histograms and the reliability diagram (per-label probabilities flattened)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from .style import colors

BINS = np.linspace(0.0, 1.0, 21)


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 10) -> float:
    """ECE over flattened per-label probabilities: sum_b (n_b / n) |mean(y in b) - mean(p in b)|,
    equal-width bins on [0, 1] (Naeini et al. 2015; Guo et al. 2017)."""
    y, p = np.asarray(y_true, dtype=float).ravel(), np.asarray(probs, dtype=float).ravel()
    which = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    gap = np.abs(np.bincount(which, weights=y, minlength=n_bins) - np.bincount(which, weights=p, minlength=n_bins))
    return float(gap.sum() / max(counts.sum(), 1))


def reliability_bins(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 10):
    """Per bin: count, mean predicted probability, observed frequency (NaN for empty bins)."""
    y, p = np.asarray(y_true, dtype=float).ravel(), np.asarray(probs, dtype=float).ravel()
    which = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, weights=p, minlength=n_bins) / counts
        observed = np.bincount(which, weights=y, minlength=n_bins) / counts
    return counts, mean_p, observed


def probability_histogram(probs: np.ndarray, y_true: np.ndarray, title: str = "Predicted probabilities"):
    """All per-label probabilities, split by whether the label is truly present (log count axis)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    negative, positive = colors(2)
    ax.hist(probs[y_true == 0].ravel(), bins=BINS, color=negative, alpha=0.75, label="label absent")
    ax.hist(probs[y_true == 1].ravel(), bins=BINS, color=positive, alpha=0.75, label="label present")
    ax.axvline(0.5, color="black", linestyle=":", linewidth=1, label="threshold 0.5")
    ax.set(yscale="log", xlabel="predicted probability p_j", ylabel="count (log)", title=title, xlim=(0, 1))
    ax.legend()
    return fig


def per_class_histograms(probs: np.ndarray, y_true: np.ndarray, label_names: list[str], ncols: int | None = None):
    """Small multiples: one probability histogram per label (present vs absent), shared x axis."""
    n_labels = len(label_names)
    ncols = ncols or min(10, max(4, math.ceil(math.sqrt(n_labels))))
    nrows = math.ceil(n_labels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.0 * ncols, 1.6 * nrows + 0.6), sharex=True, squeeze=False)
    negative, positive = colors(2)
    for j, ax in enumerate(axes.ravel()):
        if j >= n_labels:
            ax.axis("off")
            continue
        ax.hist(probs[y_true[:, j] == 0, j], bins=BINS, color=negative, alpha=0.75)
        ax.hist(probs[y_true[:, j] == 1, j], bins=BINS, color=positive, alpha=0.75)
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())  # minor log labels collide in small panels
        ax.set_title(f"{label_names[j]} (n+={int(y_true[:, j].sum())})", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle("Per-class predicted probabilities (orange: label present, blue: absent; log counts)", fontsize=10)
    fig.tight_layout()
    return fig


def reliability_diagram(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 10, title: str = "Reliability"):
    """Observed frequency against mean predicted probability per bin, bin counts below, ECE in the title."""
    counts, mean_p, observed = reliability_bins(y_true, probs, n_bins)
    ece = expected_calibration_error(y_true, probs, n_bins)
    edges = np.linspace(0, 1, n_bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    fig, (ax, ax_counts) = plt.subplots(2, 1, figsize=(5.5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    main, gap = colors(2)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    filled = counts > 0
    ax.bar(centres[filled], observed[filled], width=1 / n_bins, color=main, alpha=0.8, edgecolor="white",
           label="observed frequency")
    ax.plot(mean_p[filled], observed[filled], marker="o", color=gap, label="(mean p, observed)")
    ax.set(ylabel="fraction of labels present", xlim=(0, 1), ylim=(0, 1), title=f"{title} (ECE = {ece:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    ax_counts.bar(centres, counts, width=1 / n_bins, color=main, alpha=0.8, edgecolor="white")
    ax_counts.set(yscale="log", xlabel="predicted probability", ylabel="count (log)")
    fig.tight_layout()
    fig.ece = ece
    return fig
