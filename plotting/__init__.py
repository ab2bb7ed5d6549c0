"""Diagnostics rendered from saved run outputs (statistics.json, eval/*.npz).

Each figure function returns a matplotlib Figure; :func:`make_gallery` renders them all as PNG
(dpi 150) and SVG. This package reads files only: it never imports the model or the training loop.
"""

from .batches import (
    batch_labels_figure,
    batch_overlap,
    batch_overlap_figure,
    cumulative_positives,
    jaccard,
    rare_labels,
    score_distribution_figure,
)
from .calibration import (
    expected_calibration_error,
    per_class_histograms,
    probability_histogram,
    reliability_bins,
    reliability_diagram,
)
from .curves import (
    labels_to_reach,
    learning_curve_table,
    learning_curves_figure,
    mean_std_over_seeds,
    normalised_aulc,
    paired_differences,
    training_curves_figure,
    write_table,
)
from .efficiency import acquired_labels_figure, label_efficiency_figure
from .gallery import make_gallery, run_figures
from .groups import group_runs
from .per_class import (
    cooccurrence,
    cooccurrence_figure,
    false_positive_cooccurrence,
    per_class_figure,
    per_class_scores,
)
from .runs import Run, find_runs
from .style import save_figure
from .thresholds import threshold_sweep_figure

__all__ = [
    "batch_labels_figure", "batch_overlap", "batch_overlap_figure", "cumulative_positives", "jaccard",
    "rare_labels", "score_distribution_figure", "paired_differences", "group_runs", "false_positive_cooccurrence",
    "Run", "cooccurrence", "cooccurrence_figure", "expected_calibration_error", "find_runs", "labels_to_reach",
    "learning_curve_table", "learning_curves_figure", "make_gallery", "mean_std_over_seeds", "normalised_aulc",
    "per_class_figure", "per_class_histograms", "per_class_scores", "probability_histogram", "reliability_bins",
    "reliability_diagram", "run_figures", "save_figure", "threshold_sweep_figure", "training_curves_figure",
    "write_table", "acquired_labels_figure", "label_efficiency_figure",
]
