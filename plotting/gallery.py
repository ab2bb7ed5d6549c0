"""Render every diagnostic figure from finished runs (saved outputs only, no retraining)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from .calibration import per_class_histograms, probability_histogram, reliability_diagram
from .curves import learning_curve_table, learning_curves_figure, training_curves_figure, write_table
from .per_class import cooccurrence_figure, per_class_figure
from .runs import Run
from .style import save_figure
from .thresholds import threshold_sweep_figure


def dataset_label(run: Run) -> str:
    return Path(str(run.statistics["config"]["data"]["dataset"])).name or "data"


def run_label(run: Run) -> str:
    return f"{dataset_label(run)}-{run.strategy}-seed{run.seed}"


def run_figures(run: Run, outdir: Path, round_index: int = -1) -> list[Path]:
    """The per-run diagnostics of one round (default: the last) of ``run``."""
    arrays = run.arrays(round_index)
    record = run.rounds[round_index]
    names = [str(n) for n in arrays["label_names"]]
    y_test, p_test = arrays["test_targets"], arrays["test_probs"]
    threshold = float(record.get("tuned_threshold", 0.5))
    where = f"round {record['round']}, {record['labeled_count']} labeled"
    figures = {
        "probability_histogram": probability_histogram(p_test, y_test, f"Test probabilities ({where})"),
        "probability_histogram_per_class": per_class_histograms(p_test, y_test, names),
        "threshold_sweep": threshold_sweep_figure(arrays["validation_targets"], arrays["validation_probs"],
                                                  f"Threshold sweep on validation ({where})"),
        "reliability_diagram": reliability_diagram(y_test, p_test, title=f"Reliability, test ({where})"),
        "per_class_metrics": per_class_figure(y_test, p_test, names, threshold),
        "label_cooccurrence": cooccurrence_figure(y_test, names, (p_test >= threshold).astype(int)),
    }
    paths = []
    for name, fig in figures.items():
        paths += save_figure(fig, outdir, name)
        plt.close(fig)
    return paths


def make_gallery(runs: list[Run], outdir: str | Path, target_f1: float = 0.5) -> list[Path]:
    """All figures: per run under ``outdir/<dataset>-<strategy>-seed<k>/``; curves across runs in ``outdir``
    (one set per dataset, suffixed with its name when the runs span several datasets)."""
    outdir = Path(outdir)
    paths: list[Path] = []
    for run in runs:
        paths += run_figures(run, outdir / run_label(run))
    by_dataset: dict[str, list[Run]] = {}
    for run in runs:
        by_dataset.setdefault(dataset_label(run), []).append(run)
    for dataset, group in by_dataset.items():  # curves compare strategies on one dataset
        suffix = "" if len(by_dataset) == 1 else f"_{dataset}"
        for name, make in (("training_curves", training_curves_figure), ("learning_curves", learning_curves_figure)):
            fig = make(group)
            paths += save_figure(fig, outdir, name + suffix)
            plt.close(fig)
        paths += write_table(learning_curve_table(group, target_f1), outdir, "learning_curves" + suffix)
    return paths
