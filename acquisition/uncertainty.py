"""Uncertainty strategies computed from one deterministic forward pass (per-label Bernoulli)."""

from __future__ import annotations

import numpy as np

from .base import AcquisitionInput, ScoringStrategy, Selection, binary_entropy, check_choice, stable_random, top_k
from .registry import register


@register
class RandomSampling(ScoringStrategy):
    """Uniform random sampling, the baseline every strategy must beat.

    score(x) = u(id(x), random_state), u a seeded hash to [0, 1) (:func:`stable_random`): independent of
    pool order. The seed is select's ``random_state`` (the loop's differs every round).
    """

    name = "random"
    summary = "uniform random sample of the pool (baseline)"

    def score(self, inputs: AcquisitionInput, random_state: int = 0) -> np.ndarray:
        return stable_random(inputs.pool_ids, random_state + 0x5EED)

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        scores = self.score(inputs, random_state)
        positions = top_k(scores, inputs.pool_ids, k, random_state)
        return Selection(positions, scores[positions], scores)


@register
class MeanBinaryEntropy(ScoringStrategy):
    """Mean per-label binary entropy (uncertainty sampling, Lewis & Gale 1994, per-label Bernoulli).

    score(x) = (1/L) * sum_j H_b(p_j),  H_b(p) = -p log p - (1 - p) log(1 - p).
    Maximal (log 2) when every p_j = 0.5; zero when every p_j is 0 or 1.
    """

    name = "entropy"
    summary = "mean binary entropy over labels, (1/L) sum_j H_b(p_j)"

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        return binary_entropy(inputs.pool.probs).mean(axis=1)


def _margins(probs: np.ndarray) -> np.ndarray:
    """Per-label certainty |2 p_j - 1| in [0, 1] (0 at p = 0.5, 1 at p in {0, 1})."""
    return np.abs(2.0 * probs - 1.0)


def _mean_cardinality(targets: np.ndarray) -> float:
    return float(targets.sum(axis=1).mean()) if len(targets) else 0.0


@register
class Margin(ScoringStrategy):
    """Margin sampling per label (Scheffer et al. 2001), multi-label through per-label Bernoulli margins.

    m_j = |2 p_j - 1| = |P(y_j = 1) - P(y_j = 0)|.
    aggregation="min" (default, the most uncertain label): score = 1 - min_j m_j.
    aggregation="mean": score = 1 - (1/L) sum_j m_j.
    """

    name = "margin"
    summary = "1 - per-label margin |2p_j - 1|, most-uncertain label (min, default) or mean over labels"

    def __init__(self, aggregation: str = "min"):
        check_choice("aggregation", aggregation, ("min", "mean"))
        self.aggregation = aggregation

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        margins = _margins(inputs.pool.probs)
        return 1.0 - (margins.min(axis=1) if self.aggregation == "min" else margins.mean(axis=1))


@register
class LabelCardinalityInconsistency(ScoringStrategy):
    """Label cardinality inconsistency (Li & Guo 2013, IJCAI).

    score = | sum_j yhat_j - c_bar |, yhat_j = 1[p_j > 0.5], c_bar the mean number of labels
    per example in the labeled set.
    """

    name = "lci"
    summary = "label cardinality inconsistency |sum_j 1[p_j > 0.5] - mean labeled cardinality|"

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        predicted = (inputs.pool.probs > 0.5).sum(axis=1)
        return np.abs(predicted - _mean_cardinality(inputs.labeled_targets))
