"""Strategies over embeddings: badge, coreset and cluster_margin.

Embeddings are the classifier head's input (the pooled [CLS] vector), shape (N, D), computed in
the same forward pass as the probabilities. Random draws use a seeded hash of the example ids
(an exponential race), so permuting the pool does not change which samples are picked.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .base import AcquisitionInput, Needs, Selection, Strategy, stable_random, top_k
from .linkage import exact_average_linkage, graph_average_linkage
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
                position = _pick(norms, available, tie_keys)
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


# Above this many candidates cluster_margin links on the nearest-neighbour graph (BENCHMARKS.md, "Cluster-Margin:
# exact or nearest-neighbour linkage"): the exact linkage's condensed distance matrix is 8 n^2 / 2 bytes.
EXACT_LINKAGE_MAX_CANDIDATES = 5_000
GRAPH_NEIGHBORS = 20


@register
class ClusterMargin(Strategy):
    """Cluster-Margin (Citovsky et al. 2021, NeurIPS), multi-label margins.

    1. Candidates: the ``factor * k`` (CLI --cluster_margin_factor) pool samples with the lowest margin (the most
       uncertain label, score 1 - min_j |2 p_j - 1|).
    2. Clusters, once per round: hierarchical agglomerative clustering of the candidates' embeddings
       with average linkage, cut at the distance threshold ``threshold`` (--cluster_margin_threshold; epsilon, in
       embedding units, as in the paper); by default (None) the tree is cut where k clusters remain,
       so the first round-robin pass can take one sample from every cluster.
    3. Round-robin over the clusters sorted by size, smallest first: each pass takes one sample drawn
       at random from each cluster not yet exhausted, until k are taken. The draw within a cluster is
       a seeded hash of the example ids (``stable_random``), so permuting the pool does not change it.

    Linkage (``neighbors``, CLI --cluster_margin_neighbors), n = the number of candidates
    (acquisition/linkage.py):
    - 0: exact average linkage over all pairs (scikit-learn, SciPy's linkage underneath): O(n^2) memory
      (the condensed distance matrix) and time; k = 1,000 (n = 10,000): 15.3 CPU-s, 448 MiB.
    - m >= 1: average linkage on the symmetric m-nearest-neighbour graph of the candidates (the kNN-graph
      route to large-scale average-linkage HAC, Dhulipala et al. 2021, ICML): a pair of clusters is
      linked by the mean distance over the graph's edges between them (exact UPGMA when the graph is
      complete); O(n m) memory, the neighbour search brute force in 64-MiB chunks; k = 1,000 with
      m = 20: 7.9 CPU-s, 73 MiB.
    - None (default): exact up to ``EXACT_LINKAGE_MAX_CANDIDATES`` = 5,000 candidates (k <= 500 with
      factor 10; about where the graph becomes the faster of the two on 2 cores), the m = 20 graph
      above, so memory grows linearly in k, not quadratically.
    Deviations: the paper clusters the whole pool once, with the embeddings of the first model (so it
    pays for the quadratic HAC once); we cluster only the candidates, each round, with
    the current model (the cost does not grow with the pool). Above 5,000 candidates the graph linkage
    is approximate: two clusters are compared only through the graph's edges between them (their
    nearest pairs, so large clusters look closer than their full average), and pieces the graph never
    connects are joined by the average linkage of their centroids. On a 200-group Gaussian mixture
    (D = 384; BENCHMARKS.md, "Cluster-Margin: exact or nearest-neighbour linkage") the m = 20 batch
    shares 99-100 % of the exact batch at k = 300, 70-77 % at k = 100 and 74 % at k = 1,000 (there
    the cut joins or splits the mixture's groups, where the graph sees fewer of the distances); a 1 %
    jitter of the embeddings moves the exact batch itself by 0-1 %, 0 % and 4 %.
    """

    name = "cluster_margin"
    summary = "Citovsky et al.: average-linkage clusters of lowest-margin candidates, random picks round-robin"
    needs = Needs(embeddings=True)

    def __init__(self, factor: int = 10, threshold: Optional[float] = None, neighbors: Optional[int] = None):
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
            raise ValueError(f"factor must be an integer >= 1, got {factor!r}")
        if threshold is not None and not (isinstance(threshold, (int, float)) and threshold > 0):
            raise ValueError(f"threshold must be positive or None, got {threshold!r}")
        if neighbors is not None and (isinstance(neighbors, bool) or not isinstance(neighbors, (int, np.integer))
                                      or neighbors < 0):
            raise ValueError(f"neighbors must be None (automatic), 0 (exact linkage) or an integer >= 1 "
                             f"(nearest-neighbour graph), got {neighbors!r}")
        self.factor = factor
        self.threshold = threshold
        self.neighbors = neighbors

    def graph_neighbors(self, n_candidates: int) -> int:
        """m of the nearest-neighbour graph the linkage runs on for n candidates; 0: exact linkage."""
        if self.neighbors is not None:
            return int(self.neighbors)
        return 0 if n_candidates <= EXACT_LINKAGE_MAX_CANDIDATES else GRAPH_NEIGHBORS

    def cluster(self, embeddings: np.ndarray, k: int) -> np.ndarray:
        """(n,) cluster labels of the candidates' embeddings (average linkage, exact or on the kNN graph)."""
        neighbors = self.graph_neighbors(len(embeddings))
        n_clusters = None if self.threshold is not None else k
        if neighbors:
            return graph_average_linkage(embeddings, neighbors, n_clusters, self.threshold)
        return exact_average_linkage(embeddings, n_clusters, self.threshold)

    def _select(self, inputs: AcquisitionInput, k: int, random_state: int) -> Selection:
        ids = inputs.pool_ids
        uncertainty = 1.0 - _margins(inputs.pool.probs).min(axis=1)
        candidates = top_k(uncertainty, ids, min(self.factor * k, len(uncertainty)), random_state)
        if len(candidates) <= k:
            return Selection(candidates, uncertainty[candidates])
        clusters = self.cluster(np.asarray(inputs.pool.embeddings)[candidates], k)
        draw = stable_random(ids[candidates], random_state + 0xC1)  # random order inside each cluster
        sizes = np.bincount(clusters)
        cluster_key = np.full(len(sizes), 2.0)  # ties in size: a seeded, order-free key per cluster
        np.minimum.at(cluster_key, clusters, draw)
        cluster_rank = np.empty(len(sizes), dtype=np.int64)
        cluster_rank[np.lexsort((cluster_key, sizes))] = np.arange(len(sizes))
        by_cluster = np.lexsort((draw, clusters))  # members grouped by cluster, in random order
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        within = np.empty(len(candidates), dtype=np.int64)
        within[by_cluster] = np.arange(len(candidates)) - starts[clusters[by_cluster]]
        order = np.lexsort((cluster_rank[clusters], within))[:k]  # pass by pass, smallest cluster first
        positions = candidates[order]
        return Selection(positions, uncertainty[positions])
