"""Strategies over MC-dropout samples (Gal & Ghahramani 2016): bald and beal.

Both need only running means over the T passes (see ``MCDropoutStats``), so the loop's memory is
O(N * L), never O(N * T * L).
"""

from __future__ import annotations

import numpy as np

from .base import AcquisitionInput, Needs, ScoringStrategy, binary_entropy
from .registry import register


@register
class BALD(ScoringStrategy):
    """Bayesian active learning by disagreement (Houlsby et al. 2011; Gal et al. 2017), per-label Bernoulli.

    score = sum_j [ H_b(p_bar_j) - (1/T) sum_t H_b(p_j^t) ],  p_bar_j = (1/T) sum_t p_j^t:
    the mutual information between each label and the weights, summed over labels (labels treated
    as independent given the weights). Zero where all T passes agree.
    """

    name = "bald"
    summary = "MC-dropout mutual information, sum_j [H_b(mean_t p_j^t) - mean_t H_b(p_j^t)]"
    needs = Needs(mc_dropout=True)

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        mc = inputs.pool.mc
        return np.maximum(binary_entropy(mc.mean_probs) - mc.mean_entropy, 0.0).sum(axis=1)


@register
class BEAL(ScoringStrategy):
    """BEAL expected confidence (Wang et al. 2024, Sci. Rep. 14:28246), least confident first.

    variant="label" (default): EC(x) = (1/T) sum_t (1/L) sum_j max(p_j^t, 1 - p_j^t), the mean
    per-label confidence under MC dropout.
    variant="set": EC(x) = (1/T) sum_t prod_j max(p_j^t, 1 - p_j^t), the confidence of the whole
    predicted label set (a second plausible reading; the paper's full text was not available to us).
    score = 1 - EC(x).
    """

    name = "beal"
    summary = "BEAL: 1 - MC-dropout expected confidence, mean per-label (default) or whole label set"
    needs = Needs(mc_dropout=True)

    def __init__(self, beal_variant: str = "label"):
        if beal_variant not in ("label", "set"):
            raise ValueError(f"beal_variant must be 'label' or 'set', got {beal_variant!r}")
        self.variant = beal_variant

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        mc = inputs.pool.mc
        confidence = mc.mean_confidence.mean(axis=1) if self.variant == "label" else mc.mean_set_confidence
        return 1.0 - confidence
