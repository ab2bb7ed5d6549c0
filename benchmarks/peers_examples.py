#!/usr/bin/env python
"""The hand-sized examples behind BENCHMARKS.md's "Peers on the same arrays", computed by each library.

    /work/peersvenv/bin/python benchmarks/peers_examples.py     # needs small-text 1.4.1 and baal 2.1.0

Each block prints ours and the peer's scores on 2-3 rows and 2 labels, so the formulas in the text can be
checked by hand and against the libraries' own code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlal.acquisition import AcquisitionInput, MCDropoutStats, ModelOutputs, get_strategy  # noqa: E402
from mlal.acquisition.set_based import normalised_entropy_distance  # noqa: E402
from peers_arrays import mc_running_means  # noqa: E402


def ours(name: str, probs, samples=None, targets=None) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    mc = None if samples is None else MCDropoutStats(**mc_running_means(np.asarray(samples)), passes=len(samples[0]))
    targets = np.zeros((1, probs.shape[1])) if targets is None else np.asarray(targets)
    inputs = AcquisitionInput(ModelOutputs(probs, mc=mc), np.arange(len(probs)), targets)
    return get_strategy(name).score(inputs)


def bald_example() -> None:
    from baal.active.heuristics import BALD
    from small_text.query_strategies.bayesian import _bald

    # samples (N=2, T=2, L=2): label 0 disagrees across passes, label 1 is a constant 0.05 in both rows
    samples = np.array([[[0.02, 0.05], [0.20, 0.05]],    # row A: a rare label, passes 0.02 and 0.20
                        [[0.75, 0.05], [0.98, 0.05]]])   # row B: a present label, passes 0.75 and 0.98
    probs = samples.mean(axis=1)
    per_label = np.stack([1 - samples, samples], axis=1).transpose(0, 1, 3, 2)  # (N, 2, L, T)
    print("BALD on samples (N=2, T=2, L=2):")
    print("  ours, sum_j [H_b(mean p) - mean H_b(p)] in nats:", np.round(ours("bald", probs, samples), 4))
    print("  baal BALD, (N,2,L,T) Bernoulli, reduction=sum:   ",
          np.round(BALD(reduction="sum").get_uncertainties(per_label), 4))
    print("  small-text _bald (what BALD.query scores), bits: ", np.round(_bald(samples), 4))
    print("  baal BALD on (N,L,T) as given (softmax over L):  ",
          np.round(BALD().get_uncertainties(np.swapaxes(samples, 1, 2)), 4))


def cvirs_example() -> None:
    from small_text.query_strategies import CategoryVectorInconsistencyAndRanking

    probs = np.array([[0.5, 0.1], [0.9, 0.1], [0.9, 0.6]])
    targets = np.array([[1, 1]])
    cvirs = CategoryVectorInconsistencyAndRanking(pbar=None)
    print("CVIRS on probs", probs.tolist(), "labeled set", targets.tolist())
    print("  small-text per-label 'margin' |p_j - sum_l p_l| :", np.abs(probs - probs.sum(1, keepdims=True)).tolist())
    print("  small-text _rank_by_margin (argsort per label) :", cvirs._rank_by_margin(probs).tolist())
    print("  small-text _compute_ranking                    :",
          np.round(cvirs._compute_ranking(np.arange(3), probs), 4).tolist())
    print("  same on the pool reversed (rows 2, 1, 0)       :",
          np.round(cvirs._compute_ranking(np.arange(3), probs[::-1]), 4).tolist())
    print("  small-text vector inconsistency (Hamming)      :",
          np.round(cvirs._compute_vector_inconsistency(csr_matrix(targets), (probs > 0.5).astype(int), 2), 4).tolist())
    print("  ours: normalised entropy distance to [1, 1]    :",
          np.round(normalised_entropy_distance((probs > 0.5).astype(int), targets)[:, 0], 4).tolist())
    print("  ours: score                                    :",
          np.round(ours("cvirs", probs, targets=targets), 4).tolist())


def entropy_example() -> None:
    from baal.active.heuristics import Entropy
    from scipy.stats import entropy

    probs = np.array([[0.01, 0.01, 0.01], [0.5, 0.5, 0.01]])
    print("Entropy on probs", probs.tolist())
    print("  ours, mean_j H_b(p_j) in nats            :", np.round(ours("entropy", probs), 4).tolist())
    print("  small-text PredictionEntropy, H(p/sum p)  :", np.round(np.apply_along_axis(entropy, 1, probs), 4).tolist())
    print("  baal Entropy on (N,L), H(softmax(p))      :", np.round(Entropy().get_uncertainties(probs), 4).tolist())


if __name__ == "__main__":
    bald_example()
    cvirs_example()
    entropy_example()
