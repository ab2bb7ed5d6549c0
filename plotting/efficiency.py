"""Label efficiency across a strategy x seed matrix: learning curves of three test metrics with the full-data
ceiling, seed-paired differences against random, and what each strategy's labeled set holds per label.

Reads saved run folders only (statistics.json, and eval/*.npz for the label counts). The curves are the mean over
seeds with a band of +- one standard error (sample std, ddof 1, over sqrt(n)); with one seed there is no band and
the legend says so. Differences pair runs of the same seed (same initial labeled set).
"""

from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .calibration import expected_calibration_error
from .curves import _by_group, mean_std_over_seeds, paired_differences
from .runs import Run
from .style import colors

#: The three metrics of the label-efficiency tables: name -> value of a round record.
EFFICIENCY_METRICS: dict[str, Callable[[dict], float]] = {
    "test mAP": lambda r: r["test"]["mean_average_precision"],
    "test micro-F1 (validation-tuned threshold)": lambda r: r["test_at_tuned_threshold"]["micro_f1"],
    "test macro-F1 (threshold 0.5)": lambda r: r["test"]["macro_f1"],
}


def _ordered(labels, baseline: str) -> list[str]:
    return sorted(labels, key=lambda s: (s != baseline, s))


def label_efficiency_figure(runs: list[Run], reference: dict[str, float] | None = None, baseline: str = "random"):
    """Top row: each metric against labeled examples per strategy (mean, ± standard error band), and the
    full-data value as a dotted line where ``reference`` (metric name -> value) has it. Bottom row: the
    seed-paired difference against ``baseline`` (mean, ± standard error band; above 0: better)."""
    fig, axes = plt.subplots(2, len(EFFICIENCY_METRICS), figsize=(6 * len(EFFICIENCY_METRICS), 9), squeeze=False)
    strategies = _ordered({run.group_label for run in runs}, baseline)
    colour_of = dict(zip(strategies, colors(max(len(strategies), 1))))
    marker_of = dict(zip(strategies, "osD^vP<>Xph*" * 4))  # neighbouring colours differ in marker as well
    for column, (metric, value) in enumerate(EFFICIENCY_METRICS.items()):
        curves = mean_std_over_seeds(runs, value)
        ax = axes[0, column]
        for label in _ordered(curves, baseline):
            curve = curves[label]
            style = {"linestyle": "--", "linewidth": 2.2} if label == baseline else {"linewidth": 1.4}
            ax.plot(curve["x"], curve["mean"], marker=marker_of[label], markersize=4, color=colour_of[label], gid=label,
                    label=f"{label} (n={curve['n']})", **style)
            if curve["n"] > 1:
                ax.fill_between(curve["x"], curve["mean"] - curve["sem"], curve["mean"] + curve["sem"],
                                color=colour_of[label], alpha=0.15, gid=f"{label}-band")
        if reference and metric in reference:
            ax.axhline(reference[metric], color="black", linestyle=":", linewidth=1.2, gid="reference",
                       label=f"whole training set: {reference[metric]:.3f}")
        ax.set(xlabel="labeled examples", ylabel=metric, title=metric)
        ax.legend(fontsize=7, ncol=2)
        ax_diff = axes[1, column]
        ax_diff.axhline(0, color="black", linewidth=0.8)
        differences = paired_differences(runs, value, baseline)
        for label, d in sorted(differences.items()):
            ax_diff.plot(d["x"], d["mean"], marker=marker_of[label], markersize=4, color=colour_of[label],
                         gid=f"{label}-diff",
                         label=f"{label} (n={d['n']})")
            if d["n"] > 1:
                ax_diff.fill_between(d["x"], d["mean"] - d["sem"], d["mean"] + d["sem"], color=colour_of[label],
                                     alpha=0.15, gid=f"{label}-diff-band")
        ax_diff.set(xlabel="labeled examples", ylabel=f"Δ {metric}",
                    title=f"minus {baseline}, same seed (above 0: better)")
        if differences:
            ax_diff.legend(fontsize=7, ncol=2)
        else:
            ax_diff.text(0.5, 0.5, f"no strategy shares a seed with {baseline}", ha="center",
                         transform=ax_diff.transAxes)
    n_seeds = max((c["n"] for c in mean_std_over_seeds(runs, next(iter(EFFICIENCY_METRICS.values()))).values()),
                  default=0)
    band = "bands: ± standard error over seeds" if n_seeds > 1 else "one seed per strategy: no bands, no error bars"
    fig.suptitle(f"Label efficiency ({band})", fontsize=12)
    fig.tight_layout()
    return fig


