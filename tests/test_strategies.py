"""Every acquisition strategy: scores computed by hand, permutation invariance, batch properties."""

import numpy as np
import pytest

from mlal.acquisition import (STRATEGIES, AcquisitionInput, MCDropoutStats, ModelOutputs, get_strategy,
                              mc_statistics_from_passes)
from mlal.acquisition.mc import POSITIVE_VOTES, STANDARD_MC_STATISTICS
from mlal.acquisition.set_based import normalised_entropy_distance, separation_margin

ALL = list(STRATEGIES)
P = np.array([[0.5, 0.9], [0.2, 0.6], [0.99, 0.01], [0.7, 0.8], [0.1, 0.3]])
LABELED = np.array([[1, 0], [1, 1], [0, 1], [1, 0]])  # mean cardinality 1.25


def mc_stats(passes: np.ndarray) -> MCDropoutStats:
    """Every built-in statistic from explicit passes of shape (T, N, L), as the loop accumulates them."""
    return mc_statistics_from_passes(passes, (*STANDARD_MC_STATISTICS, POSITIVE_VOTES))


def make_inputs(probs, labeled_targets=LABELED, ids=None, embeddings=None, passes=None, labeled_probs=None,
                labeled_embeddings=None):
    ids = np.arange(len(probs)) if ids is None else ids
    passes = np.stack([probs, probs]) if passes is None else passes
    labeled = None
    if labeled_probs is not None or labeled_embeddings is not None:
        labeled = ModelOutputs(probs=labeled_probs if labeled_probs is not None else np.zeros_like(labeled_targets),
                               embeddings=labeled_embeddings)
    return AcquisitionInput(
        pool=ModelOutputs(probs=probs, embeddings=embeddings, mc=mc_stats(passes)),
        pool_ids=ids, labeled_targets=labeled_targets, labeled=labeled,
    )


def random_inputs(n=60, n_labels=5, dim=8, seed=0, m=12):
    rng = np.random.default_rng(seed)
    passes = rng.random((4, n, n_labels))
    labeled_targets = (rng.random((m, n_labels)) < 0.4).astype(float)
    labeled_targets[:3, 0] = 1  # cardinalities vary, so mmc fits its regression
    labeled_targets[:2, 1:] = 1
    return make_inputs(
        passes.mean(0), labeled_targets, ids=np.arange(1000, 1000 + n), embeddings=rng.normal(size=(n, dim)),
        passes=passes, labeled_probs=rng.random((m, n_labels)), labeled_embeddings=rng.normal(size=(m, dim)),
    )


def permuted(inputs, perm):
    mc = inputs.pool.mc
    return AcquisitionInput(
        pool=ModelOutputs(
            probs=inputs.pool.probs[perm], embeddings=inputs.pool.embeddings[perm],
            mc=mc.take(perm),
        ),
        pool_ids=inputs.pool_ids[perm], labeled_targets=inputs.labeled_targets, labeled=inputs.labeled,
    )


# ------------------------------------------------------------------ hand-computed scores
def test_margin_by_hand():
    inputs = make_inputs(P)
    # |2p - 1| = [[0, .8], [.6, .2], [.98, .98], [.4, .6], [.8, .4]]
    assert get_strategy("margin").score(inputs) == pytest.approx([1.0, 0.8, 0.02, 0.6, 0.6])
    assert get_strategy("margin", aggregation="mean").score(inputs) == pytest.approx([0.6, 0.6, 0.02, 0.5, 0.4])


def test_lci_by_hand():
    # predicted counts (p > 0.5): 1, 1, 1, 2, 0; mean labeled cardinality 1.25
    assert get_strategy("lci").score(make_inputs(P)) == pytest.approx([0.25, 0.25, 0.25, 0.75, 1.25])


