"""Every strategy at the edges: all-negative rows (adaptive), saturated float32 probabilities,
non-finite outputs, bad batch sizes and missing declared outputs."""

import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT
from test_strategies import ALL, make_inputs, random_inputs

from mlal.acquisition import AcquisitionInput, AcquisitionInputError, ModelOutputs, diversity, get_strategy
from mlal.acquisition.base import binary_entropy, top_k
from mlal.acquisition.linkage import exact_average_linkage, graph_average_linkage
from mlal.acquisition.set_based import separation_margin
from mlal.config import ActiveLearningArguments
from mlal.errors import UsageError
from mlal.strategy_options import strategy_from_config


# ------------------------------------------------------------------ adaptive: all-negative rows
def test_adaptive_issue_repro_by_hand():
    probs = np.array([[0, 0, 0, 0], [0.49, 0.01, 0.01, 0.01]])
    inputs = make_inputs(probs, labeled_targets=np.array([[1, 0, 0, 0], [0, 1, 0, 0]]))  # mean cardinality 1
    # No label has p > 0.5 in either row: the positive side is empty and sits at the threshold f = 0.
    # Row 0: f = -1 everywhere -> sepmargin = 0 - (-1) = 1, u = 1; LCI = |0 - 1| = 1 -> score sqrt(1 * 1) = 1.
    # Row 1: max f = 2 * .49 - 1 = -.02 -> sepmargin = .02, u = 50; LCI = 1 -> score sqrt(50).
    assert separation_margin(probs) == pytest.approx([1.0, 0.02])
    scores = get_strategy("adaptive").score(inputs)
    assert scores == pytest.approx([1.0, np.sqrt(50.0)])
    assert get_strategy("adaptive").select(inputs, 1).positions.tolist() == [1]


def test_adaptive_ignores_ties_between_the_two_largest_probabilities():
    # Two equal top probabilities far from the threshold are certain, not maximally uncertain.
    probs = np.array([[0.09129, 0.09129, 0.01], [0.45, 0.2, 0.01], [0.9, 0.1, 0.05]], dtype=np.float32)
    inputs = make_inputs(probs, labeled_targets=np.array([[1, 0, 0], [0, 1, 1]]))  # mean cardinality 1.5
    margins = separation_margin(probs)
    assert margins == pytest.approx([1 - 2 * 0.09129, 0.1, 0.8 + 0.8], rel=1e-6)
    scores = get_strategy("adaptive").score(inputs)
    assert scores == pytest.approx(np.sqrt([1.5 / margins[0], 1.5 / margins[1], 0.5 / margins[2]]), rel=1e-6)


def test_adaptive_floor_ties_float32_rounding_at_the_threshold():
    # p = 0.5 exactly and one float32 step above it: both margins are below the 1e-6 floor, so the
    # rows tie in u and LCI decides (row 1 predicts one more label, closer to the mean of 1).
    probs = np.array([[0.5, 0.1], [np.nextafter(np.float32(0.5), np.float32(1)), 0.1]], dtype=np.float32)
    scores = get_strategy("adaptive").score(make_inputs(probs, labeled_targets=np.array([[1, 0]])))
    assert scores == pytest.approx([np.sqrt(1e6 * 1.0), 0.0])


# ------------------------------------------------------------------ saturated probabilities
def test_binary_entropy_of_float32_saturated_probabilities_is_finite():
    h = binary_entropy(np.array([0.0, 1.0, 0.5], dtype=np.float32))
    assert np.isfinite(h).all() and h[:2] == pytest.approx([0, 0], abs=1e-9) and h[2] == pytest.approx(np.log(2))


