"""Threshold sweep: micro- and macro-F1 against one global threshold on the validation set."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from mlal.metrics import threshold_sweep

from .style import colors


def threshold_sweep_figure(y_true: np.ndarray, probs: np.ndarray, title: str = "Threshold sweep (validation)"):
    """F1 curves over the global threshold; the micro-F1-best threshold marked (the one the run reports)."""
    s = threshold_sweep(y_true, probs)
    best_index = int(np.argmax(s["micro_f1"]))
    best = float(s["threshold"][best_index])
    fig, ax = plt.subplots(figsize=(7, 4))
    micro_color, macro_color = colors(2)
    ax.plot(s["threshold"], s["micro_f1"], color=micro_color, label="micro-F1")
    ax.plot(s["threshold"], s["macro_f1"], color=macro_color, label="macro-F1")
    ax.axvline(best, color="black", linestyle="--", linewidth=1, label=f"best micro-F1 at {best:.2f}", gid="best")
    ax.axvline(0.5, color="grey", linestyle=":", linewidth=1, label="0.5")
    ax.annotate(f"{s['micro_f1'][best_index]:.3f}", (best, s["micro_f1"][best_index]), textcoords="offset points",
                xytext=(6, 6))
    ax.set(xlabel="global threshold", ylabel="F1", xlim=(0, 1), ylim=(0, 1.02), title=title)
    ax.legend()
    fig.best_threshold = best
    return fig
