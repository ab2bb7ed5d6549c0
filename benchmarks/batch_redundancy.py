"""Are a strategy's batches redundant? How alike the texts of each acquired batch are, from saved run folders.

For every run under ``--runs`` (run folders with their round arrays), the texts of each round's acquired batch
are read back from the run's own training split (its saved data options; ``selected_ids`` are row numbers of
that split) and turned into TF-IDF vectors (scikit-learn, fitted on the whole training split: sublinear term
frequency, words in at least 2 texts, rows L2-normalised). Per batch of n >= 2 texts:

* ``mean_cosine``: the mean over the n (n - 1) / 2 pairs a < b of the cosine similarity x_a . x_b;
* ``near_duplicate_share``: the share of the batch's texts whose most similar other text of the same batch has
  cosine >= ``--near`` (default 0.5: the two share most of their weighted words).

Each is averaged over a run's batches, then over seeds (mean +- sample std). Random sampling's batches are the
baseline: a strategy that picks near-copies of one uncertain text shows a higher mean and share than random.
(The label-space counterpart, the label-set Jaccard within a batch, is in ``label_efficiency.py summarize``.) Lines
are named as ``summarize`` names them, against the random runs' options: pass the random runs too.

    python benchmarks/batch_redundancy.py --runs results/label_efficiency/goemotions \\
        --out benchmarks/results/label_efficiency/goemotions/batch_redundancy.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlal.config import DataArguments  # noqa: E402
from mlal.errors import UsageError  # noqa: E402
from mlal.data import load_multilabel_data  # noqa: E402
from mlal.saved_config import with_later_options_at_defaults  # noqa: E402
from efficiency_tables import load_runs  # noqa: E402


def batch_similarity(vectors, near: float) -> tuple[float, float]:
    """(mean pairwise cosine, share of rows with a near-duplicate in the batch) of L2-normalised rows, n >= 2."""
    similarity = (vectors @ vectors.T).toarray()
    n = similarity.shape[0]
    mean = (similarity.sum() - np.trace(similarity)) / (n * (n - 1))
    np.fill_diagonal(similarity, -np.inf)
    return float(mean), float((similarity.max(axis=1) >= near).mean())


class TrainingTexts:
    """The training split's texts and TF-IDF vectors of each distinct data configuration (loaded once)."""

    def __init__(self):
        self._cache: dict[str, tuple[TfidfVectorizer, list[str]]] = {}

    def vectors(self, run, ids: np.ndarray):
        saved = with_later_options_at_defaults(run.statistics["config"])["data"]
        key = json.dumps(saved, sort_keys=True, default=str)
        if key not in self._cache:
            options = DataArguments(**{k: v for k, v in saved.items() if k in DataArguments.__dataclass_fields__})
            cache_dir = run.statistics["config"].get("model", {}).get("cache_dir")  # as the run loaded it
            texts = load_multilabel_data(options, options.dataset_seed, cache_dir).splits["train"]["text"]
            self._cache[key] = (TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts), texts)
        vectorizer, texts = self._cache[key]
        return vectorizer.transform([texts[i] for i in ids])


def run_redundancy(run, texts: TrainingTexts, near: float) -> tuple[float, float] | None:
    """Mean over the run's batches of (mean pairwise cosine, near-duplicate share); None without a batch of 2."""
    values = []
    for position in range(len(run.rounds)):
        ids = run.arrays(position)["selected_ids"]
        if len(ids) > 1:
            values.append(batch_similarity(texts.vectors(run, ids), near))
    return tuple(np.mean(values, axis=0)) if values else None


def redundancy_rows(run_dirs: list[str | Path], near: float = 0.5) -> list[dict]:
    """One row per strategy: seeds, and mean and std over seeds of each measure (module docstring)."""
    texts = TrainingTexts()
    by_strategy: dict[str, list[tuple[float, float]]] = {}
    for run in load_runs(run_dirs):  # a +platt run is a line of its own (run.group)
        if not run.has_saved_arrays:
            continue
        value = run_redundancy(run, texts, near)
        if value is not None:
            by_strategy.setdefault(run.group, []).append(value)
    rows = []
    for strategy in sorted(by_strategy, key=lambda s: (s != "random", s)):
        values = np.array(by_strategy[strategy])
        std = values.std(axis=0, ddof=1) if len(values) > 1 else np.full(2, np.nan)
        rows.append({"strategy": strategy, "seeds": len(values), "mean_cosine": values[:, 0].mean(),
                     "mean_cosine_std": std[0], "near_duplicate_share": values[:, 1].mean(),
                     "near_duplicate_share_std": std[1]})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", required=True, help="run folders, or folders above them")
    parser.add_argument("--near", type=float, default=0.5, help="cosine at which two texts count as near-duplicates")
    parser.add_argument("--out", help="CSV file for the table (else only printed)")
    parser.add_argument("--finished_only", action="store_true",
                        help="leave out runs still going (no end time in statistics.json)")
    args = parser.parse_args(argv)
    given = " ".join(map(str, args.runs))
    if args.finished_only:
        from label_efficiency import finished_runs

        args.runs = finished_runs(args.runs)
    try:
        rows = redundancy_rows(args.runs, args.near)
    except (ValueError, UsageError) as error:  # runs of one line with different configs; a dataset not readable
        parser.error(str(error))
    if not rows:
        parser.error(f"no {'finished ' if args.finished_only else ''}run under {given} kept its round arrays (eval/) "
                     "with a batch of 2 or more")
    print(f"| strategy | seeds | mean pairwise TF-IDF cosine within a batch | share with a near-duplicate "
          f"(cosine >= {args.near}) in its batch |\n|---|---|---|---|")
    for r in rows:
        spread = r["seeds"] > 1  # one seed: no standard deviation
        print(f"| {r['strategy']} | {r['seeds']} | {r['mean_cosine']:.4f}"
              + (f" ± {r['mean_cosine_std']:.4f}" if spread else "") + f" | {r['near_duplicate_share']:.3f}"
              + (f" ± {r['near_duplicate_share_std']:.3f}" if spread else "") + " |")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
