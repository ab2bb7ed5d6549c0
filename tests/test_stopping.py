"""Stopping advice (stabilizing predictions) and the k-means-medoid cold start, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from mlal.coldstart import kmeans_medoids
from mlal.sampling import initial_labeled_ids
from mlal.stopping import mean_uncertainty, multilabel_kappa, stopping_advice


def test_kappa_pools_all_example_label_decisions():
    before = np.array([[1, 0], [0, 0]])
    after = np.array([[1, 0], [1, 0]])
    # p_o = 3/4; q_a = 1/4, q_b = 1/2; p_e = 1/8 + 3/8 = 1/2; kappa = (3/4 - 1/2) / (1/2)
    assert multilabel_kappa(before, after) == pytest.approx(0.5)
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(0)
    a, b = rng.random((30, 4)) > 0.6, rng.random((30, 4)) > 0.5
    assert multilabel_kappa(a, b) == pytest.approx(cohen_kappa_score(a.ravel(), b.ravel()))
    assert multilabel_kappa(np.zeros((3, 2)), np.zeros((3, 2))) == 1.0  # identical constant predictions


def test_mean_uncertainty_is_the_mean_binary_entropy():
    assert mean_uncertainty(np.array([[0.5, 1.0]])) == pytest.approx(np.log(2) / 2, abs=1e-9)


def test_advice_needs_the_whole_window_above_the_threshold():
    probs = np.array([[0.9, 0.1], [0.2, 0.7]])
    first = stopping_advice(None, probs, [], 0.99, 2)
    assert first["kappa"] is None and not first["stop"]
    same = stopping_advice(probs, probs, [0.995], 0.99, 2)
    assert same["kappa"] == 1.0 and same["stop"] and same["changed_decisions"] == 0.0
    assert not stopping_advice(probs, probs, [0.5], 0.99, 2)["stop"]
    flipped = stopping_advice(probs, probs[:, ::-1], [1.0], 0.99, 2)
    assert flipped["changed_decisions"] == 1.0 and flipped["changed_examples"] == 1.0 and not flipped["stop"]


def test_kmeans_medoids_take_the_example_nearest_each_centre():
    rng = np.random.default_rng(0)
    directions = np.eye(3)  # three well-separated clusters on the unit sphere, of sizes 30, 20, 10
    sizes = [30, 20, 10]
    x = np.concatenate([d + 0.05 * rng.standard_normal((n, 3)) for d, n in zip(directions, sizes)])
    positions, cluster_sizes = kmeans_medoids(x, 3, random_state=0)
    assert list(cluster_sizes) == sizes  # largest cluster first
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    starts = np.cumsum([0, *sizes])
    for c, position in enumerate(positions):
        members = unit[starts[c]:starts[c + 1]]
        nearest = np.argmin(np.linalg.norm(members - members.mean(axis=0), axis=1)) + starts[c]
        assert position == nearest
    assert len(kmeans_medoids(x[:2], 5, 0)[0]) == 2


def test_kmeans_initial_sampling_needs_embeddings_and_uses_candidate_ids():
    rng = np.random.default_rng(1)
    embeddings = rng.standard_normal((40, 4))
    ids = np.arange(100, 140)
    chosen = initial_labeled_ids(np.zeros((140, 2)), ids, 5, "kmeans", 3, embeddings)
    assert len(set(chosen)) == 5 and set(chosen) <= set(ids) and list(chosen) == sorted(chosen)
    with pytest.raises(ValueError):
        initial_labeled_ids(np.zeros((140, 2)), ids, 5, "kmeans", 3)
