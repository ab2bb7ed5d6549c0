"""Strategies that look at the predicted label set as a whole: mmc, adaptive, cvirs."""

from __future__ import annotations

import functools

import numpy as np

from .base import AcquisitionInput, Needs, ScoringStrategy, check_choice
from .registry import register
from .uncertainty import _margins, _mean_cardinality


def _top_k_sign_matrix(probs: np.ndarray, k: np.ndarray) -> np.ndarray:
    """yhat in {-1, +1}^(N, L): +1 on each row's k[i] most probable labels."""
    order = np.argsort(-probs, axis=1, kind="stable")
    signs_sorted = np.where(np.arange(probs.shape[1])[None, :] < k[:, None], 1.0, -1.0)
    signs = np.empty_like(signs_sorted)
    np.put_along_axis(signs, order, signs_sorted, axis=1)
    return signs


def _cardinality_features(probs: np.ndarray) -> np.ndarray:
    """Each row's probabilities sorted in decreasing order and normalised to sum 1 (Yang et al. 2009)."""
    ordered = -np.sort(-probs, axis=1)
    return ordered / np.maximum(ordered.sum(axis=1, keepdims=True), 1e-12)


LOGIT_CLIP = 2.0**-24  # float32 resolution just below 1: sigmoid outputs saturate there in float32


def decision_values(probs: np.ndarray, decision: str) -> np.ndarray:
    """f_j per label from probabilities: 'logit' f = log p - log(1 - p), p clipped to [2^-24, 1 - 2^-24]
    (|f| <= 16.6, symmetric, the same for float32 and float64 inputs); 'linear' f = 2p - 1 in [-1, 1]."""
    probs = np.asarray(probs, dtype=np.float64)
    if decision == "linear":
        return 2.0 * probs - 1.0
    p = np.clip(probs, LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


@register
class MaximumMarginReduction(ScoringStrategy):
    """Maximum loss reduction with maximal confidence, MMC (Yang et al. 2009, KDD).

    A logistic regression, fitted on the labeled set, predicts each sample's label count k_hat from
    its sorted, normalised probabilities; yhat_j = +1 for the k_hat most probable labels, else -1.
    score = sum_j (1 - yhat_j f_j) / 2, f_j the classifier's decision value for label j:
    decision="logit" (default, CLI --mmc_decision): f_j = logit(p_j), the network's own pre-sigmoid output, the analogue
    of the SVM decision value w.x + b in the paper (unbounded; a confident label that agrees with
    yhat lowers the score by about |f_j| / 2); recovered from the stored probabilities, so it saturates
    at |f| = 16.6 where float32 sigmoids round to 0 or 1 (:func:`decision_values`).
    decision="linear": f_j = 2 p_j - 1, which bounds each label's term to [0, 1] (this project's
    default before; on random pools the two readings share only 22-26 of 100 picks).
    """

    name = "mmc"
    summary = "maximum margin reduction: sum_j (1 - yhat_j f_j)/2, f = logit(p) (default) or 2p - 1"
    needs = Needs(labeled_outputs=True)

    def __init__(self, decision: str = "logit"):
        check_choice("decision", decision, ("logit", "linear"))
        self.decision = decision

    def predicted_cardinality(self, inputs: AcquisitionInput) -> np.ndarray:
        counts = inputs.labeled_targets.sum(axis=1).astype(int)
        pool_features = _cardinality_features(np.asarray(inputs.pool.probs, dtype=np.float64))
        if len(np.unique(counts)) < 2:  # one class only: nothing to fit
            return np.full(len(pool_features), counts[0] if len(counts) else 1)
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=1000)  # lbfgs: deterministic, no random state
        model.fit(_cardinality_features(np.asarray(inputs.labeled.probs, dtype=np.float64)), counts)
        return model.predict(pool_features).astype(int)

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        k_hat = self.predicted_cardinality(inputs)
        signs = _top_k_sign_matrix(np.asarray(inputs.pool.probs, dtype=np.float64), k_hat)
        f = decision_values(inputs.pool.probs, self.decision)
        return ((1.0 - signs * f) / 2.0).sum(axis=1)


MARGIN_FLOOR = 1e-6  # about 8 float32 steps of f = 2p - 1 at the threshold (2**-23 = 1.2e-7)


