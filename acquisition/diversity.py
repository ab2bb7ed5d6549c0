"""Strategies over embeddings: badge, coreset and cluster_margin.

Embeddings are the classifier head's input (the pooled [CLS] vector), shape (N, D), computed in
the same forward pass as the probabilities. Random draws use a seeded hash of the example ids
(an exponential race), so permuting the pool does not change which samples are picked.
"""

from __future__ import annotations

import numpy as np

from .base import AcquisitionInput, Needs, Selection, Strategy, stable_random, top_k
from .registry import register
from .uncertainty import _margins

CHUNK = 4096


def _pick(values: np.ndarray, available: np.ndarray, tie_keys: np.ndarray) -> int:
    """Position of the largest value among available ones; ties go to the largest tie key."""
    masked = np.where(available, values, -np.inf)
    best = masked.max()
    candidates = np.flatnonzero(masked == best)
    return int(candidates[np.argmax(tie_keys[candidates])])


def _row_norms(x: np.ndarray) -> np.ndarray:
    """Squared L2 norm of each row, in float64, without an (N, D) temporary."""
    return np.einsum("ij,ij->i", x, x, dtype=np.float64)


def _squared_distances_to_set(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """min_c ||x_i - c||^2 for every row of x (N, D) over centers (M, D), in chunks of rows."""
    out = np.full(len(x), np.inf)
    if len(centers) == 0:
        return out
    center_norms = _row_norms(centers)
    for start in range(0, len(x), CHUNK):
        block = x[start:start + CHUNK]
        d2 = _row_norms(block)[:, None] + center_norms[None, :] - 2.0 * (block @ centers.T)
        out[start:start + CHUNK] = np.maximum(d2.min(axis=1), 0.0)
    return out


@register
class BADGE(Strategy):
    """Multi-label BADGE (after Ash et al. 2020, ICLR): k-means++ seeding over gradient embeddings.

    The gradient of the BCE loss w.r.t. the last layer at the predicted labels yhat = 1[p > 0.5] is
    g = r (x) h with r = p - yhat (L) and h the pooled embedding (D). Inner products factorise,
    <g_a, g_b> = <r_a, r_b> <h_a, h_b>, so the L*D vectors are never built:
    ||g_a - g_b||^2 = ||r_a||^2 ||h_a||^2 + ||r_b||^2 ||h_b||^2 - 2 <r_a, r_b> <h_a, h_b>.
    The first centre is the largest gradient norm; each next one is drawn with probability
    proportional to its squared distance D^2 to the nearest chosen centre. Scores are D^2 at selection.
    """

    name = "badge"
    summary = "multi-label BADGE: k-means++ over gradient embeddings (p - yhat) x h, never materialised"
    needs = Needs(embeddings=True)

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        probs = inputs.pool.probs.astype(np.float64)
        h = np.asarray(inputs.pool.embeddings)  # kept in its dtype: an (N, D) float64 copy is GBs at N = 1M
        r = probs - (probs > 0.5)
        norms = _row_norms(r) * _row_norms(h)
        ids, n, k = inputs.pool_ids, len(probs), min(int(k), len(probs))
        available = np.ones(n, dtype=bool)
        tie_keys = stable_random(ids, random_state)
        nearest = np.full(n, np.inf)
        chosen, scores = [], []
        for step in range(k):
            if step == 0:
                position, score = _pick(norms, available, tie_keys), None
            else:
                # Exponential race: argmax log D^2 - log E, E ~ Exp(1) from the ids, samples proportional to D^2.
                race = np.log(np.maximum(nearest, 1e-300)) - np.log(-np.log1p(-stable_random(ids, random_state + step)))
                position = _pick(np.where(nearest > 0, race, -np.inf), available, tie_keys)
                if not np.isfinite(race[position]) or nearest[position] <= 0:  # all remaining are duplicates
                    position = _pick(tie_keys, available, tie_keys)
            chosen.append(position)
            scores.append(norms[position] if step == 0 else nearest[position])
            available[position] = False
            d2 = norms + norms[position] - 2.0 * (r @ r[position]) * (h @ h[position]).astype(np.float64)
            nearest = np.minimum(nearest, np.maximum(d2, 0.0))
        return Selection(np.asarray(chosen, dtype=np.int64), np.asarray(scores, dtype=np.float64))


@register
class CoreSet(Strategy):
    """Core-set by greedy k-centre (Sener & Savarese 2018, ICLR).

    Starting from the labeled set's embeddings as centres, repeatedly take the pool sample farthest
    from its nearest centre, x* = argmax_x min_c ||h_x - h_c||, and make it a centre. Scores are that
    distance at selection.
    """

    name = "coreset"
    summary = "greedy k-center on embeddings, labeled set as initial centers"
    needs = Needs(embeddings=True, labeled_outputs=True)

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        h = np.asarray(inputs.pool.embeddings)
        centers = np.asarray(inputs.labeled.embeddings, dtype=h.dtype) if inputs.labeled is not None else h[:0]
        nearest = _squared_distances_to_set(h, centers)
        n, k = len(h), min(int(k), len(h))
        squared_norms = _row_norms(h)
        available = np.ones(n, dtype=bool)
        tie_keys = stable_random(inputs.pool_ids, random_state)
        chosen, scores = [], []
        for _ in range(k):
            position = _pick(nearest, available, tie_keys)
            chosen.append(position)
            scores.append(np.sqrt(nearest[position]) if np.isfinite(nearest[position]) else np.inf)
            available[position] = False
            d2 = squared_norms + squared_norms[position] - 2.0 * (h @ h[position]).astype(np.float64)
            nearest = np.minimum(nearest, np.maximum(d2, 0.0))
        return Selection(np.asarray(chosen, dtype=np.int64), np.asarray(scores, dtype=np.float64))


@register
class ClusterMargin(Strategy):
    """Cluster-Margin (Citovsky et al. 2021, NeurIPS), multi-label margins.

    Take the ``cluster_margin_factor * k`` pool samples with the lowest margin (the most uncertain label,
    score 1 - min_j |2 p_j - 1|), cluster their embeddings by agglomerative clustering with average
    linkage into k clusters, then pick round-robin over the clusters, smallest cluster first, the
    lowest-margin member of each first. Deviation: the paper clusters the whole pool once; clustering
    only the candidates each round keeps the cost independent of the pool size.
    """

    name = "cluster_margin"
    summary = "Citovsky et al.: agglomerative clusters over embeddings, round-robin over lowest-margin candidates"
    needs = Needs(embeddings=True)

    def __init__(self, cluster_margin_factor: int = 10):
        self.candidates_factor = max(1, int(cluster_margin_factor))

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        from sklearn.cluster import AgglomerativeClustering

        ids = inputs.pool_ids
        uncertainty = 1.0 - _margins(inputs.pool.probs).min(axis=1)
        k = min(int(k), len(uncertainty))
        candidates = top_k(uncertainty, ids, self.candidates_factor * k, random_state)
        if len(candidates) <= k:
            return Selection(candidates, uncertainty[candidates])
        embeddings = inputs.pool.embeddings[candidates].astype(np.float64)
        clusters = AgglomerativeClustering(n_clusters=k, linkage="average").fit_predict(embeddings)
        # Candidates are already in decreasing uncertainty, so the first member of a cluster is its best.
        sizes = np.bincount(clusters)
        tie_keys = stable_random(ids[candidates], random_state)
        first_key = np.full(len(sizes), -1.0)
        np.maximum.at(first_key, clusters, tie_keys)
        cluster_rank = np.empty(len(sizes), dtype=np.int64)
        cluster_rank[np.lexsort((-first_key, sizes))] = np.arange(len(sizes))
        by_cluster = np.argsort(clusters, kind="stable")  # keeps candidate (uncertainty) order inside a cluster
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        within = np.empty(len(candidates), dtype=np.int64)
        within[by_cluster] = np.arange(len(candidates)) - starts[clusters[by_cluster]]
        order = np.lexsort((cluster_rank[clusters], within))[:k]
        positions = candidates[order]
        return Selection(positions, uncertainty[positions])
