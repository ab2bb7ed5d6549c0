"""Calibrated acquisition (--acquisition_calibration platt): the Platt fit, the mapped scoring, the loop's wiring."""

import json

import numpy as np
import pytest
import torch
from test_inference import NEEDS, _score, scoring_setup  # noqa: F401  (the module fixture)

from mlal.calibration import LogitMap, fit_platt_map, logits_of
from mlal.errors import UsageError
from mlal.inference import _classifier_module


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_the_fit_recovers_the_map_that_generated_the_labels():
    rng = np.random.default_rng(0)
    weights = np.array([1.0, 2.0, 5.0, 10.0, 20.0, 30.0])
    z = rng.normal(0, 2.5, size=(40_000, len(weights)))
    a, c, b = 0.8, -0.7, -0.3  # the truth: q = sigmoid(a z + c log w + b)
    y = rng.random(z.shape) < _sigmoid(a * z + c * np.log(weights) + b)
    record = fit_platt_map(y, _sigmoid(z), weights)
    fitted = record["coefficients"]
    assert record["fitted"]
    assert fitted["logit"] == pytest.approx(a, abs=0.03)
    assert fitted["log_weight"] == pytest.approx(c, abs=0.04)
    assert fitted["intercept"] == pytest.approx(b, abs=0.06)
    assert record["scale"] == fitted["logit"]
    assert np.allclose(record["offset"], fitted["log_weight"] * np.log(weights) + fitted["intercept"])


def test_without_weights_or_with_equal_weights_the_offset_is_one_intercept():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, size=(20_000, 3))
    y = rng.random(z.shape) < _sigmoid(1.5 * z - 1.0)
    for weights in (None, np.full(3, 30.0)):
        record = fit_platt_map(y, _sigmoid(z), weights)
        assert record["coefficients"]["log_weight"] == 0.0
        assert record["scale"] == pytest.approx(1.5, abs=0.05)
        assert np.ptp(record["offset"]) == 0 and record["offset"][0] == pytest.approx(-1.0, abs=0.05)


def test_without_enough_of_both_classes_the_map_undoes_the_loss_weights():
    weights = np.array([2.0, 3.0])
    record = fit_platt_map(np.zeros((5, 2)), np.full((5, 2), 0.3), weights)
    assert not record["fitted"] and "0 positive" in record["reason"]
    assert record["scale"] == 1.0 and np.allclose(record["offset"], -np.log(weights))  # a = 1, c = -1, b = 0
    few = np.zeros((100, 2))
    few[:9, 0] = 1  # 9 positive pairs: one short of MIN_PAIRS
    assert not fit_platt_map(few, np.full((100, 2), 0.3), None)["fitted"]
    assert fit_platt_map(few, np.full((100, 2), 0.3), None)["offset"] == [0.0, 0.0]  # no weights: the identity
    few[9, 1] = 1
    assert fit_platt_map(few, np.where(few > 0, 0.6, 0.3), None)["fitted"]


def test_a_map_that_would_reverse_the_ranking_is_not_used_and_separation_stays_finite():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2, size=(1000, 4))
    y = z > 0.5
    reversed_fit = fit_platt_map(y, _sigmoid(-z), None)
    assert not reversed_fit["fitted"] and "not positive" in reversed_fit["reason"] and reversed_fit["scale"] == 1.0
    separated = fit_platt_map(y, _sigmoid(z), None)  # perfectly separated: the L2 penalty keeps a finite
    assert separated["fitted"] and 1 < separated["scale"] < 100
    # the boundary it learns is z = 0.5, where the labels switch: a * 0.5 + b = 0
    assert separated["offset"][0] / separated["scale"] == pytest.approx(-0.5, abs=0.05)


