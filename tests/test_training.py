"""Per-round validation during training: --eval_strategy epoch, keeping the best model, early stopping."""

import numpy as np
import pytest
from conftest import tiny_run_options

from mlal import make_config, run_experiment
from mlal.errors import UsageError
from mlal.training import positive_weights

VALIDATING = dict(eval_strategy="epoch", save_strategy="best", load_best_model_at_end=True,
                  metric_for_best_model="mean_average_precision")


def _run(tiny_bert_dir, output_dir, **overrides):
    return run_experiment(make_config(**tiny_run_options(tiny_bert_dir, output_dir, **overrides)), log=lambda s: None)


def test_early_stopping_stops_and_records_the_validation_curve(tiny_bert_dir, tmp_path):
    # A learning rate of 0 never improves validation mAP after the first evaluation, so patience 1
    # stops after the second of 6 epochs, in every round.
    stats = _run(tiny_bert_dir, tmp_path / "run", num_train_epochs=6, learning_rate=0.0, early_stopping_patience=1,
                 **VALIDATING)
    for record in stats["rounds"]:
        assert record["epochs"] == 2.0
        curve = record["validation_curve"]
        assert [point["epoch"] for point in curve] == [1.0, 2.0]
        assert curve[0]["mean_average_precision"] == pytest.approx(curve[1]["mean_average_precision"])
        assert record["best_metric"] == pytest.approx(curve[0]["mean_average_precision"])
    assert not any((tmp_path / "run").rglob("checkpoint-*"))  # Trainer's checkpoints are removed


def test_best_model_is_kept(tiny_bert_dir, tmp_path):
    # At this learning rate the tiny model peaks after the second epoch and then degrades (measured).
    stats = _run(tiny_bert_dir, tmp_path / "run", rounds=1, num_train_epochs=4, learning_rate=3e-2, **VALIDATING)
    record = stats["rounds"][0]
    curve = [point["mean_average_precision"] for point in record["validation_curve"]]
    assert len(curve) == 4 and max(curve) > curve[-1] + 0.02
    assert record["best_metric"] == pytest.approx(max(curve))
    # The loop's own evaluation of the kept model reproduces the best validation mAP, not the last one's
    # (up to the numerics of a different batching of the same rows).
    assert record["validation"]["mean_average_precision"] == pytest.approx(max(curve), abs=2e-3)


@pytest.mark.parametrize("overrides, message", [
    (dict(early_stopping_patience=2), "needs --eval_strategy epoch"),
    (dict(early_stopping_patience=0, eval_strategy="epoch"), "at least 1"),
])
def test_early_stopping_misconfigurations_are_refused(tiny_bert_dir, tmp_path, overrides, message):
    with pytest.raises(UsageError, match=message):
        _run(tiny_bert_dir, tmp_path / "run", **overrides)
    assert not (tmp_path / "run").exists()


def test_positive_weights_by_hand():
    targets = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=np.float32)
    # label 0: 1 negative / 3 positives -> clipped up to 1; label 1: 3/1 = 3; label 2: no positive -> max
    np.testing.assert_allclose(positive_weights(targets, 10.0), [1.0, 3.0, 10.0])
