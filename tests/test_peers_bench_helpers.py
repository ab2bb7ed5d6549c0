"""The peers benchmark's inputs and comparison helpers (benchmarks/peers_arrays.py); needs no peer library."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from peers_arrays import equivariance, make_arrays, mc_running_means, overlap, spearman  # noqa: E402


def test_make_arrays_shapes_ranges_and_seeding():
    arrays = make_arrays(50, 7, n_passes=4, n_labeled=20, seed=3)
    assert arrays.probs.shape == (50, 7) and arrays.samples.shape == (50, 4, 7)
    assert arrays.labeled_targets.shape == (20, 7)
    assert arrays.probs.dtype == np.float32 and arrays.samples.dtype == np.float32
    assert ((arrays.probs > 0) & (arrays.probs < 1)).all()
    assert set(np.unique(arrays.labeled_targets)) <= {0, 1} and (arrays.labeled_targets.sum(axis=1) >= 1).all()
    again, other = make_arrays(50, 7, 4, 20, seed=3), make_arrays(50, 7, 4, 20, seed=4)
    assert np.array_equal(arrays.samples, again.samples) and not np.array_equal(arrays.probs, other.probs)


def test_make_arrays_look_like_sparse_sigmoid_outputs():
    arrays = make_arrays(4000, 28, n_passes=10, n_labeled=500, seed=0)
    # mu ~ N(-3, 2): P(p > 0.5) = P(mu > 0) = 1 - Phi(1.5) = 0.0668, so about 1.9 of 28 labels per row
    assert arrays.probs.mean() < 0.2 and 0.055 < (arrays.probs > 0.5).mean() < 0.078
    # passes disagree (MC noise) but are centred on the deterministic logit
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    assert arrays.samples.std(axis=1).mean() > 0.01
    assert abs(float((logit(arrays.samples.astype(np.float64)).mean(axis=1) - logit(arrays.probs)).mean())) < 0.02


def test_permuted_pool_moves_rows_together():
    arrays = make_arrays(6, 3, 2, 4, seed=0)
    perm = np.array([5, 0, 3, 1, 4, 2])
    moved = arrays.permuted(perm)
    assert np.array_equal(moved.probs[1], arrays.probs[0]) and np.array_equal(moved.samples[0], arrays.samples[5])
    assert moved.labeled_targets is arrays.labeled_targets


def test_mc_running_means_by_hand():
    samples = np.array([[[0.5, 0.9], [0.1, 0.3]]], dtype=np.float32)  # N=1, T=2 passes, L=2
    means = mc_running_means(samples)
    p = samples[0].astype(np.float64)
    h = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    np.testing.assert_allclose(means["mean_probs"], [[0.3, 0.6]], atol=1e-7)
    np.testing.assert_allclose(means["mean_entropy"], [h.mean(axis=0)], rtol=1e-6)
    np.testing.assert_allclose(means["mean_confidence"], [[0.7, 0.8]], atol=1e-7)
    np.testing.assert_allclose(means["mean_set_confidence"], [(0.5 * 0.9 + 0.9 * 0.7) / 2], atol=1e-7)


def test_overlap_counts_shared_rows_and_ignores_order():
    assert overlap(np.array([1, 2, 3, 4]), np.array([4, 3, 9, 8])) == 0.5
    assert overlap([7, 1], [1, 7]) == 1.0
    with pytest.raises(ValueError, match="equal size"):
        overlap([1, 2], [1])


def test_equivariance_maps_the_permuted_batch_back():
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.2])
    perm = np.array([3, 1, 4, 0, 2])  # permuted position i holds original row perm[i]
    batch = np.argsort(-scores)[:2]  # rows 1 and 3
    batch_on_permuted = np.argsort(-scores[perm])[:2]  # positions 1 and 0
    assert equivariance(batch, batch_on_permuted, perm) == 1.0
    assert equivariance(batch, np.array([2, 4]), perm) == 0.0  # rows 4 and 2: a different choice


def test_spearman_orders_and_missing_scores():
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 40.0])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    assert np.isnan(spearman(None, np.array([1.0, 2.0]))) and np.isnan(spearman(np.ones(3), np.arange(3.0)))


def test_array_classifier_stands_in_for_small_text_and_bernoulli_layout():
    from peers_bench import ArrayClassifier, ArrayDataset, bernoulli

    arrays = make_arrays(5, 3, 4, 2, seed=0)
    clf, subset = ArrayClassifier(arrays.probs, arrays.samples), ArrayDataset(np.arange(5))[np.array([3, 1])]
    assert np.array_equal(clf.predict_proba(subset), arrays.probs[[3, 1]])
    assert np.array_equal(clf.predict_proba(subset, dropout_sampling=4), arrays.samples[[3, 1]])
    pairs = bernoulli(arrays.probs)  # (N, 2, L): [P(y = 0), P(y = 1)] per label
    assert pairs.shape == (5, 2, 3) and np.allclose(pairs.sum(axis=1), 1) and np.array_equal(pairs[:, 1], arrays.probs)


def test_capture_return_keeps_results_and_restores_the_method():
    from peers_bench import capture_return

    class Scorer:
        def score(self, x):
            return 2 * x

    scorer = Scorer()
    with capture_return(scorer, "score") as kept:
        assert scorer.score(3) == 6
    assert kept == [6] and "score" not in vars(scorer) and scorer.score(4) == 8