def test_the_map_applies_alike_to_arrays_and_tensors_and_survives_its_record():
    mapping = LogitMap.from_record({"scale": 0.5, "offset": [1.0, -2.0]})
    z = np.array([[0.0, 4.0], [-2.0, 2.0]])
    assert np.array_equal(mapping.apply(z), [[1.0, 0.0], [0.0, -1.0]])
    assert torch.equal(mapping.apply(torch.tensor(z)), torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64))
    again = LogitMap.from_record(mapping.to_record())
    assert again.scale == mapping.scale and np.array_equal(again.offset, mapping.offset)
    assert LogitMap.from_record(None) is None
    assert np.allclose(logits_of(np.array([0.5, _sigmoid(3.0)])), [0.0, 3.0])


def test_a_shift_only_map_scores_like_a_model_whose_classifier_bias_is_shifted(scoring_setup):  # noqa: F811
    make, tokenized, tokenizer = scoring_setup
    offset = np.array([-1.0, 0.5, 2.0, -3.0])
    mapped = _score(make(), tokenized, tokenizer, logit_map=LogitMap(1.0, offset))
    shifted_model = make()
    with torch.no_grad():
        _classifier_module(shifted_model).bias += torch.as_tensor(offset, dtype=torch.float32)
    shifted = _score(shifted_model, tokenized, tokenizer)
    assert np.allclose(mapped.probs, shifted.probs, atol=1e-5)
    for name in ("mean_probs", "mean_confidence"):  # the same dropout masks: the MC statistics agree too
        assert np.allclose(getattr(mapped.mc, name), getattr(shifted.mc, name), atol=1e-5)
    assert np.array_equal(mapped.embeddings, shifted.embeddings)


def test_a_scaled_map_is_the_sigmoid_of_the_mapped_logits(scoring_setup):  # noqa: F811
    make, tokenized, tokenizer = scoring_setup
    model = make()
    plain = _score(model, tokenized, tokenizer)
    mapping = LogitMap(2.0, np.array([0.0, -1.0, 1.0, 0.5]))
    mapped = _score(model, tokenized, tokenizer, logit_map=mapping)
    assert np.allclose(mapped.probs, _sigmoid(mapping.apply(logits_of(plain.probs))), atol=1e-4)
    assert not np.allclose(mapped.probs, plain.probs, atol=1e-2)


def test_the_loop_fits_the_map_on_validation_and_scores_the_pool_through_it(tiny_bert_dir, tmp_path, monkeypatch):
    import mlal.round as round_module
    from conftest import run_tiny

    maps = []
    real = round_module.predict_outputs

    def recording(*args, **kwargs):
        if kwargs.get("description") == "pool":
            maps.append(kwargs.get("logit_map"))
        return real(*args, **kwargs)

    monkeypatch.setattr(round_module, "predict_outputs", recording)
    run_tiny(tiny_bert_dir, tmp_path / "run", rounds=2, loss="weighted_bce", acquisition_calibration="platt")
    statistics = json.loads((tmp_path / "run" / "statistics.json").read_text())
    first = statistics["rounds"][0]
    assert first["acquisition_calibration"]["fitted"]
    assert len(maps) == 1 and isinstance(maps[0], LogitMap)
    assert "acquisition_calibration" not in statistics["rounds"][1]  # the last round acquires nothing: no fit
    assert maps[0].scale == first["acquisition_calibration"]["scale"]
    assert np.array_equal(maps[0].offset, first["acquisition_calibration"]["offset"])
    saved = np.load(tmp_path / "run" / "eval" / "round_000.npz")  # the map is the fit on the saved validation outputs
    weights = round_module.positive_weights(saved["labeled_targets"], 30.0)
    refit = fit_platt_map(saved["validation_targets"], saved["validation_probs"], weights)
    assert refit["scale"] == pytest.approx(first["acquisition_calibration"]["scale"], rel=1e-6)
    assert np.allclose(refit["offset"], first["acquisition_calibration"]["offset"])


def test_annotate_mode_refuses_calibration_it_has_no_validation_split_for():
    from mlal.annotate.cli import _check
    from mlal.config import parse_config

    with pytest.raises(UsageError, match="annotate mode does not have"):
        _check(parse_config(["--acquisition_calibration", "platt"]))