def saturated_inputs(dtype, seed=0):
    """Random inputs whose pool probabilities (and MC passes) hold exact 0s and 1s, in ``dtype``."""
    rng = np.random.default_rng(seed)
    base = random_inputs(seed=seed)
    n, n_labels = base.pool.probs.shape
    passes = rng.random((4, n, n_labels))
    passes[:, rng.random((n, n_labels)) < 0.3] = 1.0
    passes[:, rng.random((n, n_labels)) < 0.3] = 0.0
    passes = passes.astype(np.float32).astype(np.float64)  # MC statistics are float64 sums in the loop
    probs = passes.mean(0).astype(np.float32)  # the deterministic pass is float32 in the loop
    probs[:5] = 1.0  # rows with every label saturated
    probs[5:10] = 0.0
    labeled_probs = base.labeled.probs.astype(np.float32)
    labeled_probs[0] = 1.0
    return make_inputs(probs.astype(dtype), base.labeled_targets, ids=base.pool_ids, embeddings=base.pool.embeddings,
                       passes=passes, labeled_probs=labeled_probs.astype(dtype),
                       labeled_embeddings=base.labeled.embeddings)


@pytest.mark.parametrize("name", ALL)
def test_float32_saturated_probabilities_give_finite_scores_and_the_float64_batch(name):
    as32, as64 = saturated_inputs(np.float32), saturated_inputs(np.float64)
    a = get_strategy(name).select(as32, 15, random_state=2)
    b = get_strategy(name).select(as64, 15, random_state=2)
    assert np.isfinite(a.scores).all()
    if a.all_scores is not None:
        assert np.isfinite(a.all_scores).all()
        np.testing.assert_array_equal(a.all_scores, b.all_scores)
    assert a.positions.tolist() == b.positions.tolist()


# ------------------------------------------------------------------ non-finite outputs, bad k, missing outputs
def with_nan(inputs, where):
    pool, mc = inputs.pool, inputs.pool.mc
    if where == "probs":
        probs = inputs.pool.probs.copy()
        probs[[3, 17], 1] = np.nan
        return replace(inputs, pool=replace(pool, probs=probs))
    if where == "embeddings":
        embeddings = pool.embeddings.copy()
        embeddings[17, 0] = np.inf
        return replace(inputs, pool=replace(pool, embeddings=embeddings))
    means = {name: values.copy() for name, values in mc.means.items()}
    for values in means.values():  # every statistic, so whichever a strategy reads is hit
        values[17] = np.nan
    return replace(inputs, pool=replace(pool, mc=mc.replace(**means)))


@pytest.mark.parametrize("name", ALL)
def test_non_finite_probabilities_raise_one_error_naming_rows_and_cause(name):
    inputs = with_nan(random_inputs(), "probs")
    with pytest.raises(AcquisitionInputError, match=r"2 row\(s\): position 3 \(id 1003\), 17 \(id 1017\).*diverged"):
        get_strategy(name).select(inputs, 5)


@pytest.mark.parametrize("name", ALL)
def test_non_finite_outputs_a_strategy_uses_raise(name):
    strategy = get_strategy(name)
    for where, used in (("embeddings", strategy.needs.embeddings), ("mc", strategy.needs.mc_dropout)):
        inputs = with_nan(random_inputs(), where)
        if used:
            with pytest.raises(AcquisitionInputError, match=r"position 17 \(id 1017\).*fp16 overflow"):
                strategy.select(inputs, 5)
        else:  # outputs the strategy does not read do not matter
            assert len(strategy.select(inputs, 5).positions) == 5


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("k", [0, -3, 61, 2.5])
def test_bad_batch_size_raises(name, k):
    with pytest.raises(AcquisitionInputError, match=r"batch size k=.* must be an integer in \[1, 60\]"):
        get_strategy(name).select(random_inputs(), k)


def test_error_is_a_value_error():
    assert issubclass(AcquisitionInputError, ValueError)


@pytest.mark.parametrize("name", ALL)
def test_missing_declared_outputs_raise(name):
    strategy = get_strategy(name)
    full = random_inputs()
    cases = {
        "mc_dropout": replace(full, pool=replace(full.pool, mc=None)),
        "embeddings": replace(full, pool=replace(full.pool, embeddings=None)),
        "labeled_outputs": replace(full, labeled=None),
    }
    for need, inputs in cases.items():
        if getattr(strategy.needs, need):
            with pytest.raises(AcquisitionInputError, match=rf"^{name} needs .* is None\)"):
                strategy.select(inputs, 5)
        else:
            assert len(strategy.select(inputs, 5).positions) == 5