def area_differences_figure(rows: list[dict], baseline: str = "random", budget: str = ""):
    """One panel per metric: each strategy's seed-paired difference of the normalised area under its curve against
    ``baseline``'s, a point with a bar for its 95 % t interval over seeds (no bar with one seed: the point is
    hollow). ``rows``: dicts with ``strategy``, ``metric``, ``difference`` (mean over seeds), ``half_width`` (of the
    interval; NaN with one seed) and ``seeds``. An interval that crosses the line at 0 is not distinguishable from
    the baseline."""
    metrics = list(dict.fromkeys(row["metric"] for row in rows))
    strategies = _ordered({row["strategy"] for row in rows} | {baseline}, baseline)
    colour_of = dict(zip(strategies, colors(max(len(strategies), 1))))
    shown = [s for s in strategies if s != baseline][::-1]  # first strategy at the top
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(4.4 * max(len(metrics), 1), 1.4 + 0.42 * len(shown)),
                             sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        ax.axvline(0, color="black", linewidth=0.8)
        for row in (r for r in rows if r["metric"] == metric):
            y, colour = shown.index(row["strategy"]), colour_of[row["strategy"]]
            interval = bool(np.isfinite(row["half_width"]))
            ax.errorbar(row["difference"], y, xerr=row["half_width"] if interval else None, fmt="o", capsize=3,
                        color=colour, markerfacecolor=colour if interval else "white", gid=row["strategy"])
        ax.set(title=metric, xlabel=f"area minus {baseline}'s (same seed)")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # panels are narrow: default ticks ran into each other
        ax.grid(axis="y", visible=False)
    seeds = {row["strategy"]: row["seeds"] for row in rows}
    axes[0, 0].set_yticks(range(len(shown)), [f"{s} (n={seeds.get(s, 0)})" for s in shown])
    axes[0, 0].set_ylim(-0.6, len(shown) - 0.4)
    span = f" over {budget} labels" if budget else ""
    fig.suptitle(f"Normalised area under each curve{span} minus {baseline}'s, paired by seed: mean and 95 % t "
                 "interval over seeds (hollow: one seed, no interval)", fontsize=10)
    fig.tight_layout()
    return fig


def final_labeled_positives(runs: list[Run], baseline: str = "random"):
    """Positives per label in each strategy's last labeled set, mean over seeds.

    Returns (strategies, labeled count, table of shape (n_strategies, n_labels)). Runs are compared at the
    largest labeled count every run's last round reached."""
    by_strategy = _by_group(runs)
    count = min(run.rounds[-1]["labeled_count"] for run in runs)
    strategies = _ordered(by_strategy, baseline)
    table = []
    for strategy in strategies:
        per_seed = []
        for run in by_strategy[strategy]:
            index = max(i for i, r in enumerate(run.rounds) if r["labeled_count"] <= count)
            per_seed.append(run.arrays(index)["labeled_targets"].sum(axis=0))
        table.append(np.mean(per_seed, axis=0))
    return strategies, count, np.asarray(table, dtype=float)


