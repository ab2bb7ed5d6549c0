"""What each round bought: label distribution of the acquired batches, cumulative positives per label
against labels spent, acquisition scores of the selected vs the scored pool, and batch overlap between
strategies run with the same seed. Reads the round arrays listed in :mod:`mlal.run_format`.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .runs import Run
from .style import colors

N_RARE = 5


def _round_arrays(run: Run) -> list[tuple[dict, dict]]:
    return [(record, run.arrays(i)) for i, record in enumerate(run.rounds)]


def rare_labels(y_test: np.ndarray, n: int = N_RARE) -> np.ndarray:
    """The ``n`` least frequent labels among those with a positive in the test split (ties: lower index)."""
    counts = np.asarray(y_test).sum(axis=0)
    present = np.flatnonzero(counts > 0)
    return present[np.argsort(counts[present], kind="stable")[:n]]


def cumulative_positives(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Labeled counts (each round's labeled set, then after the last acquisition) and the positives per
    label in the labeled set at each: shape (n_points, n_labels)."""
    xs, positives = [], []
    for record, arrays in _round_arrays(run):
        xs.append(len(arrays["labeled_ids"]))
        positives.append(arrays["labeled_targets"].sum(axis=0))
    last = run.arrays(-1)
    if len(last["selected_ids"]):
        xs.append(len(last["labeled_ids"]) + len(last["selected_ids"]))
        positives.append(last["labeled_targets"].sum(axis=0) + last["selected_targets"].sum(axis=0))
    return np.asarray(xs), np.asarray(positives, dtype=float)