def test_coreset_without_labeled_embeddings_raises():
    full = random_inputs()
    inputs = replace(full, labeled=replace(full.labeled, embeddings=None))
    with pytest.raises(AcquisitionInputError, match=r"coreset needs embeddings of the labeled set "
                       r"\(AcquisitionInput.labeled.embeddings is None\)"):
        get_strategy("coreset").select(inputs, 5)


def test_probabilities_outside_unit_interval_raise():
    inputs = random_inputs()
    logits = replace(inputs, pool=replace(inputs.pool, probs=inputs.pool.probs * 4 - 2))
    with pytest.raises(AcquisitionInputError, match="outside \\[0, 1\\].*not logits"):
        get_strategy("entropy").select(logits, 5)


# ------------------------------------------------------------------ cvirs: the packed-bits unique gives the same scores
def cvirs_reference(probs, labeled_targets):
    """CVIRS before the speed-up (np.unique(axis=0), one rankdata per label): the benchmark's "before" code."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cvirs_speed_bench import cvirs_before

    return cvirs_before(probs, labeled_targets)


@pytest.mark.parametrize("n_labels", [3, 8, 28, 90])
@pytest.mark.parametrize("seed", [0, 1])
def test_cvirs_scores_identical_to_the_reference_implementation(n_labels, seed):
    rng = np.random.default_rng(seed)
    probs = rng.random((3000, n_labels)) ** 3  # sparse predictions: many repeated label patterns
    probs[:100] = np.round(probs[:100], 1)  # ties in the margins
    labeled_targets = (rng.random((200, n_labels)) < 0.1).astype(float)
    inputs = AcquisitionInput(pool=ModelOutputs(probs=probs), pool_ids=np.arange(3000), labeled_targets=labeled_targets)
    scores, reference = get_strategy("cvirs").score(inputs), cvirs_reference(probs, labeled_targets)
    np.testing.assert_allclose(scores, reference, rtol=1e-12, atol=0)  # equal up to BLAS rounding of the @ weights
    ids = np.arange(3000)  # the same batch once rounding below 1e-9 is set aside (ties then go to the seeded hash)
    assert np.array_equal(top_k(np.round(scores, 9), ids, 100, 0), top_k(np.round(reference, 9), ids, 100, 0))


# ------------------------------------------------------------------ mmc: the decision value f
def test_mmc_logit_decision_values_by_hand():
    probs = np.array([[0.5, 0.9], [0.2, 0.6], [0.99, 0.01]])
    inputs = make_inputs(probs, labeled_targets=np.array([[1, 0], [0, 1]]), labeled_probs=np.full((2, 2), 0.5))
    # k_hat = 1. Row 0: yhat = [-1, 1], f = [0, ln 9] -> (1 - 0)/2 + (1 - ln 9)/2 = 1 - ln(9)/2.
    # Row 1: yhat = [-1, 1], f = [ln(.2/.8), ln(.6/.4)] -> (1 - ln 4)/2 + (1 - ln 1.5)/2 = 1 - ln(6)/2.
    # Row 2: yhat = [1, -1], f = [ln 99, -ln 99] -> 2 (1 - ln 99)/2 = 1 - ln 99.
    expected = [1 - np.log(9) / 2, 1 - np.log(6) / 2, 1 - np.log(99)]
    assert get_strategy("mmc").score(inputs) == pytest.approx(expected)
    assert get_strategy("mmc", decision="logit").score(inputs) == pytest.approx(expected)
    assert get_strategy("mmc", decision="linear").score(inputs) == pytest.approx([0.6, 0.6, 0.02])


def test_mmc_logit_saturates_at_float32_resolution():
    probs = np.array([[1.0, 0.0], [0.7, 0.3]], dtype=np.float32)
    inputs = make_inputs(probs, labeled_targets=np.array([[1, 0], [0, 1]]), labeled_probs=np.full((2, 2), 0.5))
    cap = np.log((1 - 2.0**-24) / 2.0**-24)  # 16.64
    # Row 0: yhat = [1, -1], f = [cap, -cap] -> 1 - cap; row 1: f = [ln(7/3), -ln(7/3)] -> 1 - ln(7/3).
    assert get_strategy("mmc").select(inputs, 2).all_scores == pytest.approx([1 - cap, 1 - np.log(7 / 3)], rel=1e-6)


def test_mmc_rejects_unknown_decision():
    with pytest.raises(ValueError, match="decision must be one of 'logit', 'linear', got 'svm'"):
        get_strategy("mmc", decision="svm")


# ------------------------------------------------------------------ cluster_margin as Citovsky et al.
def three_clusters():
    """Tight groups of 2, 3 and 5 points, 10 apart; every point is a candidate (factor 10, k >= 1)."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0, 0], [10.0, 0, 0], [0, 10.0, 0]])
    sizes = [2, 3, 5]
    embeddings = np.concatenate([c + 0.01 * rng.normal(size=(s, 3)) for c, s in zip(centres, sizes)])
    group = np.repeat([0, 1, 2], sizes)
    probs = np.clip(0.3 + 0.02 * rng.random((10, 2)), 0, 1)
    return make_inputs(probs, embeddings=embeddings, ids=np.arange(50, 60)), group


