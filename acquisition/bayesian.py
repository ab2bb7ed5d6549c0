"""Strategies over MC-dropout samples (Gal & Ghahramani 2016): bald, beal and variation_ratios.

Each declares in its ``Needs`` the per-pass statistics it reads (:mod:`mlal.acquisition.mc`); the loop
keeps only their running means over the T passes, so memory is O(N * L), never O(N * T * L).
"""

from __future__ import annotations

import numpy as np

from .base import AcquisitionInput, Needs, ScoringStrategy, binary_entropy, check_choice
from .mc import MEAN_CONFIDENCE, MEAN_ENTROPY, MEAN_PROBS, MEAN_SET_CONFIDENCE, POSITIVE_VOTES
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
    needs = Needs(mc_statistics=(MEAN_PROBS, MEAN_ENTROPY))

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        mc = inputs.pool.mc
        return np.maximum(binary_entropy(mc["mean_probs"]) - mc["mean_entropy"], 0.0).sum(axis=1)


@register
class BEAL(ScoringStrategy):
    """BEAL expected confidence (Wang et al. 2024, Sci. Rep. 14:28246), least confident first.

    variant="label" (default, CLI --beal_variant): EC(x) = (1/T) sum_t (1/L) sum_j max(p_j^t, 1 - p_j^t),
    the mean per-label confidence under MC dropout.
    variant="set": EC(x) = (1/T) sum_t prod_j max(p_j^t, 1 - p_j^t), the confidence of the whole
    predicted label set (a second plausible reading; the paper's full text was not available to us).
    score = 1 - EC(x).
    """

    name = "beal"
    summary = "BEAL: 1 - MC-dropout expected confidence, mean per-label (default) or whole label set"
    needs = Needs(mc_statistics=(MEAN_CONFIDENCE, MEAN_SET_CONFIDENCE))

    def __init__(self, variant: str = "label"):
        check_choice("variant", variant, ("label", "set"))
        self.variant = variant

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        mc = inputs.pool.mc
        confidence = mc["mean_confidence"].mean(axis=1) if self.variant == "label" else mc["mean_set_confidence"]
        return 1.0 - confidence


@register
class VariationRatios(ScoringStrategy):
    """Variation ratios (Freeman 1965, Elementary Applied Statistics; Gal 2016, PhD thesis
    "Uncertainty in Deep Learning", section 3.3.1), per label over MC-dropout votes.

    Each pass t votes y_j^t = 1[p_j^t > 0.5] on label j; f_j = (1/T) sum_t y_j^t is the fraction of
    positive votes. The variation ratio of label j is 1 - max(f_j, 1 - f_j), the share of votes that
    disagree with the mode (0 when all T passes agree, 0.5 at a tie), and
    score = (1/L) sum_j [1 - max(f_j, 1 - f_j)].
    Needs only the running mean of the votes (the statistic ``positive_votes``).
    """

    name = "variation_ratios"
    summary = "MC-dropout variation ratios, mean_j [1 - max(f_j, 1 - f_j)], f_j the share of passes voting p > 0.5"
    needs = Needs(mc_statistics=(POSITIVE_VOTES,))

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        votes = inputs.pool.mc["positive_votes"]
        return (1.0 - np.maximum(votes, 1.0 - votes)).mean(axis=1)
