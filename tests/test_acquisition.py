import numpy as np
import pytest

from mlal.acquisition import AcquisitionInput, AcquisitionInputError, ModelOutputs, get_strategy, list_strategies, top_k
from mlal.acquisition.base import binary_entropy, stable_random

PROBS = np.array([[0.5, 0.5], [0.99, 0.01], [0.9, 0.5], [0.2, 0.7]])


def _inputs(probs, ids=None):
    ids = np.arange(len(probs)) if ids is None else ids
    return AcquisitionInput(pool=ModelOutputs(probs=probs), pool_ids=ids, labeled_targets=np.zeros((3, probs.shape[1])))


def test_registry_lists_and_rejects():
    names = [info.name for info in list_strategies()]
    assert {"random", "entropy"} <= set(names)
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        get_strategy("nope")


def test_binary_entropy_by_hand():
    assert binary_entropy(np.array([0.5]))[0] == pytest.approx(np.log(2))
    expected = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))
    assert binary_entropy(np.array([0.9]))[0] == pytest.approx(expected)
    assert binary_entropy(np.array([0.0, 1.0])) == pytest.approx([0, 0], abs=1e-9)


def test_entropy_scores_by_hand_and_order():
    strategy = get_strategy("entropy")
    h = lambda p: -(p * np.log(p) + (1 - p) * np.log(1 - p))  # noqa: E731
    expected = [np.log(2), h(0.99), (h(0.9) + np.log(2)) / 2, (h(0.2) + h(0.7)) / 2]
    assert strategy.score(_inputs(PROBS)) == pytest.approx(expected)
    selection = strategy.select(_inputs(PROBS), 2)
    assert selection.positions.tolist() == [0, 3]  # p=0.5 beats everything, p=0.99 is last
    assert selection.scores == pytest.approx([expected[0], expected[3]])


@pytest.mark.parametrize("name", ["random", "entropy"])
def test_permuting_the_pool_permutes_scores_and_keeps_the_batch(name):
    rng = np.random.default_rng(0)
    probs, ids = rng.random((50, 4)), np.arange(100, 150)
    perm = rng.permutation(50)
    strategy = get_strategy(name)
    a = strategy.select(_inputs(probs, ids), 7, random_state=1)
    b = strategy.select(_inputs(probs[perm], ids[perm]), 7, random_state=1)
    assert b.all_scores == pytest.approx(a.all_scores[perm])
    assert set(ids[a.positions]) == set(ids[perm][b.positions])


@pytest.mark.parametrize("name", ["random", "entropy"])
@pytest.mark.parametrize("k", [1, 5, 50])
def test_batch_size_and_no_duplicates(name, k):
    probs = np.random.default_rng(1).random((50, 3))
    selection = get_strategy(name).select(_inputs(probs), k)
    assert len(selection.positions) == k
    assert len(set(selection.positions.tolist())) == len(selection.positions)


def test_ties_are_broken_by_seed_deterministically():
    scores, ids = np.zeros(10), np.arange(10)
    assert top_k(scores, ids, 3, 0).tolist() == top_k(scores, ids, 3, 0).tolist()
    assert any(top_k(scores, ids, 3, 0).tolist() != top_k(scores, ids, 3, s).tolist() for s in range(1, 5))


def test_stable_random_is_uniform_and_id_bound():
    u = stable_random(np.arange(20000), 5)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert stable_random(np.array([7, 3]), 5).tolist() == stable_random(np.array([3, 7]), 5)[::-1].tolist()


@pytest.mark.parametrize("k", [0, -1, 51])
def test_batch_size_outside_one_to_pool_size_raises(k):
    probs = np.random.default_rng(1).random((50, 3))
    with pytest.raises(AcquisitionInputError, match=r"k=-?\d+ must be an integer in \[1, 50\]"):
        get_strategy("entropy").select(_inputs(probs), k)
