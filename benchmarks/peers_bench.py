#!/usr/bin/env python
"""Our acquisition functions against small-text's and baal's, on the same arrays, in one process.

Install the peers into a separate virtual environment that sees the project's packages, so the project's
.venv is never up- or downgraded (baal 2.1 declares jupyter as a hard dependency, hence --no-deps). A venv
made from a venv uses the base interpreter, so --system-site-packages would not see .venv; a .pth line does:

    .venv/bin/python -m venv ../peersvenv
    .venv/bin/python -c "import site; print(site.getsitepackages()[0])" \
        > ../peersvenv/lib/python3.11/site-packages/_project_venv.pth
    ../peersvenv/bin/pip install --dry-run small-text==1.4.1 structlog==22.3.0 torchmetrics==1.9.0 \
        lightning-utilities==0.15.3   # check: "Would install" lists no torch/numpy; then drop --dry-run
    ../peersvenv/bin/pip install --no-deps baal==2.1.0       # versions: benchmarks/requirements-peers.txt
    ../peersvenv/bin/python benchmarks/peers_bench.py        # N = 10k, 100k; L = 28, 90 (~9 CPU-min)

For each pair it times the call from arrays to a batch of k = 100 (any reshaping the user must do
included), then runs it again on a row-permuted copy of the pool under tracemalloc (peak MiB of numpy
buffers) to check pool-permutation equivariance. It reports |A n B| / k of the two batches, the Spearman
correlation of the full score vectors where both expose them, and writes benchmarks/results/peers.csv
and peers.md. small-text's strategies take a classifier and a dataset: we pass a stand-in classifier
whose predict_proba returns the given arrays (``ArrayClassifier``) and call ``query`` as users do;
baal's heuristics take arrays directly and are called through ``get_ranks``. Ours: ``get_strategy``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlal.acquisition import AcquisitionInput, MCDropoutStats, ModelOutputs, get_strategy  # noqa: E402
from peers_arrays import PeerArrays, equivariance, make_arrays, mc_running_means, overlap, spearman  # noqa: E402
from peers_report import write_outputs  # noqa: E402

MC_STRATEGIES = ("bald", "beal")


class ArrayDataset:
    """Stand-in for a small-text dataset: only the row numbers it holds."""

    def __init__(self, rows: np.ndarray):
        self.rows = np.asarray(rows)

    def __getitem__(self, index) -> "ArrayDataset":
        return ArrayDataset(self.rows[index])

    def __len__(self) -> int:
        return len(self.rows)


class ArrayClassifier:
    """Stand-in for a small-text classifier whose predict_proba returns the benchmark's arrays.

    predict_proba(dataset) -> probs[rows] (n, L); with dropout_sampling > 1 -> samples[rows] (n, T, L),
    the layout small-text's PyTorch classifiers return.
    """

    def __init__(self, probs: np.ndarray, samples: np.ndarray):
        self.probs, self.samples = probs, samples

    def predict_proba(self, dataset: ArrayDataset, dropout_sampling: int = 1) -> np.ndarray:
        return self.samples[dataset.rows] if dropout_sampling > 1 else self.probs[dataset.rows]


@contextlib.contextmanager
def capture_return(owner, attribute: str):
    """Temporarily wrap owner.attribute so its return values are kept (to read the peer's full scores)."""
    original, kept, own = getattr(owner, attribute), [], attribute in vars(owner)

    def wrapper(*args, **kwargs):
        kept.append(original(*args, **kwargs))
        return kept[-1]

    setattr(owner, attribute, wrapper)
    try:
        yield kept
    finally:
        if own:  # a module function: put it back
            setattr(owner, attribute, original)
        else:  # an instance attribute shadowing the class's method: remove it
            delattr(owner, attribute)


# ---- runners: (arrays, pool_ids, k) -> (batch positions (k,), scores (N,) higher = first, or None) ----

def ours(name: str):
    def run(arrays: PeerArrays, pool_ids: np.ndarray, k: int):
        mc = None
        if name in MC_STRATEGIES:  # our loop accumulates these during the MC passes; counted here
            mc = MCDropoutStats(**mc_running_means(arrays.samples), passes=arrays.samples.shape[1])
        inputs = AcquisitionInput(pool=ModelOutputs(arrays.probs, mc=mc), pool_ids=pool_ids,
                                  labeled_targets=arrays.labeled_targets)
        selection = get_strategy(name).select(inputs, k, random_state=0)
        return selection.positions, selection.all_scores
    return run


def small_text(class_name: str, **params):
    def run(arrays: PeerArrays, pool_ids: np.ndarray, k: int):
        import small_text.query_strategies as qs
        from small_text.query_strategies import bayesian

        strategy = getattr(qs, class_name)(**params)
        n = len(arrays.probs)
        # query(clf, dataset, indices_unlabeled, indices_labeled, y, n=k), positionally as in small-text's docs
        query = (ArrayClassifier(arrays.probs, arrays.samples), ArrayDataset(np.arange(n)), np.arange(n),
                 np.zeros(0, dtype=np.int64), csr_matrix(arrays.labeled_targets))
        if class_name == "CategoryVectorInconsistencyAndRanking":
            with capture_return(strategy, "_compute_scores") as kept:
                batch = strategy.query(*query, n=k)
            return batch, kept[-1]
        if class_name == "BALD":
            with capture_return(bayesian, "_bald") as kept:
                batch = strategy.query(*query, n=k)
            return batch, kept[-1]
        batch = strategy.query(*query, n=k)  # confidence-based: scores_ holds the raw confidence
        return batch, -strategy.scores_ if strategy.lower_is_better else strategy.scores_
    return run


def bernoulli(p: np.ndarray) -> np.ndarray:
    """(N, L, ...) sigmoid outputs -> (N, 2, L, ...): each label a two-class [P(y=0), P(y=1)] distribution."""
    return np.stack([1.0 - p, p], axis=1)


def baal(class_name: str, layout: str, reduction: str = "none"):
    """layout: 'probs' (N, L), 'probs-bernoulli' (N, 2, L, 1), 'samples' (N, L, T), 'samples-bernoulli' (N, 2, L, T)."""
    def run(arrays: PeerArrays, pool_ids: np.ndarray, k: int):
        from baal.active import heuristics

        heuristic = getattr(heuristics, class_name)(reduction=reduction)
        # baal's layout is [N, classes, ..., iterations]; a deterministic Bernoulli input needs a trailing
        # iteration axis of 1, else baal's singlepass averages over the label axis (as if it were passes).
        source = arrays.probs[..., None] if layout == "probs-bernoulli" else arrays.probs
        source = np.swapaxes(arrays.samples, 1, 2) if layout.startswith("samples") else source
        predictions = bernoulli(source) if layout.endswith("bernoulli") else source
        ranks, scores = heuristic.get_ranks(predictions)
        return ranks[:k], scores if heuristic.reversed else -scores
    return run


# strategy -> [(peer label, how it is called, runner or None when the peer has no such strategy)]
NOT_IN_SMALL_TEXT = "not in small-text 1.4.1 (latest on PyPI)"
PEERS = {
    "entropy": [
        ("small-text PredictionEntropy", "fake clf, query()", small_text("PredictionEntropy")),
        ("baal Entropy", "(N,L) probs", baal("Entropy", "probs")),
        ("baal Entropy", "(N,2,L,1) Bernoulli, reduction=mean", baal("Entropy", "probs-bernoulli", "mean")),
    ],
    "margin": [
        ("small-text BreakingTies", "fake clf, query()", small_text("BreakingTies")),
        ("small-text LeastConfidence", "fake clf, query()", small_text("LeastConfidence")),
        ("baal Margin", "(N,L) probs", baal("Margin", "probs")),
        ("baal Margin", "(N,2,L,1) Bernoulli, reduction=min", baal("Margin", "probs-bernoulli", "min")),
        ("baal Certainty", "(N,L) probs", baal("Certainty", "probs")),
    ],
    "lci": [("small-text LabelCardinalityInconsistency", NOT_IN_SMALL_TEXT, None)],
    "adaptive": [("small-text AdaptiveActiveLearning", NOT_IN_SMALL_TEXT, None)],
    "cvirs": [
        ("small-text CategoryVectorInconsistencyAndRanking", "fake clf, query(), pbar=None",
         small_text("CategoryVectorInconsistencyAndRanking", pbar=None)),
    ],
    "bald": [
        ("small-text BALD", "fake clf, query(), dropout_samples=T", small_text("BALD", dropout_samples=10)),
        ("baal BALD", "(N,L,T) samples", baal("BALD", "samples")),
        ("baal BALD", "(N,2,L,T) Bernoulli, reduction=sum", baal("BALD", "samples-bernoulli", "sum")),
    ],
}


def measure(run, arrays: PeerArrays, permuted: PeerArrays, perm: np.ndarray, k: int, rerun_limit: float) -> dict:
    """Time the call (wall and process CPU); repeat on the permuted pool under tracemalloc for peak memory
    and equivariance, unless the timed call took over rerun_limit CPU seconds (then those two are NaN)."""
    seconds = cpu_seconds = float("inf")
    for _ in range(3):  # best of 3 for sub-second calls, one call otherwise
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        batch, scores = run(arrays, np.arange(len(arrays.probs)), k)
        seconds = min(seconds, time.perf_counter() - start)
        cpu_seconds = min(cpu_seconds, time.process_time() - start_cpu)
        if cpu_seconds > 1.0:
            break
    result = {"seconds": seconds, "cpu_seconds": cpu_seconds, "batch": np.asarray(batch),
              "scores": None if scores is None else np.asarray(scores, dtype=np.float64),
              "peak_mib": float("nan"), "equivariance": float("nan")}
    if cpu_seconds <= rerun_limit:
        gc.collect()
        tracemalloc.start()
        batch_permuted, _ = run(permuted, perm, k)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result.update(peak_mib=peak / 2**20, equivariance=equivariance(batch, batch_permuted, perm))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--labels", type=int, nargs="+", default=[28, 90])
    parser.add_argument("--strategies", nargs="+", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--passes", type=int, default=10, help="MC-dropout passes T")
    parser.add_argument("--labeled", type=int, default=500, help="labeled-set size M")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rerun-limit", type=float, default=20.0,
                        help="skip the permuted rerun (memory, equivariance) of calls over this many CPU seconds")
    parser.add_argument("--out", default="benchmarks/results/peers.csv")
    args = parser.parse_args()

    warm = make_arrays(300, 5, args.passes, 20, seed=1)  # imports and first calls are not what we measure
    for name in args.strategies:
        for run in [ours(name)] + [peer[2] for peer in PEERS[name] if peer[2] is not None]:
            run(warm, np.arange(300), 10)
    rows = []
    for n_labels in args.labels:
        for n in args.sizes:
            arrays = make_arrays(n, n_labels, args.passes, args.labeled, seed=args.seed)
            perm = np.random.default_rng(args.seed + 1).permutation(n)
            permuted = arrays.permuted(perm)
            for name in args.strategies:
                mine = measure(ours(name), arrays, permuted, perm, args.k, args.rerun_limit)
                for peer, how, run in PEERS[name]:
                    row = {"strategy": name, "peer": peer, "called_as": how, "N": n, "L": n_labels,
                           "ours_s": mine["seconds"], "ours_cpu_s": mine["cpu_seconds"],
                           "ours_peak_mib": mine["peak_mib"],
                           "ours_equivariance": mine["equivariance"]}
                    if run is not None:
                        theirs = measure(run, arrays, permuted, perm, args.k, args.rerun_limit)
                        row.update(peer_s=theirs["seconds"], peer_cpu_s=theirs["cpu_seconds"],
                                   ratio=theirs["cpu_seconds"] / max(mine["cpu_seconds"], 1e-9),
                                   peer_peak_mib=theirs["peak_mib"], peer_equivariance=theirs["equivariance"],
                                   overlap=overlap(mine["batch"], theirs["batch"]),
                                   spearman=spearman(mine["scores"], theirs["scores"]))
                        del theirs
                    rows.append(row)
                    print("  ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                                    for key, value in row.items()), flush=True)
                del mine
            del arrays, permuted
            gc.collect()
    write_outputs(rows, args, Path(args.out))


if __name__ == "__main__":
    main()
