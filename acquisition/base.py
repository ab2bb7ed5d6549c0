"""The acquisition interface: what a strategy needs, what it receives, what it returns.

Strategies are pure functions of arrays. A strategy declares in :class:`Needs` which
model outputs it uses; the active-learning loop computes exactly those in one pass over
the pool and hands them over as an :class:`AcquisitionInput`. Shapes follow scikit-learn:
N pool samples, M labeled samples, L labels, D embedding dimensions.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Optional

import numpy as np

from .mc import STANDARD_MC_STATISTICS, MCDropoutStats

EPS = 1e-12


@dataclass(frozen=True)
class Needs:
    """Model outputs a strategy uses beyond the pool's deterministic probabilities.

    mc_statistics: the :class:`~mlal.acquisition.mc.MCStatistic` terms averaged over the T MC-dropout
    passes that the strategy reads (``inputs.pool.mc[name]``); ``mc_dropout=True`` alone means the
    standard four (mean_probs, mean_entropy, mean_confidence, mean_set_confidence). ``mc_dropout`` is
    True exactly when some statistic is needed.
    """

    mc_dropout: bool = False  # MC-dropout statistics over T passes (see mc_statistics)
    embeddings: bool = False  # pooled [CLS] embeddings (the classifier's input)
    labeled_outputs: bool = False  # the same outputs for the labeled set
    mc_statistics: tuple = ()

    def __post_init__(self):
        statistics = tuple(self.mc_statistics) or (STANDARD_MC_STATISTICS if self.mc_dropout else ())
        object.__setattr__(self, "mc_statistics", statistics)
        object.__setattr__(self, "mc_dropout", bool(statistics))

    def cost(self) -> str:
        """What scoring the pool costs beyond one deterministic forward pass, in words."""
        parts = ["1 forward pass"]
        if self.mc_dropout:
            parts.append(f"T MC-dropout passes ({', '.join(s.name for s in self.mc_statistics)})")
        if self.embeddings:
            parts.append("embeddings")
        if self.labeled_outputs:
            parts.append("labeled-set outputs" + (" and embeddings" if self.embeddings else ""))
        return " + ".join(parts)


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


def missing_outputs(inputs: AcquisitionInput, needs: Needs) -> Optional[str]:
    """What ``needs`` declares and ``inputs`` lacks, as 'X (where it should be)', or None."""
    pool, labeled = inputs.pool, inputs.labeled
    if needs.mc_dropout and pool.mc is None:
        return "MC-dropout statistics of the pool (AcquisitionInput.pool.mc is None)"
    absent = [s.name for s in needs.mc_statistics if s.name not in pool.mc] if needs.mc_dropout else []
    if absent:
        return (f"the MC-dropout statistic {absent[0]!r} of the pool (AcquisitionInput.pool.mc holds only "
                f"{', '.join(pool.mc.means) or 'nothing'})")
    if needs.embeddings and pool.embeddings is None:
        return "embeddings of the pool (AcquisitionInput.pool.embeddings is None)"
    if needs.labeled_outputs and labeled is None:
        return "outputs for the labeled set (AcquisitionInput.labeled is None)"
    if needs.labeled_outputs and needs.embeddings and labeled.embeddings is None:
        return "embeddings of the labeled set (AcquisitionInput.labeled.embeddings is None)"
    return None


def check_inputs(inputs: AcquisitionInput, k: int, needs: Needs, name: str = "strategy") -> None:
    """Raise :class:`AcquisitionInputError` unless 1 <= k <= N, every output in ``needs`` is present,
    finite, and the probabilities lie in [0, 1]."""
    pool, ids = inputs.pool, np.asarray(inputs.pool_ids)
    n = len(pool.probs)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise AcquisitionInputError(f"{name}: batch size k={k!r} must be an integer in [1, {n}] (the pool size)")
    if len(ids) != n:
        raise AcquisitionInputError(f"{name}: pool_ids has {len(ids)} entries for {n} pool rows")
    problem = missing_outputs(inputs, needs)
    if problem:
        raise AcquisitionInputError(f"{name} needs {problem}; compute what strategy.needs declares (the loop does)")
    if needs.labeled_outputs and len(inputs.labeled.probs) != len(inputs.labeled_targets):
        raise AcquisitionInputError(f"{name}: labeled outputs have {len(inputs.labeled.probs)} rows for "
                                    f"{len(inputs.labeled_targets)} labeled targets; score the labeled set itself")
    arrays = [("pool probabilities", pool.probs, ids)]
    if needs.embeddings:
        arrays.append(("pool embeddings", pool.embeddings, ids))
    if needs.mc_dropout:
        arrays += [(f"pool MC-dropout {statistic.name}", pool.mc[statistic.name], ids)
                   for statistic in needs.mc_statistics]
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
    """Base class of every strategy, with scikit-learn's conventions.

    Subclasses set ``name``, ``summary`` and ``needs`` and implement :meth:`_select`. Constructor
    arguments are hyper-parameters only, keyword arguments stored unchanged under their own names (so
    :meth:`get_params`, :meth:`set_params` and ``repr`` work as in scikit-learn) and validated in the
    constructor (written here rather than inherited from sklearn.base.BaseEstimator, whose import took
    1.8 s on the shared 2-core machine, paid by --list-strategies). Randomness has one place: the
    ``random_state`` argument of :meth:`select` (the loop passes one per round, derived from --seed); the
    same inputs, k and random_state give the same batch.

    :meth:`select` is the one entry point: it checks the inputs (:func:`check_inputs`: 1 <= k <= N,
    declared outputs present, everything finite, probabilities in [0, 1]; else
    :class:`AcquisitionInputError`), casts probabilities to float64 (float32 and float64 inputs then
    give the same scores and batch), and calls :meth:`_select`.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    needs: ClassVar[Needs] = Needs()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:  # a subclass without its own name is named after its class
            cls.name = cls.__name__

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's parameter names (keyword parameters only, as scikit-learn requires)."""
        if cls.__init__ is object.__init__:
            return []
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        for parameter in parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters (no *args or **kwargs)")
        return [parameter.name for parameter in parameters]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments, by name: ``type(s)(**s.get_params())`` rebuilds ``s``."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> "Strategy":
        """Change hyper-parameters (validated as in the constructor); returns self."""
        valid = self._get_param_names()
        for key in params:
            if key not in valid:
                raise ValueError(unknown_option_message(type(self), key))
        self.__init__(**{**self.get_params(), **params})
        return self

    def __repr__(self) -> str:
        """scikit-learn style: the class name and the parameters that differ from their defaults."""
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{key}={value!r}" for key, value in self.get_params().items()
                   if not (key in defaults and _same(defaults[key], value))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def select(self, inputs: AcquisitionInput, k: int, random_state: int = 0) -> Selection:
        """Positions of the k pool samples to acquire, in acquisition order; ties and random draws
        are seeded by ``random_state`` and the pool ids (a permuted pool gives the same batch)."""
        check_inputs(inputs, k, self.needs, self.name)
        if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
            raise AcquisitionInputError(f"{self.name}: random_state must be an integer, got {random_state!r}")
        inputs = replace(inputs, pool=_as_float64(inputs.pool), labeled=_as_float64(inputs.labeled))
        return self._select(inputs, int(k), int(random_state))

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        raise NotImplementedError


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # e.g. arrays
        return a is b


def unknown_option_message(cls: type, key: str) -> str:
    """One line: the option a strategy does not take and the options it does."""
    valid = cls._get_param_names()
    takes = f"its options: {', '.join(valid)}" if valid else "it takes no options"
    return f"strategy {cls.name!r} has no option {key!r}; {takes}"


def check_choice(option: str, value: Any, choices: tuple) -> None:
    """Raise ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{option} must be one of {', '.join(map(repr, choices))}, got {value!r}")


class ScoringStrategy(Strategy):
    """A strategy that scores every candidate independently and takes the top k."""

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        """(N,) informativeness; higher is acquired first."""
        raise NotImplementedError

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        scores = np.asarray(self.score(inputs), dtype=np.float64)
        positions = top_k(scores, inputs.pool_ids, k, random_state)
        return Selection(positions, scores[positions], scores)