def test_mmc_by_hand_with_constant_cardinality():
    inputs = make_inputs(P[:3], labeled_targets=np.array([[1, 0], [0, 1]]), labeled_probs=np.full((2, 2), 0.5))
    # k_hat = 1: yhat = +1 on the top label. Row 0: f = [0, .8], yhat = [-1, 1] -> (1 - 0)/2 + (1 - .8)/2 = .6
    # row 1: f = [-.6, .2], yhat = [-1, 1] -> .2 + .4 = .6; row 2: f = [.98, -.98], yhat = [1, -1] -> .01 + .01
    assert get_strategy("mmc", decision="linear").score(inputs) == pytest.approx([0.6, 0.6, 0.02])


def test_mmc_fits_label_count_from_sorted_probabilities():
    labeled_probs = np.array([[0.9, 0.1, 0.05]] * 4 + [[0.5, 0.45, 0.05]] * 4)
    labeled_targets = np.array([[1, 0, 0]] * 4 + [[1, 1, 0]] * 4)
    pool = np.array([[0.05, 0.48, 0.47], [0.02, 0.03, 0.95]])
    inputs = make_inputs(pool, labeled_targets=labeled_targets, labeled_probs=labeled_probs)
    assert get_strategy("mmc").predicted_cardinality(inputs).tolist() == [2, 1]
    # row 0, k_hat = 2: yhat = [-1, 1, 1], f = [-.9, -.04, -.06] -> (1-.9)/2 + (1+.04)/2 + (1+.06)/2 = 1.1
    assert get_strategy("mmc", decision="linear").score(inputs)[0] == pytest.approx(1.1)


def test_adaptive_by_hand():
    # f = 2p - 1: row 0 [0, .8] -> .8 - 0; row 3 [.4, .6] all positive, empty negative side at 0 -> .4;
    # row 4 [-.8, -.4] no positive, empty positive side at 0 -> 0 - (-.4) = .4
    assert separation_margin(P[[0, 3, 4]]) == pytest.approx([0.8, 0.4, 0.4])
    scores = get_strategy("adaptive", beta=0.5).score(make_inputs(P))
    assert scores[[0, 3, 4]] == pytest.approx([np.sqrt(1.25 * 0.25), np.sqrt(2.5 * 0.75), np.sqrt(2.5 * 1.25)])
    only_lci = get_strategy("adaptive", beta=0.0).score(make_inputs(P))
    assert only_lci == pytest.approx(get_strategy("lci").score(make_inputs(P)))


def test_normalised_entropy_distance_by_hand():
    h = lambda *q: -sum(x * np.log(x) for x in q if x > 0)  # noqa: E731
    a, b = np.array([[1, 1, 0]]), np.array([[1, 0, 0], [0, 0, 1], [1, 1, 0]])
    d = normalised_entropy_distance(a, b)
    expected_0 = (2 * h(1 / 3, 1 / 3, 1 / 3) - h(2 / 3, 1 / 3) - h(1 / 3, 2 / 3)) / h(1 / 3, 1 / 3, 1 / 3)
    assert d[0, 0] == pytest.approx(expected_0)  # about 0.841
    assert d[0, 1] == 1.0  # Hamming distance 3 = L: maximal
    assert d[0, 2] == pytest.approx(0.0)  # identical


def test_cvirs_by_hand():
    inputs = make_inputs(P[:3], labeled_targets=np.array([[1, 0]]))
    # margin ranks (ascending): label 0 -> [1, 2, 3], label 1 -> [2, 1, 3]; s = mean_j (3 - rank) / 2 = [.75, .75, 0]
    # predictions [0,1], [0,1], [1,0] vs labeled [1,0]: distances 1 (maximal Hamming), 1, 0
    assert get_strategy("cvirs").score(inputs) == pytest.approx([0.75, 0.75, 0.0])


def test_bald_by_hand_and_zero_when_passes_agree():
    passes = np.array([[[0.3, 0.8], [0.1, 0.5]], [[0.3, 0.8], [0.9, 0.5]]])  # (T=2, N=2, L=2)
    scores = get_strategy("bald").score(make_inputs(passes.mean(0), passes=passes))
    h01 = -(0.1 * np.log(0.1) + 0.9 * np.log(0.9))
    assert scores == pytest.approx([0.0, np.log(2) - h01])