def separation_margin(probs: np.ndarray) -> np.ndarray:
    """sepmargin = min_{j in yhat+} f_j - max_{j in yhat-} f_j, f = 2p - 1, yhat+ = {j: p_j > 0.5} (Li & Guo 2013).

    An empty side sits at the threshold, f = 0 (p = 0.5): a row with no predicted label has
    sepmargin = 0 - max_j f_j = 1 - 2 max_j p_j, a row with every label predicted has min_j f_j.
    So sepmargin >= min_j |f_j| is small only when some label is near the threshold: a confident
    all-negative row, e.g. p = (0, 0, 0, 0), has sepmargin 1 (certain), not the gap between its
    two largest probabilities (0 when they tie, which would rank it as the most uncertain row of the
    pool). The prediction rule p > 0.5 is the one LCI uses (:class:`AdaptiveActiveLearning`).
    Computed in float64 (f is exact near the threshold). Result in [0, 2].
    """
    f = 2.0 * np.asarray(probs, dtype=np.float64) - 1.0
    positive = f > 0
    lowest_positive = np.where(positive, f, np.inf).min(axis=1, initial=np.inf)
    highest_negative = np.where(positive, -np.inf, f).max(axis=1, initial=-np.inf)
    lowest_positive = np.where(np.isfinite(lowest_positive), lowest_positive, 0.0)
    highest_negative = np.where(np.isfinite(highest_negative), highest_negative, 0.0)
    return lowest_positive - highest_negative


@register
class AdaptiveActiveLearning(ScoringStrategy):
    """Adaptive active learning (Li & Guo 2013, IJCAI).

    u(x) = 1 / max(sepmargin(x), 1e-6) (max-margin prediction uncertainty, see :func:`separation_margin`),
    c(x) = | sum_j yhat_j - c_bar | (label cardinality inconsistency),
    score = u(x)^beta * c(x)^(1 - beta), with yhat_j = 1[p_j > 0.5] in both terms.
    Empty sides: sepmargin puts a missing positive or negative side at the threshold f = 0, so a row
    with no predicted label counts as 0 labels in c(x) and as certain as its most probable label is
    far from 0.5 in u(x) (the same rule in both terms). Floor: sepmargin is 0 only when a label sits
    exactly at p = 0.5; the floor 1e-6 lies above float32 resolution at the threshold (1.2e-7), so
    margins that differ only by float32 rounding tie at the floor (then LCI and the seeded hash order
    them) instead of one rounding error deciding the top of the ranking.
    Deviation: the paper picks beta in {0, 0.1, ..., 1} each round by retraining on candidates;
    we use a fixed, configurable beta (default 0.5, CLI --adaptive_beta), which costs no extra training.
    """

    name = "adaptive"
    summary = "Li & Guo adaptive: (1/sepmargin)^beta * LCI^(1-beta), beta fixed (default 0.5)"

    def __init__(self, beta: float = 0.5):
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be a number in [0, 1], got {beta!r}")
        self.beta = beta

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        probs = np.asarray(inputs.pool.probs, dtype=np.float64)
        uncertainty = 1.0 / np.maximum(separation_margin(probs), MARGIN_FLOOR)
        inconsistency = np.abs((probs > 0.5).sum(axis=1) - _mean_cardinality(inputs.labeled_targets))
        return uncertainty**self.beta * inconsistency ** (1.0 - self.beta)


@functools.lru_cache(maxsize=8)
def _distance_table(n_labels: int) -> np.ndarray:
    """d as a function of (|a|, |b|, n11), shape (L + 1,) * 3: the contingency counts of two binary vectors
    are n11, n10 = |a| - n11, n01 = |b| - n11, n00 = L - |a| - |b| + n11 (impossible entries are 0)."""
    size_a, size_b, n11 = np.ogrid[: n_labels + 1, : n_labels + 1, : n_labels + 1]
    n10, n01 = size_a - n11, size_b - n11
    n00 = n_labels - n11 - n10 - n01
    valid = (n10 >= 0) & (n01 >= 0) & (n00 >= 0)
    q = np.arange(n_labels + 1) / n_labels
    minus_q_log_q = -np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    term = lambda count: minus_q_log_q[np.clip(count, 0, n_labels)]  # noqa: E731
    h_a, h_b = term(size_a) + term(n_labels - size_a), term(size_b) + term(n_labels - size_b)
    h_ab = term(n11) + term(n10) + term(n01) + term(n00)
    distance = np.divide(2 * h_ab - h_a - h_b, h_ab, out=np.zeros(h_ab.shape), where=h_ab > 1e-12)
    return np.where(valid, np.where(n10 + n01 == n_labels, 1.0, distance), 0.0)


