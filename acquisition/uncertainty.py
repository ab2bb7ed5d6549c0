"""Uncertainty strategies computed from one deterministic forward pass (per-label Bernoulli)."""

from __future__ import annotations

import numpy as np

from .base import AcquisitionInput, ScoringStrategy, binary_entropy, stable_random
from .registry import register


@register
class RandomSampling(ScoringStrategy):
    """Uniform random sampling, the baseline every strategy must beat.

    score(x) = u(id(x), seed), u a seeded hash to [0, 1): independent of pool order.
    """

    name = "random"
    summary = "uniform random sample of the pool (baseline)"

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        return stable_random(inputs.pool_ids, self.random_state + 0x5EED)


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