@pytest.mark.parametrize("neighbors", [0, 3])
@pytest.mark.parametrize("threshold", [None, 1.0])
def test_cluster_margin_finds_the_three_groups(threshold, neighbors):
    inputs, group = three_clusters()
    strategy = get_strategy("cluster_margin", threshold=threshold, neighbors=neighbors)
    clusters = strategy.cluster(inputs.pool.embeddings, 3)  # default: cut where k = 3 clusters remain
    assert len(set(zip(clusters, group))) == 3 == len(set(clusters))  # the three groups, exactly
    assert sorted(group[strategy.select(inputs, 3, random_state=0).positions]) == [0, 1, 2]


def test_cluster_margin_round_robin_from_the_smallest_cluster():
    inputs, group = three_clusters()
    strategy = get_strategy("cluster_margin", threshold=1.0)  # the groups, whatever k
    # k = 4: pass 1 takes one from each cluster, smallest first (2, then 3, then 5); pass 2 the other member
    # of the 2-cluster.
    selection = strategy.select(inputs, 4, random_state=0)
    assert group[selection.positions].tolist() == [0, 1, 2, 0]
    # k = 7: pass 2 continues with the 3- and 5-clusters; pass 3 with the 3-cluster (2 exhausted), then the 5-cluster
    assert group[strategy.select(inputs, 7, random_state=0).positions].tolist() == [0, 1, 2, 0, 1, 2, 1]


def test_cluster_margin_draws_at_random_within_a_cluster():
    inputs, group = three_clusters()
    strategy = get_strategy("cluster_margin", threshold=1.0)
    picks = {int(strategy.select(inputs, 3, random_state=seed).positions[2]) for seed in range(12)}
    assert len(picks) > 1 and all(group[p] == 2 for p in picks)  # several members of the 5-cluster, not the best one


def test_cluster_margin_rejects_bad_threshold():
    with pytest.raises(ValueError, match="threshold must be positive"):
        get_strategy("cluster_margin", threshold=0.0)


# ------------------------------------------------------------------ cluster_margin: linkage on the kNN graph
POINTS = np.array([[0.0], [1.0], [2.2], [3.6]])


def test_graph_linkage_on_the_complete_graph_is_exact_average_linkage():
    # All pairs known (m = 3): {0, 1} at 1; then d({0,1}, 2.2) = (2.2 + 1.2) / 2 = 1.7 > d(2.2, 3.6) = 1.4,
    # so {2.2, 3.6} at 1.4: two clusters {0, 1}, {2.2, 3.6}, as SciPy's UPGMA.
    for labels in (graph_average_linkage(POINTS, 3, 2, None), exact_average_linkage(POINTS, 2, None)):
        assert labels[0] == labels[1] != labels[2] == labels[3]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    for n_clusters in (2, 7, 20):
        graph, exact = graph_average_linkage(x, 39, n_clusters, None), exact_average_linkage(x, n_clusters, None)
        assert len(set(zip(graph, exact))) == n_clusters == len(set(graph))  # the same partition