def normalised_entropy_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between binary label vectors a (P, L) and b (Q, L), all pairs, shape (P, Q).

    From the 2x2 contingency counts of the two vectors over the L labels: d = (2 H(a, b) - H(a) - H(b)) / H(a, b)
    (variation of information over joint entropy); d = 1 where the Hamming distance is L (maximal), as in
    Reyes et al. (2018); d = 0 where both vectors are identical and constant (H(a, b) = 0).
    The counts are integers, so d depends only on (|a|, |b|, n11 = <a, b>): one matrix product for n11
    and a lookup in a precomputed (L + 1)^3 table (:func:`_distance_table`), no logarithm per pair.
    """
    n_labels = a.shape[1]
    stride = n_labels + 1
    base_a = a.sum(1).astype(np.int32) * np.int32(stride * stride)
    base_b = b.sum(1).astype(np.int32) * np.int32(stride)
    n11 = (a.astype(np.float32) @ b.T.astype(np.float32)).astype(np.int32)  # exact: integers <= L < 2**24
    n11 += base_a[:, None]
    n11 += base_b[None, :]
    return np.take(_distance_table(n_labels).ravel(), n11)


def mean_rank_uncertainty(margins: np.ndarray) -> np.ndarray:
    """s(x) = (1/L) sum_j (N - tau_j(x)) / (N - 1), tau_j the average rank (1 = smallest) of x's margin
    on label j, for an (N, L) margin matrix. All labels are sorted in one (L, N) argsort; tied margins
    share the average rank of their group (as scipy.stats.rankdata(method="average")), which a loop over
    the labels that have ties fills in; the ranks are summed per sample with one bincount."""
    n, n_labels = margins.shape
    transposed = np.ascontiguousarray(margins.T)
    order = np.argsort(transposed, axis=1)
    ordered = np.take_along_axis(transposed, order, axis=1)
    tied = ordered[:, 1:] == ordered[:, :-1]
    ranks = np.broadcast_to(np.arange(1, n + 1, dtype=np.float64), (n_labels, n))
    if tied.any():
        ranks = ranks.copy()
        for j in np.flatnonzero(tied.any(axis=1)):  # at most L iterations, each vectorised over the pool
            starts = np.flatnonzero(np.concatenate([[True], ~tied[j]]))
            sizes = np.diff(np.append(starts, n))
            ranks[j] = np.repeat(starts + (sizes + 1) / 2.0, sizes)  # positions s..s+c-1 -> ranks s+1..s+c
    rank_sums = np.bincount(order.ravel(), weights=ranks.ravel(), minlength=n)
    return (n * n_labels - rank_sums) / max(n - 1, 1) / n_labels


@register
class CategoryVectorInconsistencyRanking(ScoringStrategy):
    """CVIRS: category vector inconsistency and ranking of scores (Reyes et al. 2018, Neurocomputing).

    Uncertainty by rank aggregation: for each label j, rank the pool by margin m_j = |2 p_j - 1|
    ascending (tau_j(x) = 1 for the smallest margin); s(x) = (1/L) sum_j (N - tau_j(x)) / (N - 1), in [0, 1].
    Inconsistency: v(x) = mean over labeled vectors y_i of d(yhat(x), y_i), d the normalised entropy
    distance (:func:`normalised_entropy_distance`), yhat_j = 1[p_j > 0.5].
    score = s(x) * v(x).
    """

    name = "cvirs"
    summary = "Reyes et al.: rank-aggregated per-label margins x mean entropy distance to labeled label vectors"

    def score(self, inputs: AcquisitionInput) -> np.ndarray:
        probs = np.asarray(inputs.pool.probs, dtype=np.float64)
        uncertainty = mean_rank_uncertainty(_margins(probs))  # all labels ranked in one pass
        patterns, inverse = unique_rows(probs > 0.5)
        labeled, labeled_inverse = unique_rows(inputs.labeled_targets > 0.5)
        if len(labeled) == 0:
            return uncertainty
        counts = np.bincount(labeled_inverse, minlength=len(labeled))
        weights = counts / counts.sum()
        mean_distance = np.concatenate([  # chunks keep the (patterns x labeled) temporaries small
            normalised_entropy_distance(patterns[start:start + 1024], labeled) @ weights
            for start in range(0, len(patterns), 1024)
        ])
        return uncertainty * mean_distance[inverse]


def unique_rows(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a boolean (N, L) matrix as int8 (P, L), and the (N,) index of each row's pattern.

    Rows are packed into ceil(L / 8) bytes (np.packbits) and compared as one opaque (void) value each,
    a 1-D unique: several times faster than np.unique(axis=0) on the (N, L) matrix.
    """
    n, n_labels = binary.shape
    if n == 0:
        return np.zeros((0, n_labels), dtype=np.int8), np.zeros(0, dtype=np.int64)
    packed = np.ascontiguousarray(np.packbits(binary, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return binary[first].astype(np.int8), np.ravel(inverse)
