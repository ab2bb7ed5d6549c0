"""The acquisition interface: what a strategy needs, what it receives, what it returns.

Strategies are pure functions of arrays. A strategy declares in :class:`Needs` which
model outputs it uses; the active-learning loop computes exactly those in one pass over
the pool and hands them over as an :class:`AcquisitionInput`. Shapes follow scikit-learn:
N pool samples, M labeled samples, L labels, D embedding dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Optional

import numpy as np

EPS = 1e-12


@dataclass(frozen=True)
class Needs:
    """Model outputs a strategy uses beyond the pool's deterministic probabilities."""

    mc_dropout: bool = False  # running MC-dropout statistics over T passes
    embeddings: bool = False  # pooled [CLS] embeddings (the classifier's input)
    labeled_outputs: bool = False  # the same outputs for the labeled set


@dataclass
class MCDropoutStats:
    """Means over T stochastic (dropout-on) passes, accumulated as running sums.

    mean_probs: (N, L) mean of p_j^t.  mean_entropy: (N, L) mean of H_b(p_j^t).
    mean_confidence: (N, L) mean of max(p_j^t, 1 - p_j^t).
    mean_set_confidence: (N,) mean over t of prod_j max(p_j^t, 1 - p_j^t).
    """

    mean_probs: np.ndarray
    mean_entropy: np.ndarray
    mean_confidence: np.ndarray
    mean_set_confidence: np.ndarray
    passes: int


@dataclass
class ModelOutputs:
    """Outputs for a set of samples: probs (N, L) from the deterministic model, and optionally
    embeddings (N, D) and MC-dropout statistics."""

    probs: np.ndarray
    embeddings: Optional[np.ndarray] = None
    mc: Optional[MCDropoutStats] = None

    def __len__(self) -> int:
        return len(self.probs)


@dataclass
class AcquisitionInput:
    """Everything a strategy may use.

    pool: outputs for the N unlabeled candidates.
    pool_ids: (N,) stable integer ids of the candidates (dataset row numbers); deterministic
        tie-breaking and random scores are derived from them, so permuting the pool only
        permutes the scores.
    labeled_targets: (M, L) multi-hot labels of the labeled set.
    labeled: outputs for the labeled set, when the strategy's Needs ask for them.
    """

    pool: ModelOutputs
    pool_ids: np.ndarray
    labeled_targets: np.ndarray
    labeled: Optional[ModelOutputs] = None


@dataclass
class Selection:
    """positions: (k,) indices into the pool arrays, in acquisition order.
    scores: (k,) the acquisition score of each selected sample (higher = acquired first)."""

    positions: np.ndarray
    scores: np.ndarray
    all_scores: Optional[np.ndarray] = field(default=None, repr=False)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """H_b(p) = -p log p - (1 - p) log(1 - p), in nats, elementwise."""
    p = np.clip(p, EPS, 1 - EPS)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def stable_random(ids: np.ndarray, random_state: int) -> np.ndarray:
    """Uniform numbers in [0, 1) that depend only on (id, random_state): a vectorised SplitMix64 hash."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids, dtype=np.uint64) + np.uint64(random_state & 0xFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def top_k(scores: np.ndarray, ids: np.ndarray, k: int, random_state: int) -> np.ndarray:
    """Positions of the k highest scores; ties broken by a seeded hash of the ids."""
    k = min(int(k), len(scores))
    order = np.lexsort((stable_random(ids, random_state), -np.asarray(scores, dtype=np.float64)))
    return order[:k]


class Strategy:
    """Base class. Subclasses set ``name``, ``summary`` and ``needs`` and implement :meth:`select`."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    needs: ClassVar[Needs] = Needs()

    def select(self, inputs: AcquisitionInput, k: int, random_state: int = 0) -> Selection:
        raise NotImplementedError


class ScoringStrategy(Strategy):
    """A strategy that scores every candidate independently and takes the top k."""

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        """(N,) informativeness; higher is acquired first."""
        raise NotImplementedError

    def select(self, inputs: AcquisitionInput, k: int, random_state: int = 0) -> Selection:
        scores = np.asarray(self.score(inputs), dtype=np.float64)
        positions = top_k(scores, inputs.pool_ids, k, random_state)
        return Selection(positions, scores[positions], scores)
