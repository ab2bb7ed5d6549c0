"""The acquisition interface: what a strategy needs, what it receives, what it returns.

Strategies are pure functions of arrays. A strategy declares in :class:`Needs` which
model outputs it uses; the active-learning loop computes exactly those in one pass over
the pool and hands them over as an :class:`AcquisitionInput`. Shapes follow scikit-learn:
N pool samples, M labeled samples, L labels, D embedding dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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


class AcquisitionInputError(ValueError):
    """Inputs a strategy cannot score: non-finite or out-of-range model outputs, a bad batch size k,
    or outputs the strategy declares in its :class:`Needs` that are missing. The message names the
    offending rows (pool positions and ids) and the likely cause."""


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """H_b(p) = -p log p - (1 - p) log(1 - p), in nats, elementwise, computed in float64.

    p is clipped to [1e-12, 1 - 1e-12] *after* the cast to float64: in float32, 1 - 1e-12 rounds to
    exactly 1.0 and log1p(-1) = -inf would make a saturated row's entropy NaN.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
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


def _bad_rows(name: str, values: Optional[np.ndarray], ids: Optional[np.ndarray], cause: str) -> Optional[str]:
    """A description of the rows of ``values`` that hold NaN or inf, or None when all are finite."""
    if values is None:
        return None
    values = np.asarray(values)
    finite = np.isfinite(values)
    if finite.all():
        return None
    rows = np.flatnonzero(~finite.reshape(len(values), -1).all(axis=1))
    shown = ", ".join(f"{r}" + (f" (id {ids[r]})" if ids is not None else "") for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"{name} has NaN or inf in {len(rows)} row(s): position {shown}{more}; {cause}"


NON_FINITE_CAUSE = ("the model's outputs are not finite, most likely a diverged fine-tune (lower the learning rate) "
                    "or fp16 overflow (score in fp32 or bf16)")


def check_inputs(inputs: AcquisitionInput, k: int, needs: Needs, name: str = "strategy") -> None:
    """Raise :class:`AcquisitionInputError` unless 1 <= k <= N, every output in ``needs`` is present,
    finite, and the probabilities lie in [0, 1]."""
    pool, ids = inputs.pool, np.asarray(inputs.pool_ids)
    n = len(pool.probs)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise AcquisitionInputError(f"{name}: batch size k={k!r} must be an integer in [1, {n}] (the pool size)")
    if len(ids) != n:
        raise AcquisitionInputError(f"{name}: pool_ids has {len(ids)} entries for {n} pool rows")
    missing = [what for what, wanted, present in (
        ("pool MC-dropout statistics (pool.mc)", needs.mc_dropout, pool.mc is not None),
        ("pool embeddings (pool.embeddings)", needs.embeddings, pool.embeddings is not None),
        ("labeled-set outputs (labeled)", needs.labeled_outputs, inputs.labeled is not None),
        ("labeled-set embeddings (labeled.embeddings)", needs.labeled_outputs and needs.embeddings,
         inputs.labeled is not None and inputs.labeled.embeddings is not None),
    ) if wanted and not present]
    if missing:
        raise AcquisitionInputError(f"{name} declares in its Needs and did not get: {', '.join(missing)}; compute them "
                                    "for the pool and the labeled set (the loop does so from strategy.needs)")
    if needs.labeled_outputs and len(inputs.labeled.probs) != len(inputs.labeled_targets):
        raise AcquisitionInputError(f"{name}: labeled outputs have {len(inputs.labeled.probs)} rows for "
                                    f"{len(inputs.labeled_targets)} labeled targets; score the labeled set itself")
    arrays = [("pool probabilities", pool.probs, ids)]
    if needs.embeddings:
        arrays.append(("pool embeddings", pool.embeddings, ids))
    if needs.mc_dropout:
        arrays += [(f"pool MC-dropout {field_name}", getattr(pool.mc, field_name), ids) for field_name in
                   ("mean_probs", "mean_entropy", "mean_confidence", "mean_set_confidence")]
    if needs.labeled_outputs:
        labeled = inputs.labeled
        arrays += [("labeled probabilities", labeled.probs, None), ("labeled embeddings", labeled.embeddings, None)]
    for array_name, values, row_ids in arrays:
        problem = _bad_rows(array_name, values, row_ids, NON_FINITE_CAUSE)
        if problem:
            raise AcquisitionInputError(f"{name}: {problem}")
    probs = np.asarray(pool.probs)
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        rows = np.flatnonzero(((probs < 0) | (probs > 1)).any(axis=1))
        raise AcquisitionInputError(f"{name}: pool probabilities outside [0, 1] in {len(rows)} row(s), first at "
                                    "position "
                                    f"{rows[0]} (id {ids[rows[0]]}); pass sigmoid probabilities, not logits")


def _as_float64(outputs: Optional[ModelOutputs]) -> Optional[ModelOutputs]:
    """The same outputs with float64 probabilities (embeddings keep their dtype: an (N, D) copy is large)."""
    if outputs is None or np.asarray(outputs.probs).dtype == np.float64:
        return outputs
    return replace(outputs, probs=np.asarray(outputs.probs, dtype=np.float64))


class Strategy:
    """Base class. Subclasses set ``name``, ``summary`` and ``needs`` and implement :meth:`_select`.

    :meth:`select` is the one entry point: it checks the inputs (:func:`check_inputs`: 1 <= k <= N,
    declared outputs present, everything finite, probabilities in [0, 1]; else
    :class:`AcquisitionInputError`), casts probabilities to float64 (float32 and float64 inputs then
    give the same scores and batch), and calls :meth:`_select`.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    needs: ClassVar[Needs] = Needs()

    def select(self, inputs: AcquisitionInput, k: int, random_state: int = 0) -> Selection:
        """Positions of the k pool samples to acquire, in acquisition order."""
        check_inputs(inputs, k, self.needs, self.name)
        inputs = replace(inputs, pool=_as_float64(inputs.pool), labeled=_as_float64(inputs.labeled))
        return self._select(inputs, int(k), random_state)

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        raise NotImplementedError


class ScoringStrategy(Strategy):
    """A strategy that scores every candidate independently and takes the top k."""

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        """(N,) informativeness; higher is acquired first."""
        raise NotImplementedError

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        scores = np.asarray(self.score(inputs), dtype=np.float64)
        positions = top_k(scores, inputs.pool_ids, k, random_state)
        return Selection(positions, scores[positions], scores)
