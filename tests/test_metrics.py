import numpy as np
import pytest

from mlal.metrics import (
    mean_average_precision,
    per_class_metrics,
    multilabel_metrics,
    threshold_sweep,
    tune_per_class_thresholds,
    tune_threshold,
)

Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
P = np.array([[0.9, 0.2, 0.4], [0.1, 0.7, 0.6], [0.8, 0.3, 0.1], [0.2, 0.1, 0.05]])


def test_metrics_by_hand():
    m = multilabel_metrics(Y, P, 0.5)
    # predictions: [1,0,0], [0,1,1], [1,0,0], [0,0,0]; TP=3, FP=1, FN=2
    assert m["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    # per label F1: label0 TP2 -> 1.0; label1 TP1 FN1 -> 2/3; label2 FP1 FN1 -> 0
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert m["hamming_loss"] == pytest.approx(3 / 12)
    assert m["subset_accuracy"] == pytest.approx(1 / 4)  # only the all-zero row matches
    # AP per label: label0 ranks both positives first -> 1; label1 positives ranked 1st and 2nd
    # (0.7, 0.3 vs 0.2, 0.1) -> 1; label2 positive 0.4 ranked 2nd after 0.6 -> 1/2
    assert m["mean_average_precision"] == pytest.approx((1 + 1 + 0.5) / 3)


def test_map_ignores_labels_without_positives():
    y = np.array([[1, 0], [0, 0]])
    p = np.array([[0.9, 0.5], [0.1, 0.4]])
    assert mean_average_precision(y, p) == pytest.approx(1.0)


def test_sweep_matches_sklearn_and_tuning_takes_its_maximum():
    rng = np.random.default_rng(0)
    y = (rng.random((200, 5)) < 0.3).astype(int)
    p = np.clip(0.3 * y + rng.random((200, 5)) * 0.6, 0, 1)
    sweep = threshold_sweep(y, p)
    for k in (10, 40, 70):
        t = sweep["threshold"][k]
        m = multilabel_metrics(y, p, t)
        assert sweep["micro_f1"][k] == pytest.approx(m["micro_f1"])
        assert sweep["macro_f1"][k] == pytest.approx(m["macro_f1"])
    best = tune_threshold(y, p)
    assert multilabel_metrics(y, p, best)["micro_f1"] == pytest.approx(sweep["micro_f1"].max())


def test_per_class_thresholds_by_hand():
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    p = np.array([[0.30, 0.9, 0.2], [0.25, 0.8, 0.1], [0.10, 0.7, 0.3], [0.05, 0.85, 0.4]])
    thresholds = tune_per_class_thresholds(y, p)
    # label 0: positives at .30 and .25, negatives at .10 and .05 -> any threshold in (.10, .25] is perfect;
    # the lowest grid value there is 0.11. label 1 (positives at .8 and .7, negatives at .9 and .85): F1 is
    # best (2/3) with every example predicted, lowest such threshold 0.01. label 2: no positive -> 0.5.
    assert thresholds.tolist() == [0.11, 0.01, 0.5]
    m = multilabel_metrics(y, p, thresholds[None, :])
    assert m["macro_f1"] == pytest.approx((1.0 + 2 / 3) / 2)  # label 2 has no positive: left out, not 0
    assert m["macro_labels_excluded"] == 1


def test_perfect_prediction_with_an_absent_label_scores_one():
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])  # label 2 has no positive
    m = multilabel_metrics(y, y.astype(float), 0.5)
    assert m["macro_f1"] == 1.0 and m["mean_average_precision"] == 1.0
    assert m["macro_labels_excluded"] == 1
    assert threshold_sweep(y, y.astype(float))["macro_f1"][49] == 1.0  # threshold 0.5, same labels as macro_f1


def test_false_positive_on_absent_label_counts_in_micro_not_macro():
    y = np.array([[1, 0], [0, 0]])
    p = np.array([[0.9, 0.9], [0.1, 0.1]])  # label 1 absent, predicted once
    m = multilabel_metrics(y, p, 0.5)
    assert m["macro_f1"] == 1.0 and m["macro_labels_excluded"] == 1
    assert m["micro_f1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 0))


def test_per_class_is_nan_for_absent_labels_never_zero():
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]])
    p = np.array([[0.9, 0.1, 0.8], [0.2, 0.7, 0.1], [0.1, 0.1, 0.1]])
    scores = per_class_metrics(y, p, 0.5)
    # label 0: TP1 FN1 -> P 1, R 1/2, F1 2/3; label 1: TP1 -> 1, 1, 1; label 2 absent (one FP) -> NaN
    assert scores["precision"][:2].tolist() == [1.0, 1.0]
    assert scores["recall"][:2].tolist() == [0.5, 1.0]
    assert scores["f1"][:2] == pytest.approx([2 / 3, 1.0])
    assert all(np.isnan(scores[key][2]) for key in ("precision", "recall", "f1"))
    assert scores["support"].tolist() == [2, 1, 0]
    assert multilabel_metrics(y, p, 0.5)["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)


def test_no_label_present_gives_nan_not_zero():
    y = np.zeros((3, 2), dtype=int)
    m = multilabel_metrics(y, np.full((3, 2), 0.1), 0.5)
    assert np.isnan(m["macro_f1"]) and np.isnan(m["mean_average_precision"]) and m["macro_labels_excluded"] == 2
    assert m["samples_f1"] == 1.0  # every empty label set predicted empty: correct, not 0
