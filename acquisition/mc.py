"""MC-dropout statistics: what a strategy asks of the T stochastic passes, declared in one place.

A strategy lists in ``Needs(mc_statistics=...)`` the :class:`MCStatistic` objects it reads. Each one is a
per-pass term: a function from one pass's probabilities, (n, L) float64, to (n, L) or (n,) values, row by
row. The engine (``mlal.inference``) averages every declared term over the T passes as a running sum, so
memory is O(N * L) per statistic whatever T, and stores the means under the statistic's name
(``MCDropoutStats``); saving and resuming a run handle any name. A new MC strategy (for example
variation ratios, :mod:`mlal.acquisition.bayesian`) needs no change to the engine.

The terms below are the standard ones; a term must be a pure, row-wise numpy function (the engine applies
it to one pass, or to T passes stacked as (T * n, L) rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def _confidence(p: np.ndarray) -> np.ndarray:
    return np.maximum(p, 1.0 - p)


@dataclass(frozen=True)
class MCStatistic:
    """The mean over the T MC-dropout passes of ``term(p^t)``, stored as ``MCDropoutStats[name]``.

    name: a Python identifier, not 'passes'. term: row-wise function of one pass's (n, L) probabilities
    returning (n, L) or (n,) values. Two statistics with the same name must be the same statistic.
    """

    name: str
    term: Callable[[np.ndarray], np.ndarray]

    def __post_init__(self):
        if not self.name.isidentifier() or self.name == "passes":
            raise ValueError(f"MC statistic name {self.name!r} must be a Python identifier other than 'passes'")


MEAN_PROBS = MCStatistic("mean_probs", lambda p: p)  # (N, L) mean_t p_j^t
MEAN_ENTROPY = MCStatistic("mean_entropy", _binary_entropy)  # (N, L) mean_t H_b(p_j^t)
MEAN_CONFIDENCE = MCStatistic("mean_confidence", _confidence)  # (N, L) mean_t max(p_j^t, 1 - p_j^t)
MEAN_SET_CONFIDENCE = MCStatistic("mean_set_confidence", lambda p: _confidence(p).prod(axis=1))  # (N,)
POSITIVE_VOTES = MCStatistic("positive_votes", lambda p: (p > 0.5).astype(np.float64))  # (N, L) mean_t 1[p_j^t > .5]

# What ``Needs(mc_dropout=True)`` without a list means (the statistics bald and beal read).
STANDARD_MC_STATISTICS = (MEAN_PROBS, MEAN_ENTROPY, MEAN_CONFIDENCE, MEAN_SET_CONFIDENCE)


class MCDropoutStats:
    """Means over T stochastic (dropout-on) passes, by statistic name: ``stats["mean_probs"]`` or
    ``stats.mean_probs``, each (N, L) or (N,). ``passes`` is T.

    MCDropoutStats(passes=10, mean_probs=..., mean_entropy=...) builds one from arrays (e.g. in tests).
    """

    def __init__(self, passes: int, **means: np.ndarray):
        self.passes = int(passes)
        self.means = dict(means)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.means[name]

    def __contains__(self, name: str) -> bool:
        return name in self.means

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("__") or name == "means":
            raise AttributeError(name)
        try:
            return self.means[name]
        except KeyError:
            raise AttributeError(f"MC-dropout statistics have no {name!r} (present: {', '.join(self.means)})") from None

    def take(self, positions: np.ndarray) -> "MCDropoutStats":
        """The statistics of some rows, in the order of ``positions``."""
        return MCDropoutStats(self.passes, **{name: values[positions] for name, values in self.means.items()})

    def replace(self, **means: np.ndarray) -> "MCDropoutStats":
        return MCDropoutStats(self.passes, **{**self.means, **means})

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}={np.shape(values)}" for name, values in self.means.items())
        return f"MCDropoutStats(passes={self.passes}, {shapes})"


def mc_statistics_from_passes(passes: np.ndarray, statistics: Optional[tuple] = None) -> MCDropoutStats:
    """Statistics from explicit passes of shape (T, N, L) (tests, benchmarks): the mean of each term."""
    passes = np.asarray(passes, dtype=np.float64)
    statistics = STANDARD_MC_STATISTICS if statistics is None else statistics
    return MCDropoutStats(len(passes), **{s.name: np.mean([s.term(p) for p in passes], axis=0) for s in statistics})


class MCAccumulator:
    """Running sums of every statistic's term over the passes, for N rows; memory O(N * L) per statistic.

    ``add(positions, p)`` adds one pass's (B, L) probabilities for the rows ``positions``; ``add_stacked``
    adds T passes given as (T, B, L) at once. ``result()`` divides by the number of passes.
    """

    def __init__(self, statistics: tuple, n: int, n_labels: int, passes: int):
        self.statistics = _unique(statistics)
        self.passes = passes
        probe = np.full((1, n_labels), 0.5)  # each term's output shape per row: (L,) or ()
        self.sums = {s.name: np.zeros((n, *np.shape(s.term(probe))[1:]), dtype=np.float64) for s in self.statistics}

    def add_stacked(self, positions: np.ndarray, stacked: np.ndarray) -> None:
        stacked = np.asarray(stacked, dtype=np.float64)
        passes, rows, n_labels = stacked.shape
        flat = stacked.reshape(passes * rows, n_labels)
        for statistic in self.statistics:
            values = np.asarray(statistic.term(flat), dtype=np.float64)
            self.sums[statistic.name][positions] += values.reshape(passes, rows, *values.shape[1:]).sum(axis=0)

    def add(self, positions: np.ndarray, probs: np.ndarray) -> None:
        self.add_stacked(positions, np.asarray(probs)[None])

    def result(self) -> MCDropoutStats:
        return MCDropoutStats(self.passes, **{name: total / self.passes for name, total in self.sums.items()})


def _unique(statistics: tuple) -> tuple:
    """The statistics with repeated names dropped (the first is kept)."""
    seen: dict[str, MCStatistic] = {}
    for statistic in statistics:
        seen.setdefault(statistic.name, statistic)
    return tuple(seen.values())
