"""Seeded choices of example ids: the initial labeled set and the pool subsample."""

from __future__ import annotations

import numpy as np


INITIAL_SAMPLING = ("random", "stratified", "kmeans")


def initial_labeled_ids(
    targets: np.ndarray, candidate_ids: np.ndarray, size: int, method: str, random_state: int,
    embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """Choose ``size`` ids from ``candidate_ids`` (rows of ``targets``, shape (n, L)).

    ``random``: a uniform sample. ``stratified``: first one example for each label that has one,
    rarest label first (so every label is represented where possible), then a uniform sample of
    the rest; it reads the labels of every candidate, so it exists in simulation only.
    ``kmeans``: label-free, the k-means medoids of ``embeddings`` (one row per candidate, from the
    pretrained encoder; see :mod:`mlal.coldstart`). Returns sorted ids.
    """
    rng = np.random.default_rng(random_state)
    candidate_ids = np.asarray(candidate_ids)
    if method == "random":
        return np.sort(rng.choice(candidate_ids, size=size, replace=False))
    if method == "kmeans":
        from .coldstart import kmeans_medoids

        if embeddings is None or len(embeddings) != len(candidate_ids):
            raise ValueError("initial sampling 'kmeans' needs one embedding row per candidate id")
        return np.sort(candidate_ids[kmeans_medoids(embeddings, size, random_state)[0]])
    if method != "stratified":
        raise ValueError(f"unknown initial sampling {method!r}; use one of {', '.join(INITIAL_SAMPLING)}")
    shuffled = rng.permutation(candidate_ids)
    sub = targets[shuffled]
    chosen: list[int] = []
    taken = np.zeros(len(shuffled), dtype=bool)
    for label in np.argsort(sub.sum(axis=0), kind="stable"):
        if len(chosen) >= size:
            break
        has_label = np.flatnonzero((sub[:, label] > 0) & ~taken)
        if len(has_label) and not (sub[taken, label] > 0).any():
            taken[has_label[0]] = True
            chosen.append(int(shuffled[has_label[0]]))
    rest = shuffled[~taken][: size - len(chosen)]
    return np.sort(np.concatenate([np.asarray(chosen, dtype=candidate_ids.dtype), rest]))


def subsample_ids(ids: np.ndarray, size: int | None, random_state: int) -> np.ndarray:
    """A seeded random subset of ``ids`` of ``size`` (all of them when size is None or larger), sorted."""
    ids = np.asarray(ids)
    if size is None or size >= len(ids):
        return ids
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(ids, size=size, replace=False))