def test_graph_linkage_averages_only_the_edges_it_knows():
    # m = 1 graph: edges 0-1 (1), 1-2.2 (1.2), 2.2-3.6 (1.4). {0, 1} at 1; {0,1}-2.2 knows one edge: 1.2 < 1.4,
    # so {0, 1, 2.2} at 1.2, where exact linkage (above) joins 2.2 with 3.6.
    labels = graph_average_linkage(POINTS, 1, 2, None)
    assert labels[0] == labels[1] == labels[2] != labels[3]
    # With a threshold of 1.3 the merges at 1 and 1.2 happen and the one at 1.4 does not.
    assert len(set(graph_average_linkage(POINTS, 1, None, 1.3))) == 2
    assert len(set(graph_average_linkage(POINTS, 1, None, 1.1))) == 3


def test_graph_linkage_joins_disconnected_pieces_by_their_centroids():
    x = np.array([[0.0], [0.1], [10.0], [10.1], [30.0], [30.1]])  # m = 1: three pieces that never touch
    labels = graph_average_linkage(x, 1, 2, None)  # centroids 0.05, 10.05, 30.05: the first two join
    assert labels[0] == labels[1] == labels[2] == labels[3] != labels[4] == labels[5]
    # With a threshold: the pieces join when their centroids are closer than it (10 < 15 < 20), not otherwise.
    labels = graph_average_linkage(x, 1, None, 15.0)
    assert labels[0] == labels[1] == labels[2] == labels[3] != labels[4] == labels[5]
    assert len(set(graph_average_linkage(x, 1, None, 5.0))) == 3


def test_cluster_margin_switches_to_the_graph_above_the_limit(monkeypatch):
    monkeypatch.setattr(diversity, "EXACT_LINKAGE_MAX_CANDIDATES", 9)
    strategy = get_strategy("cluster_margin")
    assert strategy.graph_neighbors(9) == 0 and strategy.graph_neighbors(10) == diversity.GRAPH_NEIGHBORS == 20
    assert get_strategy("cluster_margin", neighbors=0).graph_neighbors(10**6) == 0
    assert get_strategy("cluster_margin", neighbors=5).graph_neighbors(3) == 5
    inputs, group = three_clusters()  # 10 candidates: the graph (m = 20 -> all 9 others: exact here)
    assert sorted(group[strategy.select(inputs, 3, random_state=0).positions]) == [0, 1, 2]


@pytest.mark.parametrize("neighbors", [0, 4])
def test_cluster_margin_pool_permutation_only_permutes_the_batch(neighbors):
    rng = np.random.default_rng(1)
    n = 80
    embeddings = rng.normal(size=(8, 6))[rng.integers(0, 8, n)] + 0.3 * rng.normal(size=(n, 6))
    inputs = make_inputs(rng.random((n, 2)), embeddings=embeddings, ids=np.arange(1000, 1000 + n))
    permutation = rng.permutation(n)
    permuted = make_inputs(inputs.pool.probs[permutation], embeddings=embeddings[permutation],
                           ids=inputs.pool_ids[permutation])
    strategy = get_strategy("cluster_margin", factor=4, neighbors=neighbors)
    for seed in (0, 1):
        chosen = inputs.pool_ids[strategy.select(inputs, 12, random_state=seed).positions]
        chosen_permuted = permuted.pool_ids[strategy.select(permuted, 12, random_state=seed).positions]
        assert chosen.tolist() == chosen_permuted.tolist()


def test_cluster_margin_neighbors_option():
    assert strategy_from_config(ActiveLearningArguments(strategy="cluster_margin",
                                                        cluster_margin_neighbors=5)).neighbors == 5
    with pytest.raises(UsageError, match="--cluster_margin_neighbors must be 0"):
        ActiveLearningArguments(strategy="cluster_margin", cluster_margin_neighbors=-1)
    with pytest.raises(ValueError, match="neighbors must be None"):
        get_strategy("cluster_margin", neighbors=-2)
