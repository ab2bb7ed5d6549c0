"""Curves over rounds and across strategies: training loss / validation F1, learning curves, AULC table.

Runs are grouped by config minus seed (:mod:`plotting.groups`; ``run.group_label``). Each group's line is
the mean over its seeds; with 2 or more seeds the band is +- one standard error of the mean (sample std,
ddof = 1, over sqrt(n)) and each seed is drawn as a thin line. Runs of a group are aligned on the labeled
counts that all of them reached. Seed-paired differences against ``random`` use the seeds both have
(same seed = same initial labeled set, so the pairing removes the initial-set noise).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

from .runs import Run
from .style import colors


def _by_group(runs: list[Run]) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.group_label, []).append(run)
    return {label: sorted(group, key=lambda r: r.seed) for label, group in sorted(groups.items())}


def _aligned(group: list[Run], value: Callable[[dict], float]) -> tuple[np.ndarray, np.ndarray]:
    """Labeled counts every run reached, and the (n_seeds, n_counts) table of ``value`` at them."""
    common = sorted(set.intersection(*({r["labeled_count"] for r in run.rounds} for run in group)))
    table = np.array([[value(next(r for r in run.rounds if r["labeled_count"] == x)) for x in common]
                      for run in group], dtype=float)
    return np.asarray(common), table.reshape(len(group), len(common))


def mean_std_over_seeds(runs: list[Run], value: Callable[[dict], float]) -> dict[str, dict[str, np.ndarray]]:
    """Per group: labeled counts ``x``, ``mean``, ``std`` (ddof 1), standard error ``sem`` of ``value(round)``
    over seeds, the per-seed ``table`` (n_seeds, n_counts), ``seeds`` and ``n``."""
    out = {}
    for label, group in _by_group(runs).items():
        x, table = _aligned(group, value)
        std = table.std(axis=0, ddof=1) if len(group) > 1 else np.zeros(len(x))
        out[label] = {"x": x, "mean": table.mean(axis=0), "std": std, "sem": std / np.sqrt(len(group)),
                      "table": table, "seeds": [run.seed for run in group], "n": len(group)}
    return out


def paired_differences(runs: list[Run], value: Callable[[dict], float], baseline: str = "random"):
    """Per group other than ``baseline``: ``value(group) - value(baseline)`` for each seed both ran, at the
    labeled counts both reached: ``x``, ``table`` (n_pairs, n_counts), ``mean``, ``sem``, ``seeds``."""
    groups = _by_group(runs)
    if baseline not in groups:
        return {}
    base = {run.seed: run for run in groups[baseline]}
    out = {}
    for label, group in groups.items():
        pairs = [(run, base[run.seed]) for run in group if run.seed in base and label != baseline]
        if not pairs:
            continue
        x, table = _aligned([r for pair in pairs for r in pair], value)
        diff = table[0::2] - table[1::2]
        sem = diff.std(axis=0, ddof=1) / np.sqrt(len(pairs)) if len(pairs) > 1 else np.zeros(len(x))
        out[label] = {"x": x, "table": diff, "mean": diff.mean(axis=0), "sem": sem,
                      "seeds": [run.seed for run, _ in pairs], "n": len(pairs)}
    return out


def _band_plot(ax, curves: dict[str, dict[str, np.ndarray]], ylabel: str, title: str, marker: str = "o",
               colour_of: dict[str, tuple] | None = None) -> None:
    colour_of = colour_of or dict(zip(curves, colors(max(len(curves), 1))))
    for label, curve in curves.items():
        color = colour_of[label]
        ax.plot(curve["x"], curve["mean"], marker=marker, markersize=4, color=color, gid=label,
                label=f"{label} (mean of {curve['n']} seed{'s' if curve['n'] > 1 else ''})")
        if curve["n"] > 1:
            for row in curve["table"]:
                ax.plot(curve["x"], row, color=color, linewidth=0.7, alpha=0.45, gid=f"{label}-seed")
            ax.fill_between(curve["x"], curve["mean"] - curve["sem"], curve["mean"] + curve["sem"], color=color,
                            alpha=0.2, gid=f"{label}-band")
    ax.set(xlabel="labeled examples", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)


def _loss_name(runs: list[Run]) -> str:
    losses = {str(run.statistics.get("config", {}).get("active_learning", {}).get("loss", "bce")) for run in runs}
    if losses == {"weighted_bce"}:
        return "positive-weighted BCE (weights recomputed from each labeled set: scales differ between rounds)"
    return "BCE" if losses == {"bce"} else " / ".join(sorted(losses))


def last_epoch_loss(record: dict) -> float:
    """The training loss of the last epoch (``epoch_losses[-1]``); NaN for records without per-epoch losses."""
    losses = record.get("epoch_losses") or []
    return float(losses[-1]) if losses else float("nan")


def training_curves_figure(runs: list[Run]):
    """Last-epoch training loss and validation micro-F1 per round, per group (seeds and standard error)."""
    fig, (ax_loss, ax_f1) = plt.subplots(1, 2, figsize=(12, 4.4))
    _band_plot(ax_loss, mean_std_over_seeds(runs, last_epoch_loss), "training loss, last epoch",
               "Training loss of each round's last epoch")
    ax_loss.text(0.0, -0.2, f"loss: {_loss_name(runs)}", transform=ax_loss.transAxes, fontsize=8, va="top")
    _band_plot(ax_f1, mean_std_over_seeds(runs, lambda r: r["validation"]["micro_f1"]), "validation micro-F1",
               "Validation micro-F1 (threshold 0.5)")
    fig.tight_layout()
    return fig


def learning_curves_figure(runs: list[Run], baseline: str = "random"):
    """Test micro- and macro-F1 against labeled count per group (mean, each seed, ± standard error), and
    below them the seed-paired differences against ``baseline`` when it was run."""
    curves = {m: mean_std_over_seeds(runs, lambda r, m=m: r["test"][m]) for m in ("micro_f1", "macro_f1")}
    diffs = {m: paired_differences(runs, lambda r, m=m: r["test"][m], baseline) for m in curves}
    rows = 2 if any(diffs.values()) else 1
    fig, axes = plt.subplots(rows, 2, figsize=(12, 4.4 * rows), squeeze=False)
    colour_of = dict(zip(curves["micro_f1"], colors(max(len(curves["micro_f1"]), 1))))
    for column, metric in enumerate(curves):
        name = metric.replace("_f1", "-F1")
        n = max(c["n"] for c in curves[metric].values())
        band = "± standard error over seeds" if n > 1 else "one seed: no band"
        _band_plot(axes[0, column], curves[metric], f"test {name}", f"Test {name} (thin: each seed; {band})",
                   colour_of=colour_of)
        if rows == 2:
            ax = axes[1, column]
            ax.axhline(0, color="black", linewidth=0.8)
            for label, d in diffs[metric].items():
                color = colour_of[label]
                for seed, row in zip(d["seeds"], d["table"]):
                    ax.plot(d["x"], row, color=color, linewidth=0.8, alpha=0.5, marker=".", gid=f"{label}-diff-seed")
                ax.plot(d["x"], d["mean"], color=color, marker="o", markersize=4, gid=f"{label}-diff",
                        label=f"{label} − {baseline} (mean of {d['n']} seed pair{'s' if d['n'] > 1 else ''})")
            ax.set(xlabel="labeled examples", ylabel=f"Δ test {name}",
                   title=f"Seed-paired difference against {baseline} (above 0: better)")
            ax.legend(fontsize=8)
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
    paired = paired_differences(runs, lambda r: r["test"]["micro_f1"])
    for label in micro:
        m = micro[label]
        diff = paired.get(label)
        rows.append({
            "group": label,
            "seeds": m["n"],
            "aulc_micro_f1": normalised_aulc(m["x"], m["mean"]),
            "aulc_macro_f1": normalised_aulc(macro[label]["x"], macro[label]["mean"]),
            "final_micro_f1": float(m["mean"][-1]),
            "final_micro_f1_sem": float(m["sem"][-1]) if m["n"] > 1 else None,
            "final_micro_f1_minus_random": float(diff["mean"][-1]) if diff else None,
            f"labels_to_micro_f1_{target_f1:g}": labels_to_reach(m["x"], m["mean"], target_f1),
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

    def cell(column, value):
        if value is None:
            return "not reached" if column.startswith("labels_to") else "n/a"
        return f"{value:.4f}" if isinstance(value, float) and not float(value).is_integer() else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(c, row[c]) for c in columns) + " |" for row in rows]
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path]
