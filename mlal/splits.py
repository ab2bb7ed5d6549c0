"""Carving validation / test splits from train and subsampling splits, by multi-label stratification.

Each draw first takes one positive of every label that can spare one, rarest label first (so a label with
at least 2 training positives gets a validation positive: proportional stratification alone would give a
label with 2-5 positives none in a 10% split), then fills the rest by iterative stratification
(Sechidis et al., 2011, "On the Stratification of Multi-Label Data", ECML PKDD) from the
``iterative-stratification`` package, and finally trims or tops up at random to the exact size asked
(iterative stratification hits the size only approximately, e.g. 793 for 777). Seeded by ``--dataset_seed``.
"""

from __future__ import annotations

import logging
import math
from typing import NamedTuple, Optional

import numpy as np

from .errors import UsageError

logger = logging.getLogger(__name__)


class Examples(NamedTuple):
    """One split: texts, multi-hot labels (float32, shape (n, n_labels)) and original ids (str, shape (n,))."""

    texts: list[str]
    labels: np.ndarray
    ids: np.ndarray

    def take(self, rows: np.ndarray) -> "Examples":
        return Examples([self.texts[i] for i in rows], self.labels[rows], self.ids[rows])

    def without(self, rows: np.ndarray) -> "Examples":
        return self.take(np.setdiff1d(np.arange(len(self.texts)), rows))


def _covering_rows(y: np.ndarray, size: int, rng: np.random.Generator, keep_in_rest: int) -> np.ndarray:
    """Up to ``size`` rows giving one positive to every label with more than ``keep_in_rest`` positives,
    rarest label first, never taking a label's last ``keep_in_rest`` positives. Loops over labels only."""
    order = rng.permutation(len(y))
    y = y[order]
    left = y.sum(axis=0)
    taken = np.zeros(len(y), dtype=bool)
    covered = np.zeros(y.shape[1], dtype=bool)
    chosen: list[int] = []
    for label in np.argsort(left, kind="stable"):
        if len(chosen) >= size:
            break
        if covered[label] or left[label] <= keep_in_rest:
            continue
        rows = np.flatnonzero(y[:, label] & ~taken)
        scarce = np.flatnonzero(left <= keep_in_rest)  # labels down to their last kept positive(s)
        rows = rows[~y[np.ix_(rows, scarce)].any(axis=1)]
        if rows.size:
            taken[rows[0]], covered = True, covered | y[rows[0]]
            left = left - y[rows[0]]
            chosen.append(int(order[rows[0]]))
    return np.asarray(chosen, dtype=int)


def _iterative_stratification(y: np.ndarray, size: int, random_state: int) -> np.ndarray:
    """About ``size`` rows of ``y`` (n, L) with the label proportions of the whole (iterstrat)."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    if y.shape[1] < 2:  # iterstrat needs a multilabel-indicator target: add an "unlabelled" column
        y = np.hstack([y, ~y.any(axis=1, keepdims=True)])
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=size, random_state=random_state)
    _, picked = next(splitter.split(np.zeros((len(y), 1)), y))
    return picked


def stratified_subset(targets: np.ndarray, size: int, random_state: int, keep_in_rest: int = 0) -> np.ndarray:
    """Sorted indices of exactly ``size`` rows of ``targets`` (shape (n, L), multi-hot), 0 < size < n.

    ``keep_in_rest``: labels keep at least this many positives outside the subset when the covering step
    picks rows (1 when carving, so train keeps a positive of every label; 0 when subsampling).
    """
    y = np.asarray(targets).astype(bool)
    n = len(y)
    rng = np.random.default_rng(random_state)
    cover = _covering_rows(y, size, rng, keep_in_rest)
    rest = np.setdiff1d(np.arange(n), cover)
    need = size - len(cover)
    chosen = cover
    if 0 < need < len(rest):
        seed = int(rng.integers(2**31 - 1))
        chosen = np.concatenate([cover, rest[_iterative_stratification(y[rest], need, seed)]])
    elif need > 0:
        chosen = np.concatenate([cover, rest])
    return np.sort(_exact_size(chosen, size, n, rng, protected=len(cover)))


def _exact_size(chosen: np.ndarray, size: int, n: int, rng: np.random.Generator, protected: int) -> np.ndarray:
    """Trim (never the first ``protected`` rows, the covering ones) or top up ``chosen`` at random to ``size``."""
    surplus = len(chosen) - size
    if surplus > 0:
        drop = protected + rng.choice(len(chosen) - protected, size=surplus, replace=False)
        return np.delete(chosen, drop)
    if surplus < 0:
        extra = rng.choice(np.setdiff1d(np.arange(n), chosen), size=-surplus, replace=False)
        return np.concatenate([chosen, extra])
    return chosen


# ----------------------------------------------------------------------------- sizes
def carve_size(value: float, n: int, flag: str) -> int:
    """A fraction in (0, 1) of ``n`` or a whole count >= 2; anything else raises :class:`UsageError`."""
    if not math.isfinite(value) or value <= 0 or value == 1 or (value > 1 and not float(value).is_integer()):
        raise UsageError(f"--{flag} {value:g} is neither a fraction between 0 and 1 (e.g. 0.1) nor a whole count "
                         "of 2 or more examples; fix it")
    return int(round(value * n)) if value < 1 else int(value)


def check_subsample(value: Optional[int], flag: str) -> None:
    if value is not None and value <= 0:
        raise UsageError(f"--{flag} {value} must be a positive number of examples; fix it or leave it out")


def subsample(examples: Examples, limit: Optional[int], flag: str, split: str, random_state: int) -> Examples:
    """A stratified subset of ``limit`` examples; the whole split (saying "capped") when it is not larger."""
    n = len(examples.texts)
    if limit is None:
        return examples
    if limit >= n:
        logger.info("--%s %d: the %s split has only %d examples: capped, using all %d", flag, limit, split, n, n)
        return examples
    rows = stratified_subset(examples.labels, limit, random_state)
    logger.info("--%s %d: kept %d of %d %s examples (stratified, dataset seed)", flag, limit, limit, n, split)
    return examples.take(rows)


def carve(train: Examples, sizes: dict[str, int], random_state: int) -> tuple[Examples, dict[str, Examples]]:
    """Carve the splits in ``sizes`` (split -> count) from ``train``; return what is left and the carved splits."""
    total = sum(sizes.values())
    n = len(train.texts)
    if total >= n:
        asked = " + ".join(f"{size} {split}" for split, size in sizes.items())
        raise UsageError(f"cannot carve {asked} examples from {n} training examples and keep any to train on; "
                         f"lower {' / '.join('--' + s + '_size' for s in sizes)}")
    carved = {}
    for k, (split, size) in enumerate(sizes.items()):
        if size < 1:
            raise UsageError(f"--{split}_size gives {size} of {n} training examples; give at least 1 (a count or "
                             "a larger fraction)")
        rows = stratified_subset(train.labels, size, random_state + 7919 * (k + 1), keep_in_rest=1)
        carved[split], train = train.take(rows), train.without(rows)
        logger.info("no %s split: carved %d examples from train (stratified, dataset seed)", split, size)
    return train, carved