def batch_labels_figure(run: Run):
    """Left: positives per label in each acquired batch (rows: rounds; labels by test frequency).
    Right: positives per label in the labeled set against labels spent, the rarest test labels in colour."""
    names = run.label_names
    y_test = run.arrays(-1)["test_targets"]
    order = np.argsort(-np.asarray(y_test, dtype=float).sum(axis=0), kind="stable")
    batches = [(record, arrays) for record, arrays in _round_arrays(run) if len(arrays["selected_ids"])]
    fig, (ax_batch, ax_cum) = plt.subplots(1, 2, figsize=(max(12, 0.12 * len(names) + 7), 4.8),
                                           gridspec_kw={"width_ratios": [max(1.2, len(names) / 40), 1]})
    if batches:
        table = np.array([arrays["selected_targets"].sum(axis=0)[order] for _, arrays in batches])
        sns.heatmap(table, ax=ax_batch, cmap="mako_r", annot=len(names) <= 30, fmt=".0f", annot_kws={"size": 6},
                    xticklabels=[names[j] for j in order],
                    yticklabels=[f"round {r['round']} ({len(a['selected_ids'])})" for r, a in batches],
                    cbar_kws={"label": "positives in the batch", "shrink": 0.8})
        ax_batch.tick_params(axis="x", labelsize=7 if len(names) <= 40 else 5)
        ax_batch.set(xlabel="label (most frequent in test first)",
                     title=f"{run.group_label}, seed {run.seed}: labels of each acquired batch")
    else:
        ax_batch.text(0.5, 0.5, "no batch acquired", ha="center")
    xs, positives = cumulative_positives(run)
    rare = rare_labels(y_test)
    for j in range(len(names)):
        if j not in rare:
            ax_cum.plot(xs, positives[:, j], color="0.8", linewidth=0.8, zorder=1)
    for j, color in zip(rare, colors(len(rare))):
        ax_cum.plot(xs, positives[:, j], color=color, marker="o", markersize=4, linewidth=1.8, zorder=3,
                    label=f"{names[j]} (test {int(y_test[:, j].sum())})", gid=f"rare-{names[j]}")
    ax_cum.set_yscale("symlog", linthresh=1)
    ax_cum.set(xlabel="labels spent (labeled examples)", ylabel="positives in the labeled set (symlog)",
               title="Cumulative positives per label (grey: others)")
    ax_cum.legend(title=f"{len(rare)} rarest test labels", fontsize=7, title_fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def score_distribution_figure(run: Run):
    """Per round: histogram of the acquisition scores of the whole scored pool and of the selected batch.
    Strategies without per-example scores (badge, coreset) say so instead of drawing anything."""
    scored = [(record, arrays) for record, arrays in _round_arrays(run) if len(arrays.get("pool_ids", []))]
    fig, axes = plt.subplots(1, max(1, len(scored)), figsize=(4.2 * max(1, len(scored)), 3.6), squeeze=False)
    pool_color, selected_color = colors(2)
    for ax, (record, arrays) in zip(axes.ravel(), scored):
        if not bool(arrays.get("pool_scores_recorded", False)):
            ax.text(0.5, 0.5, f"{run.strategy} ranks the pool\nwithout a per-example score:\nnothing to show",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set(title=f"round {record['round']}", xticks=[], yticks=[])
            continue
        pool = arrays["pool_scores"]
        selected = np.isin(arrays["pool_ids"], arrays["selected_ids"])
        bins = np.histogram_bin_edges(pool[np.isfinite(pool)], bins=30)
        ax.hist(pool[~selected], bins=bins, color=pool_color, alpha=0.7, label=f"not selected ({(~selected).sum()})")
        ax.hist(pool[selected], bins=bins, color=selected_color, alpha=0.85, label=f"selected ({selected.sum()})")
        log = len(pool) > 2000  # a log count axis only where big pools need it
        ax.set(yscale="log" if log else "linear", xlabel="acquisition score",
               ylabel="pool examples (log)" if log else "pool examples",
               title=f"round {record['round']}: {record['labeled_count']} labeled")
        ax.legend(fontsize=7)
    if not scored:
        axes[0, 0].text(0.5, 0.5, "no pool was scored", ha="center", transform=axes[0, 0].transAxes)
    fig.suptitle(f"Acquisition scores, {run.group_label}, seed {run.seed}: selected vs the scored pool", fontsize=11)
    fig.tight_layout()
    return fig


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two id sets (NaN when both are empty)."""
    a, b = set(np.asarray(a).tolist()), set(np.asarray(b).tolist())
    return len(a & b) / len(a | b) if a | b else float("nan")


def batch_overlap(runs: list[Run]) -> dict[tuple[str, str], dict[int, list[float]]]:
    """Per pair of groups: per seed both ran, the Jaccard overlap of the batches acquired in each round
    (rounds both acquired in). Same seed = same initial labeled set, so round 0 compares the choice alone."""
    by_group: dict[str, dict[int, Run]] = {}
    for run in runs:
        by_group.setdefault(run.group_label, {})[run.seed] = run
    out = {}
    for first, second in itertools.combinations(sorted(by_group), 2):
        pair = {}
        for seed in sorted(set(by_group[first]) & set(by_group[second])):
            a, b = by_group[first][seed], by_group[second][seed]
            values = []
            for i in range(min(len(a.rounds), len(b.rounds))):
                sa, sb = a.arrays(i)["selected_ids"], b.arrays(i)["selected_ids"]
                if len(sa) and len(sb):
                    values.append(jaccard(sa, sb))
            pair[seed] = values
        if pair:
            out[(first, second)] = pair
    return out


def batch_overlap_figure(runs: list[Run]):
    """Jaccard overlap of the acquired batches per round, one line per seed, one panel per pair of groups."""
    overlap = batch_overlap(runs)
    pairs = list(overlap) or [None]
    fig, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 3.8), squeeze=False)
    for ax, pair in zip(axes.ravel(), pairs):
        if pair is None:
            ax.text(0.5, 0.5, "no two groups share a seed", ha="center", transform=ax.transAxes)
            continue
        for (seed, values), color in zip(overlap[pair].items(), colors(len(overlap[pair]))):
            ax.plot(range(len(values)), values, marker="o", color=color, label=f"seed {seed}", gid=f"seed{seed}")
        ax.set(ylim=(-0.02, 1.02), xlabel="round (batch acquired after it)", ylabel="Jaccard |A∩B| / |A∪B|",
               title=f"{pair[0]} vs {pair[1]}")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    fig.suptitle("Overlap of the acquired batches between strategies run with the same seed", fontsize=11)
    fig.tight_layout()
    return fig
