"""Shared inputs and comparison helpers for ``peers_bench.py`` (numpy and scipy only; no peer library).

Shapes: N pool rows, T MC-dropout passes, L labels, M labeled rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr


@dataclass
class PeerArrays:
    """One synthetic pool, shaped like the sigmoid outputs of a fine-tuned multi-label classifier.

    probs: (N, L) float32 deterministic probabilities sigmoid(mu).
    samples: (N, T, L) float32 MC-dropout probabilities sigmoid(mu + sigma * eps_t).
    labeled_targets: (M, L) int64 multi-hot labels of the labeled set, at least one label per row.
    """

    probs: np.ndarray
    samples: np.ndarray
    labeled_targets: np.ndarray

    def permuted(self, perm: np.ndarray) -> "PeerArrays":
        """The same pool with its rows reordered: row i of the result is row perm[i] of this pool."""
        return PeerArrays(self.probs[perm], self.samples[perm], self.labeled_targets)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def make_arrays(n: int, n_labels: int, n_passes: int = 10, n_labeled: int = 500, seed: int = 0) -> PeerArrays:
    """Seeded synthetic pool.

    Logits mu ~ Normal(-3, 2) per (row, label): most labels confidently absent, a few per row near or
    above 0.5, as after fine-tuning on a sparse multi-label task. MC passes add sigma * eps_t with
    sigma ~ Uniform(0.1, 1.0) per (row, label) and eps_t ~ Normal(0, 1). Labeled rows draw
    y_j ~ Bernoulli(sigmoid(mu_j)) from the same logit law, plus one label so no row is empty.
    """
    rng = np.random.default_rng(seed)
    mu = rng.normal(-3.0, 2.0, size=(n, n_labels)).astype(np.float32)
    sigma = rng.uniform(0.1, 1.0, size=(n, 1, n_labels)).astype(np.float32)
    noise = rng.standard_normal(size=(n, n_passes, n_labels), dtype=np.float32)
    samples = _sigmoid(mu[:, None, :] + sigma * noise)
    del noise
    mu_labeled = rng.normal(-3.0, 2.0, size=(n_labeled, n_labels))
    targets = (rng.random((n_labeled, n_labels)) < 1.0 / (1.0 + np.exp(-mu_labeled))).astype(np.int64)
    targets[np.arange(n_labeled), rng.integers(0, n_labels, n_labeled)] = 1
    return PeerArrays(_sigmoid(mu), samples, targets)


def mc_running_means(samples: np.ndarray) -> dict[str, np.ndarray]:
    """The per-pass running means our loop accumulates during MC inference (see mlal/inference.py).

    From samples (N, T, L): mean_probs, mean_entropy, mean_confidence (N, L) and mean_set_confidence (N,),
    summed one pass at a time in float64 with p clipped to [1e-12, 1 - 1e-12], so memory stays O(N L).
    """
    n, n_passes, n_labels = samples.shape
    sums = {key: np.zeros((n, n_labels)) for key in ("mean_probs", "mean_entropy", "mean_confidence")}
    set_confidence = np.zeros(n)
    for t in range(n_passes):
        p = np.clip(samples[:, t, :].astype(np.float64), 1e-12, 1 - 1e-12)
        confidence = np.maximum(p, 1 - p)
        sums["mean_probs"] += p
        sums["mean_entropy"] -= p * np.log(p) + (1 - p) * np.log1p(-p)
        sums["mean_confidence"] += confidence
        set_confidence += confidence.prod(axis=1)
    means = {key: value / n_passes for key, value in sums.items()}
    means["mean_set_confidence"] = set_confidence / n_passes
    return means


def overlap(batch_a: np.ndarray, batch_b: np.ndarray) -> float:
    """|A intersect B| / |A| for two batches of row positions of equal size (order ignored)."""
    batch_a, batch_b = np.asarray(batch_a), np.asarray(batch_b)
    if len(batch_a) != len(batch_b) or len(batch_a) == 0:
        raise ValueError(f"batches must be non-empty and of equal size, got {len(batch_a)} and {len(batch_b)}")
    return len(np.intersect1d(batch_a, batch_b)) / len(batch_a)


def equivariance(batch: np.ndarray, batch_on_permuted: np.ndarray, perm: np.ndarray) -> float:
    """Overlap of the batch chosen on the pool with the batch chosen on the permuted pool mapped back.

    The permuted pool's position i holds original row perm[i], so its batch maps back to perm[batch].
    1.0 means permuting the pool only permuted the choice.
    """
    return overlap(batch, np.asarray(perm)[np.asarray(batch_on_permuted)])


def spearman(scores_a: np.ndarray | None, scores_b: np.ndarray | None) -> float:
    """Spearman rank correlation of two full score vectors (NaN when either is missing or constant)."""
    if scores_a is None or scores_b is None:
        return float("nan")
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"score vectors differ in shape: {a.shape} vs {b.shape}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)
