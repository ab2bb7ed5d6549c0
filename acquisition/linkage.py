"""Average-linkage agglomerative clustering, exact or on a nearest-neighbour graph (cluster_margin's HAC).

Average linkage (UPGMA) merges, at each step, the two clusters A, B with the smallest mean pairwise
distance d(A, B) = (1 / |A||B|) sum_{a in A, b in B} ||a - b||.

- ``exact_average_linkage``: scikit-learn's AgglomerativeClustering (SciPy's linkage underneath) over
  all pairs: O(n^2) memory (the condensed distance matrix, 4 n^2 bytes) and time.
- ``graph_average_linkage``: the same merge rule restricted to the symmetric m-nearest-neighbour graph
  (the kNN-graph route to large-scale average-linkage HAC, Dhulipala et al. 2021, ICML). Each pair of
  clusters keeps the sum S and the number c of its graph edges; the linkage is S / c, the mean
  distance over the pairs the graph knows. On a complete graph (m = n - 1) c = |A||B| and the merges
  are exactly UPGMA's. Memory O(n m) (no n x n or n m x D array: the neighbour search runs in 64-MiB
  chunks); time O(n^2 D) BLAS flops for the search and O(n m log n) for the merges (one Python step
  per merge). If the graph falls apart into more pieces than wanted, the pieces are joined by the
  average linkage of their centroids.

Both are deterministic functions of the row order; callers pass rows in an order that does not depend
on the pool's (cluster_margin: candidates sorted by score, ties by a hash of the ids).
"""

from __future__ import annotations

import heapq
from typing import Optional

import numpy as np


def exact_average_linkage(x: np.ndarray, n_clusters: Optional[int], threshold: Optional[float]) -> np.ndarray:
    """(n,) cluster labels: exact average linkage cut at ``n_clusters`` or at distance ``threshold``."""
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None if threshold is not None else n_clusters,
                                    distance_threshold=threshold, linkage="average")
    return model.fit_predict(x)


def knn_edges(x: np.ndarray, neighbors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, distance) of the symmetric ``neighbors``-nearest-neighbour graph, one row per pair, a < b."""
    from sklearn import config_context
    from sklearn.neighbors import NearestNeighbors

    n = len(x)
    with config_context(working_memory=64):  # MiB per distance chunk
        distance, nearest = NearestNeighbors(n_neighbors=min(neighbors, n - 1)).fit(x).kneighbors()
    rows = np.repeat(np.arange(n, dtype=np.int64), nearest.shape[1])
    cols = nearest.ravel().astype(np.int64)
    a, b = np.minimum(rows, cols), np.maximum(rows, cols)
    _, first = np.unique(a * n + b, return_index=True)
    return a[first], b[first], distance.ravel()[first].astype(np.float64)


def graph_average_linkage(x: np.ndarray, neighbors: int, n_clusters: Optional[int],
                          threshold: Optional[float]) -> np.ndarray:
    """(n,) cluster labels: average linkage on the ``neighbors``-NN graph, cut at ``n_clusters`` clusters or
    before the first merge at linkage >= ``threshold``."""
    n = len(x)
    target = 1 if threshold is not None else max(int(n_clusters), 1)
    a, b, distance = knn_edges(x, neighbors) if n > 1 else (np.zeros(0, np.int64),) * 2 + (np.zeros(0),)
    links: list[Optional[dict]] = [{} for _ in range(n)]  # cluster -> {neighbour cluster: (sum, count)}
    for i, j, d in zip(a.tolist(), b.tolist(), distance.tolist()):
        links[i][j] = links[j][i] = (d, 1)
    heap = list(zip(distance.tolist(), a.tolist(), b.tolist()))
    heapq.heapify(heap)
    parent = list(range(n))
    clusters, stopped = n, False
    while clusters > target and heap:
        d, i, j = heapq.heappop(heap)
        if links[i] is None or links[j] is None:  # an endpoint was merged already: stale entry
            continue
        if threshold is not None and d >= threshold:
            stopped = True
            break
        new = len(links)
        merged, other = links[i], links[j]
        links[i] = links[j] = None
        parent[i] = parent[j] = new
        parent.append(new)
        del merged[j], other[i]
        for neighbour, (s, c) in other.items():
            s0, c0 = merged.get(neighbour, (0.0, 0))
            merged[neighbour] = (s0 + s, c0 + c)
        for neighbour, (s, c) in merged.items():
            table = links[neighbour]
            table.pop(i, None)
            table.pop(j, None)
            table[new] = (s, c)
            heapq.heappush(heap, (s / c, neighbour, new))
        links.append(merged)
        clusters -= 1
    labels = _roots(np.asarray(parent, dtype=np.int64))[:n]
    labels = np.unique(labels, return_inverse=True)[1]
    if clusters > target and not stopped:  # the graph fell apart before the cut: join its pieces
        centroids = np.zeros((clusters, x.shape[1]))
        np.add.at(centroids, labels, x)
        centroids /= np.bincount(labels, minlength=clusters)[:, None]
        outer = exact_average_linkage(centroids, target, threshold) if clusters > 1 else np.zeros(1, np.int64)
        labels = outer[labels]
    return labels


def _roots(parent: np.ndarray) -> np.ndarray:
    """The root of every node of a forest given by parent pointers (pointer jumping, vectorised)."""
    while True:
        jumped = parent[parent]
        if np.array_equal(jumped, parent):
            return parent
        parent = jumped