def test_beal_by_hand_both_readings():
    passes = np.array([[[0.3, 0.8], [0.1, 0.5]], [[0.3, 0.8], [0.9, 0.5]]])
    inputs = make_inputs(passes.mean(0), passes=passes)
    # label reading: sample 0 confidence mean(.7, .8) = .75; sample 1: mean(.9, .5) = .7
    assert get_strategy("beal").score(inputs) == pytest.approx([0.25, 0.3])
    # set reading: products .7 * .8 = .56 and .9 * .5 = .45
    assert get_strategy("beal", variant="set").score(inputs) == pytest.approx([0.44, 0.55])


@pytest.mark.parametrize("name", ["entropy", "beal", "margin"])
def test_uncertain_sample_ranks_above_confident_one(name):
    probs = np.array([[0.99, 0.99], [0.5, 0.5]])
    selection = get_strategy(name).select(make_inputs(probs), 1)
    assert selection.positions.tolist() == [1]


def test_bald_zero_where_all_passes_agree_on_random_data():
    rng = np.random.default_rng(0)
    same = np.repeat(rng.random((1, 20, 4)), 5, axis=0)
    assert get_strategy("bald").score(make_inputs(same[0], passes=same)) == pytest.approx(np.zeros(20), abs=1e-9)


# ------------------------------------------------------------------ embeddings: two tight, distant clusters
def two_clusters(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[10.0, 0, 0, 0], [-10.0, 0, 0, 0]])
    embeddings = np.concatenate([centres[0] + 0.01 * rng.normal(size=(20, 4)), centres[1] + 0.01 * rng.normal(size=(20, 4))])
    probs = np.clip(0.4 + 0.05 * rng.random((40, 3)), 0, 1)
    return make_inputs(probs, labeled_targets=np.array([[1, 0, 0]]), embeddings=embeddings,
                       labeled_probs=np.full((1, 3), 0.5), labeled_embeddings=np.zeros((1, 4)))


@pytest.mark.parametrize("name", ["badge", "coreset", "cluster_margin"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_of_two_takes_one_from_each_cluster(name, seed):
    selection = get_strategy(name).select(two_clusters(seed), 2, random_state=seed)
    assert sorted(p // 20 for p in selection.positions) == [0, 1]


# ------------------------------------------------------------------ properties of every strategy
@pytest.mark.parametrize("name", ALL)
def test_permuting_the_pool_selects_the_same_samples(name):
    inputs = random_inputs()
    perm = np.random.default_rng(5).permutation(len(inputs.pool_ids))
    strategy = get_strategy(name)
    a = strategy.select(inputs, 7, random_state=11)
    b = strategy.select(permuted(inputs, perm), 7, random_state=11)
    assert sorted(inputs.pool_ids[a.positions]) == sorted(inputs.pool_ids[perm][b.positions])
    if a.all_scores is not None:
        assert b.all_scores == pytest.approx(a.all_scores[perm])


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("k", [1, 7, 60])
def test_exact_size_no_duplicates(name, k):
    selection = get_strategy(name).select(random_inputs(), k, random_state=0)
    assert len(selection.positions) == k
    assert len(np.unique(selection.positions)) == len(selection.positions)
    assert len(selection.scores) == len(selection.positions)
    assert selection.positions.min() >= 0 and selection.positions.max() < 60


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_batch(name):
    a = get_strategy(name).select(random_inputs(seed=4), 9, random_state=2)
    b = get_strategy(name).select(random_inputs(seed=4), 9, random_state=2)
    assert a.positions.tolist() == b.positions.tolist()


def test_every_strategy_has_formula_docstring_and_summary():
    for name, cls in STRATEGIES.items():
        assert cls.summary and cls.__doc__ and len(cls.__doc__.strip().splitlines()) >= 2, name
