"""Render every diagnostic figure from finished runs (saved outputs only, no retraining).

Runs are grouped by config minus seed (:mod:`plotting.groups`). Files:

* ``outdir/<comparison>/<group>-seed<k>/``: the per-run figures of one round (default: the last);
* ``outdir/<name>[_<comparison>].png``: the curves and AL figures of each comparison (the suffix only when
  the runs span several comparisons, e.g. two datasets).

No path is written twice: a clash raises instead of silently overwriting another group's figure.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from .batches import batch_labels_figure, batch_overlap_figure, score_distribution_figure
from .calibration import per_class_histograms, probability_histogram, reliability_diagram
from .curves import learning_curve_table, learning_curves_figure, training_curves_figure, write_table
from .groups import Comparison, group_runs, slugify
from .per_class import cooccurrence_figure, per_class_figure
from .runs import Run
from .style import save_figure
from .thresholds import threshold_sweep_figure


class _Writer:
    """Saves figures, refusing to write any path twice in one gallery."""

    def __init__(self):
        self.written: set[Path] = set()

    def save(self, fig, outdir: Path, name: str) -> list[Path]:
        paths = [outdir / f"{name}.png", outdir / f"{name}.svg"]
        clash = [p for p in paths if p.resolve() in self.written]
        if clash:
            plt.close(fig)
            raise ValueError(f"two figures would be written to {clash[0]}; this is a bug in the gallery's naming")
        self.written.update(p.resolve() for p in paths)
        saved = save_figure(fig, outdir, name)
        plt.close(fig)
        return saved


def run_label(run: Run) -> str:
    return slugify(f"{run.group_label}-seed{run.seed}")


def has_al_arrays(run: Run) -> bool:
    """Runs written before schema 2 hold no labels of the acquired batches or pool scores."""
    return run.has_saved_arrays and "labeled_targets" in run.arrays(-1)


def run_figures(run: Run, outdir: Path, round_index: int = -1, writer: _Writer | None = None) -> list[Path]:
    """The per-run diagnostics of one round (default: the last) of ``run``, and its AL figures."""
    writer = writer or _Writer()
    arrays = run.arrays(round_index)
    record = run.rounds[round_index]
    names = [str(n) for n in arrays["label_names"]]
    y_test, p_test = arrays["test_targets"], arrays["test_probs"]
    threshold = float(record.get("tuned_threshold", 0.5))
    where = f"round {record['round']}, {record['labeled_count']} labeled"
    figures = {
        "probability_histogram": lambda: probability_histogram(p_test, y_test, f"Test probabilities ({where})"),
        "probability_histogram_per_class": lambda: per_class_histograms(p_test, y_test, names),
        "threshold_sweep": lambda: threshold_sweep_figure(arrays["validation_targets"], arrays["validation_probs"],
                                                          f"Threshold sweep on validation ({where})"),
        "reliability_diagram": lambda: reliability_diagram(y_test, p_test, title=f"Reliability, test ({where})"),
        "per_class_metrics": lambda: per_class_figure(y_test, p_test, names, threshold),
        "label_cooccurrence": lambda: cooccurrence_figure(y_test, names, (p_test >= threshold).astype(int)),
    }
    if has_al_arrays(run):
        figures["batch_labels"] = lambda: batch_labels_figure(run)
        figures["acquisition_scores"] = lambda: score_distribution_figure(run)
    paths = []
    for name, make in figures.items():
        paths += writer.save(make(), outdir, name)
    return paths


def comparison_figures(comparison: Comparison, outdir: Path, suffix: str, target_f1: float,
                       writer: _Writer) -> list[Path]:
    runs = comparison.runs
    paths = []
    makers = {"training_curves": training_curves_figure, "learning_curves": learning_curves_figure}
    if len(comparison.groups) > 1 and all(has_al_arrays(run) for run in runs):
        makers["batch_overlap"] = batch_overlap_figure
    for name, make in makers.items():
        fig = make(runs)
        fig.suptitle(comparison.title, fontsize=10, y=1.01)
        paths += writer.save(fig, outdir, name + suffix)
    paths += write_table(learning_curve_table(runs, target_f1), outdir, "learning_curves" + suffix)
    return paths


def runs_without_arrays(runs: list[Run]) -> list[Run]:
    """Runs whose per-round arrays (eval/) are missing: they get no per-run figures and no batch overlap."""
    return [run for run in runs if not run.has_saved_arrays]


def make_gallery(runs: list[Run], outdir: str | Path, target_f1: float = 0.5) -> list[Path]:
    """All figures (see the module docstring). Raises ValueError for two runs of the same config and seed."""
    outdir = Path(outdir)
    writer = _Writer()
    comparisons = group_runs(runs)
    paths: list[Path] = []
    for comparison in comparisons:
        suffix = f"_{comparison.slug}" if comparison.slug else ""
        folder = outdir / comparison.slug if comparison.slug else outdir
        for run in comparison.runs:
            if run.has_saved_arrays:  # else only the curves, from statistics.json (runs_without_arrays)
                paths += run_figures(run, folder / run_label(run), writer=writer)
        paths += comparison_figures(comparison, outdir, suffix, target_f1, writer)
    return paths