def acquired_labels_figure(runs: list[Run], baseline: str = "random", annotate_up_to: int = 30):
    """Heatmap of the positives per label in each strategy's final labeled set (mean over seeds), coloured by
    log2 of the ratio to ``baseline``'s count (white: same as random; a label random has 0 of is grey),
    labels ordered by random's count. Each row names how many labels it holds no positive of."""
    strategies, count, table = final_labeled_positives(runs, baseline)
    names = runs[0].label_names
    base = table[strategies.index(baseline)] if baseline in strategies else table.mean(axis=0)
    order = np.argsort(-base, kind="stable")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log2(np.where(base > 0, (table + 0.5) / (base + 0.5), np.nan))
    width = max(8.0, 0.32 * len(names) + 3)
    fig, ax = plt.subplots(figsize=(width, 0.5 * len(strategies) + 2.2))
    limit = max(float(np.nanmax(np.abs(ratio))) if np.isfinite(ratio).any() else 1.0, 1.0)
    image = ax.imshow(ratio[:, order], cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.grid(False)
    if len(names) <= annotate_up_to:
        for i in range(len(strategies)):
            for j, label in enumerate(order):
                ax.text(j, i, f"{table[i, label]:.0f}", ha="center", va="center", fontsize=6)
    absent = (table == 0).sum(axis=1)
    ax.set_yticks(range(len(strategies)), [f"{s} ({a} absent)" for s, a in zip(strategies, absent)], fontsize=8)
    ax.set_xticks(range(len(names)), [names[i] for i in order], rotation=90, fontsize=7)
    fig.colorbar(image, ax=ax, label=f"log2 positives / {baseline}'s (+0.5 each)", shrink=0.8)
    ax.set_title(f"Positives per label in the labeled set at {count} labels (mean over seeds; "
                 f"numbers: positives)", fontsize=10)
    fig.tight_layout()
    return fig


def acquired_batch_statistics(runs: list[Run], baseline: str = "random") -> list[dict]:
    """What the acquired batches hold, per strategy (mean over seeds; each seed pools all its rounds' batches):

    * ``positives_per_example``: positive labels per acquired example;
    * ``majority_share``: share of acquired examples carrying the test split's most frequent label;
    * ``effective_labels``: exp of the entropy of the positives' label distribution, exp(-sum_j q_j log q_j)
      with q_j = positives of label j / all positives: L when every label is bought equally often, 1 when one
      label has them all (a label-diversity measure that needs no embeddings);
    * ``absent_at_end``: labels without a positive in the last round's labeled set;
    * ``within_batch_jaccard``: how alike the examples of one batch are in their labels, the mean over a run's
      batches of the mean pairwise Jaccard similarity |Y_a & Y_b| / |Y_a | Y_b| of the label sets of the batch's
      examples (1 for two examples without labels): 1 when the batch repeats one label set, 0 when no two
      examples share a label and at most one has none (a redundancy measure in label space; redundancy in text
      space needs the texts: benchmarks/batch_redundancy.py); its mean is over the seeds with a batch of 2 or more.
    """
    rows = []
    by_strategy = _by_group(runs)
    for strategy in _ordered(by_strategy, baseline):
        per_seed = []
        for run in by_strategy[strategy]:
            batches = [run.arrays(i)["selected_targets"] for i in range(len(run.rounds))]
            batches = [batch for batch in batches if len(batch)]
            if not batches:  # a one-round run acquired nothing
                continue
            selected = np.concatenate(batches)
            majority = int(np.argmax(run.arrays(-1)["test_targets"].sum(axis=0)))
            positives = selected.sum(axis=0).astype(float)
            q = positives[positives > 0] / positives.sum()
            per_seed.append([selected.sum(axis=1).mean(), selected[:, majority].mean(), np.exp(-(q * np.log(q)).sum()),
                             (run.arrays(-1)["labeled_targets"].sum(axis=0) == 0).sum(),
                             np.mean([mean_pairwise_jaccard(batch) for batch in batches if len(batch) > 1] or [np.nan])])
        if per_seed:
            mean = np.mean(per_seed, axis=0)
            jaccards = [row[4] for row in per_seed if np.isfinite(row[4])]  # NaN: a seed whose batches held 1 each
            mean[4] = np.mean(jaccards) if jaccards else np.nan
            rows.append({"strategy": strategy, "seeds": len(per_seed), "positives_per_example": float(mean[0]),
                         "majority_share": float(mean[1]), "effective_labels": float(mean[2]),
                         "absent_at_end": float(mean[3]), "within_batch_jaccard": float(mean[4])})
    return rows


def mean_pairwise_jaccard(targets: np.ndarray) -> float:
    """Mean over the pairs a < b of rows of ``targets`` (multi-hot, shape (n, L), n >= 2) of the Jaccard similarity
    |Y_a & Y_b| / |Y_a | Y_b|, 1 for two empty rows; vectorised through the (n, n) intersection matrix."""
    y = np.asarray(targets, dtype=np.float64)
    intersection = y @ y.T
    sizes = y.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - intersection
    similarity = np.where(union > 0, intersection / np.maximum(union, 1), 1.0)
    upper = np.triu_indices(len(y), k=1)
    return float(similarity[upper].mean())


def _test_probabilities(run: Run, round_position: int) -> np.ndarray:
    return run.arrays(round_position)["test_probs"]


def calibration_statistics(
    runs: list[Run], baseline: str = "random", band: tuple[float, float] = (0.4, 0.6),
    probabilities: Callable[[Run, int], np.ndarray] = _test_probabilities, last_round: int = -1,
) -> list[dict]:
    """How well the test probabilities are calibrated, per strategy (mean over seeds). By default the model's own
    probabilities, which uncertainty strategies rank by; ``probabilities(run, round_position)`` may give others
    (e.g. after a run's acquisition map), and ``last_round`` which round is "last" (a list position).

    * ``ece_first`` / ``ece_last``: expected calibration error of the flattened per-label probabilities in the
      first and the last round (:func:`expected_calibration_error`, 10 bins);
    * ``mean_probability_last`` and ``prevalence``: mean predicted probability vs the share of positive
      (example, label) pairs, last round;
    * ``positive_rate_in_band``: the share of (example, label) pairs with a probability inside ``band`` (around
      the 0.5 uncertainty strategies seek) whose label is present, last round, pooled over seeds (NaN when no pair
      falls inside); ~0.5 when calibrated. ``pairs_in_band``: how many pairs that is per seed.
    """
    rows = []
    by_strategy = _by_group(runs)
    for strategy in _ordered(by_strategy, baseline):
        per_seed, in_band, positive_in_band = [], 0, 0
        for run in by_strategy[strategy]:
            y, p = run.arrays(last_round)["test_targets"], probabilities(run, last_round)
            inside = (p > band[0]) & (p < band[1])
            in_band, positive_in_band = in_band + int(inside.sum()), positive_in_band + float(y[inside].sum())
            per_seed.append([expected_calibration_error(run.arrays(0)["test_targets"], probabilities(run, 0)),
                             expected_calibration_error(y, p), p.mean(), y.mean()])
        mean = np.mean(per_seed, axis=0)
        rows.append({"strategy": strategy, "seeds": len(per_seed), "ece_first": float(mean[0]),
                     "ece_last": float(mean[1]), "mean_probability_last": float(mean[2]), "prevalence": float(mean[3]),
                     "positive_rate_in_band": positive_in_band / in_band if in_band else float("nan"),
                     "pairs_in_band": in_band / len(per_seed)})
    return rows
