"""Curves over rounds and across strategies: training loss / validation F1, learning curves, AULC table.

Bands are mean +- standard deviation over seeds (sample std, ddof = 1; no band with one seed).
Runs of one strategy are aligned on the labeled counts that all of them reached.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

from .runs import Run
from .style import colors


def mean_std_over_seeds(runs: list[Run], value: Callable[[dict], float]) -> dict[str, dict[str, np.ndarray]]:
    """Per strategy: labeled counts ``x``, ``mean`` and ``std`` of ``value(round)`` over seeds, and ``n`` seeds."""
    by_strategy: dict[str, list[Run]] = {}
    for run in runs:
        by_strategy.setdefault(run.strategy, []).append(run)
    out = {}
    for strategy, group in sorted(by_strategy.items()):
        common = sorted(set.intersection(*({r["labeled_count"] for r in run.rounds} for run in group)))
        table = np.array([[value(next(r for r in run.rounds if r["labeled_count"] == x)) for x in common]
                          for run in group], dtype=float)
        std = table.std(axis=0, ddof=1) if len(group) > 1 else np.zeros(len(common))
        out[strategy] = {"x": np.asarray(common), "mean": table.mean(axis=0), "std": std, "n": len(group)}
    return out


def _band_plot(ax, curves: dict[str, dict[str, np.ndarray]], ylabel: str, title: str, marker: str = "o") -> None:
    for (strategy, curve), color in zip(curves.items(), colors(max(len(curves), 1))):
        label = f"{strategy} (n={curve['n']})"
        ax.plot(curve["x"], curve["mean"], marker=marker, markersize=4, color=color, label=label, gid=strategy)
        if curve["n"] > 1:
            ax.fill_between(curve["x"], curve["mean"] - curve["std"], curve["mean"] + curve["std"], color=color,
                            alpha=0.2, gid=f"{strategy}-band")
    ax.set(xlabel="labeled examples", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)


def training_curves_figure(runs: list[Run]):
    """Training loss (final epoch mean) and validation micro-F1 per round, mean +- std over seeds."""
    fig, (ax_loss, ax_f1) = plt.subplots(1, 2, figsize=(11, 4))
    _band_plot(ax_loss, mean_std_over_seeds(runs, lambda r: r["train_loss"]), "training loss", "Training loss per round")
    _band_plot(ax_f1, mean_std_over_seeds(runs, lambda r: r["validation"]["micro_f1"]), "validation micro-F1",
               "Validation micro-F1 (threshold 0.5)")
    fig.tight_layout()
    return fig


def learning_curves_figure(runs: list[Run]):
    """Test micro- and macro-F1 against labeled count, one line per strategy, std bands over seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, metric in zip(axes, ("micro_f1", "macro_f1")):
        curves = mean_std_over_seeds(runs, lambda r, m=metric: r["test"][m])
        name = metric.replace("_f1", "-F1")
        _band_plot(ax, curves, f"test {name}", f"Learning curves: test {name} (mean ± std over seeds)")
    fig.tight_layout()
    return fig


def normalised_aulc(x: np.ndarray, y: np.ndarray) -> float:
    """Area under the learning curve (trapezoids) divided by the labeled range: the mean F1 over it."""
    if len(x) < 2:
        return float(y[0]) if len(y) else float("nan")
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def labels_to_reach(x: np.ndarray, y: np.ndarray, target: float) -> int | None:
    """The first labeled count whose mean F1 reaches ``target`` (None if never)."""
    reached = np.flatnonzero(y >= target)
    return int(x[reached[0]]) if len(reached) else None


def learning_curve_table(runs: list[Run], target_f1: float = 0.5) -> list[dict]:
    rows = []
    micro = mean_std_over_seeds(runs, lambda r: r["test"]["micro_f1"])
    macro = mean_std_over_seeds(runs, lambda r: r["test"]["macro_f1"])
    for strategy in micro:
        rows.append({
            "strategy": strategy,
            "seeds": micro[strategy]["n"],
            "aulc_micro_f1": normalised_aulc(micro[strategy]["x"], micro[strategy]["mean"]),
            "aulc_macro_f1": normalised_aulc(macro[strategy]["x"], macro[strategy]["mean"]),
            "final_micro_f1": float(micro[strategy]["mean"][-1]),
            f"labels_to_micro_f1_{target_f1:g}": labels_to_reach(micro[strategy]["x"], micro[strategy]["mean"], target_f1),
        })
    return sorted(rows, key=lambda row: -row["aulc_micro_f1"])


def write_table(rows: list[dict], outdir: str | Path, name: str = "learning_curves") -> list[Path]:
    """Write ``rows`` as CSV and as a Markdown table."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if not rows:
        return []
    columns = list(rows[0])
    csv_path, md_path = outdir / f"{name}.csv", outdir / f"{name}.md"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    def cell(value):
        if value is None:
            return "not reached"
        return f"{value:.4f}" if isinstance(value, float) and not float(value).is_integer() else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path]
