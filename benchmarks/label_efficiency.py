"""Label efficiency: does an acquisition strategy reach random sampling's quality with fewer labels?

Two subcommands:

``run``: the strategy x seed matrix on one dataset through the sweep runner (one resumable
``run_active_learning.py`` process per run, seed by seed; finished runs are skipped, interrupted ones resume)::

    python benchmarks/label_efficiency.py run --config configs/bench_goemotions.yaml \
        --strategies random,entropy,margin,cvirs,bald,beal,badge,coreset --seeds 1,2,3 \
        --output_dir results/label_efficiency/goemotions

``reference``: the full-data ceiling, the same model and recipe trained once on the whole training split
(one round, ``--num_train_epochs`` epochs: 3 by default, as many examples need fewer passes)::

    python benchmarks/label_efficiency.py reference --config configs/bench_goemotions.yaml \
        --output_dir results/label_efficiency/goemotions_full_data

``summarize``: tables from the saved run folders (no model, no training)::

    python benchmarks/label_efficiency.py summarize --runs results/label_efficiency/goemotions \
        --reference results/label_efficiency/goemotions_full_data --out benchmarks/results/label_efficiency/goemotions

``summarize`` also writes ``runs.json`` (and ``reference_runs.json``): compact records of the runs it read
(``run_records.py``: configs, seeds, per-round metrics and seconds; no arrays). ``--runs`` and ``--reference``
take these files as well as run folders, so the tables and the ``label_efficiency`` and ``area_differences``
figures are recomputed from committed files, and a new strategy's run folders pair by seed with committed runs
(the batch, calibration and acquired-label tables need the run folders' arrays)::

    python benchmarks/label_efficiency.py summarize \
        --runs benchmarks/results/label_efficiency/goemotions_remedies/runs.json \
        results/label_efficiency/goemotions_pool10k/margin --out /tmp/with_pool10k_margin

What ``summarize`` reports, per strategy, over seeds (mean +- sample standard deviation, n seeds):

* the learning curve of each metric at each labeled count (``curves.csv``), and every run's own values
  (``seed_curves.csv``: line, seed, metric, labeled count, value);
* the normalised area under the curve: the trapezoid area over the labeled counts divided by their
  range, i.e. the mean metric over the budget;
* the seed-paired difference against ``random`` (same seed = same initial labeled set), of the area
  and of the final value, as mean ± the half-width of its 95% t interval over seeds; "n.s." marks a
  difference whose interval contains 0 (not distinguishable from seed noise);
* labels needed to reach random's final score (mean over seeds at random's largest labeled count):
  the first labeled count at which the seed-mean curve reaches it, as a fraction of random's labels,
  with linear interpolation between rounds; "not reached" when it never does;
* seconds of each phase (train, evaluate, pool scoring, acquisition) and training CPU seconds: the median per
  round (robust to a round slowed by other work on the machine) and the run's total, median over seeds;
* what the acquired batches hold and how calibrated the test probabilities are (from the saved round arrays);
* with ``--reference``: each metric of the full-data runs (mean +- std over their seeds), the ceiling line.

Figures (PNG and SVG, in ``--out``): ``label_efficiency`` (the curves with seed bands, the ceiling line and the
seed-paired differences), ``area_differences`` (each strategy's area minus random's with its 95 % interval) and
``acquired_labels`` (positives per label in each strategy's final labeled set).

Runs of a strategy with an acquisition option off its default (``efficiency_tables.VARIANT_OPTIONS``) form a line of
their own, paired with ``random`` by seed: ``<strategy>+platt`` for ``--acquisition_calibration platt``,
``bald+mc_passes=40`` and so on; summarize them together with the random runs (``--runs DIR/random VARIANT_DIR``).
Runs of one line must share their config except for the seed and where they were written; otherwise summarize
stops with the options that differ (two recipes are not two seeds).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from efficiency_tables import (  # noqa: E402,F401  (the tables; re-exported for the tests and for callers)
    confidence_half_width,
    labels_to_reach,
    load_runs,
    normalised_auc,
    reference_rows,
    reference_rows_of,
    summarize,
    summarize_runs,
    to_markdown,
    write_outputs,
)
from mlal.plotting.runs import find_runs  # noqa: E402  (plotting reads run folders; no model, no loop)
from run_records import REFERENCE_RUNS_FILE, RUNS_FILE, collect_runs, finished, write_run_records  # noqa: E402


def finished_runs(run_dirs: list[str | Path]) -> list[Path]:
    """The folders of the runs under ``run_dirs`` that finished (``end_time`` recorded); says which were left out."""
    return [run.path for run in finished(find_runs(run_dirs))]


def batch_rows(runs) -> list[dict]:
    """What each strategy's acquired batches hold (``mlal.plotting.efficiency.acquired_batch_statistics``),
    from the runs that kept their round arrays."""
    from mlal.plotting.efficiency import acquired_batch_statistics

    return acquired_batch_statistics([run for run in runs if run.has_saved_arrays])


def calibration_rows(runs) -> list[dict]:
    """How calibrated each strategy's test probabilities are (``mlal.plotting.efficiency.calibration_statistics``),
    from the runs that kept their round arrays; for runs scored through an acquisition map (``+platt``) a second
    row, "as scored": the same probabilities through each round's map, up to the last round that acquired."""
    from mlal.calibration import LogitMap, logits_of
    from mlal.plotting.efficiency import calibration_statistics

    with_arrays = [run for run in runs if run.has_saved_arrays]
    rows = calibration_statistics(with_arrays)
    mapped = [run for run in with_arrays if run.rounds[0].get("acquisition_calibration")]

    def as_scored(run, position):
        logit_map = LogitMap.from_record(run.rounds[position]["acquisition_calibration"])
        return 1 / (1 + np.exp(-logit_map.apply(logits_of(run.arrays(position)["test_probs"]))))

    if mapped:
        extra = calibration_statistics(mapped, probabilities=as_scored, last_round=-2)
        rows += [{**row, "strategy": f"{row['strategy']}, as scored (map of each round; last = the last acquiring "
                                     "round)"} for row in extra]
    return rows


def area_difference_rows(auc_rows: list[dict]) -> list[dict]:
    """The seed-paired area differences of the ``auc`` table with the half-width of their 95 % t interval."""
    rows = []
    for row in auc_rows:
        if row.get("auc_minus_random"):
            mean, std, n = row["auc_minus_random"]
            rows.append({"strategy": row["strategy"], "metric": row["metric"], "difference": mean,
                         "half_width": confidence_half_width(std, n), "seeds": n, "labels": row["paired_labels"]})
    return rows


def write_figures(runs, reference: list[dict], out: Path, auc_rows: list[dict] = ()) -> list[Path]:
    """``label_efficiency.png``: the three learning curves with the full-data line and the seed-paired differences;
    ``area_differences.png``: each strategy's area minus random's with its 95 % interval (from ``auc_rows``, the
    ``auc`` table); ``acquired_labels.png``: positives per label in each strategy's final labeled set (runs with
    saved arrays)."""
    from mlal.plotting import save_figure
    from mlal.plotting.efficiency import (
        EFFICIENCY_METRICS,
        acquired_labels_figure,
        area_differences_figure,
        label_efficiency_figure,
    )

    import matplotlib.pyplot as plt

    ceiling = dict(zip(EFFICIENCY_METRICS, (row["value"][0] for row in reference)))  # same metric order as METRICS
    figures = {"label_efficiency": label_efficiency_figure(runs, ceiling)}
    differences = area_difference_rows(auc_rows)
    if differences:
        ranges = {row["labels"] for row in differences}  # the labeled counts each strategy shares with random
        figures["area_differences"] = area_differences_figure(differences, budget=ranges.pop() if len(ranges) == 1 else "")
    with_arrays = [run for run in runs if run.has_saved_arrays]
    if with_arrays:
        figures["acquired_labels"] = acquired_labels_figure(with_arrays)
    paths = []
    for name, fig in figures.items():
        paths += [path for path in save_figure(fig, out, name) if path.suffix == ".png"]
        plt.close(fig)
    return paths


def _run(options: list[str], what: str) -> None:
    """One ``run_active_learning.py`` process (resumable); a failure stops here with how to go on."""
    command = [sys.executable, str(ROOT / "run_active_learning.py"), "--disable_tqdm", "true", *options]
    print("$", " ".join(command), flush=True)
    code = subprocess.call(command, cwd=ROOT)
    if code != 0:
        raise SystemExit(f"{what} stopped with exit code {code}; rerun the same command to resume")


def run_matrix(args: argparse.Namespace, extra: list[str]) -> None:
    """One process per (seed, strategy), seed by seed: after each seed every strategy has a comparable run,
    so a matrix cut short still gives paired differences. Finished runs are skipped on a rerun and an
    interrupted one resumes (the sweep runner's folder layout: OUTPUT_DIR/<strategy>/seed<k>)."""
    for seed in args.seeds.split(","):
        for strategy in args.strategies.split(","):
            # The trailing commas make a one-run sweep, so the run gets the sweep's folder layout.
            _run(["--config", args.config, "--strategy", f"{strategy},", "--seed", f"{seed},",
                  "--output_dir", args.output_dir, *extra], f"{strategy} seed {seed}")


def training_split_size(config_file: str, options: list[str] = ()) -> int:
    """Examples in the training split that ``config_file``'s runs, with the command-line ``options`` every run
    gets (``--dataset`` among them), draw their labels from (after carving)."""
    from mlal.config import parse_config
    from mlal.data import load_multilabel_data

    config = parse_config(["--config", config_file, *options])
    return len(load_multilabel_data(config.data, seed=config.data.dataset_seed).targets("train"))


def run_reference(args: argparse.Namespace, extra: list[str]) -> None:
    """The full-data ceiling: one round on every training example, per seed (the sweep layout
    OUTPUT_DIR/random/seed<k>: no acquisition happens, "random" only names the initial draw)."""
    size = training_split_size(args.config, extra)
    for seed in args.seeds.split(","):
        _run(["--config", args.config, "--strategy", "random,", "--seed", f"{seed},", "--initial_size", str(size),
              "--initial_sampling", "random", "--rounds", "1", "--num_train_epochs", str(args.num_train_epochs),
              "--output_dir", args.output_dir, *extra], f"the full-data run, seed {seed}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the strategy x seed matrix (resumable); extra flags go to every run")
    run.add_argument("--config", required=True)
    run.add_argument("--strategies", required=True, help="comma-separated strategy names")
    run.add_argument("--seeds", default="1,2,3")
    run.add_argument("--output_dir", required=True)
    reference = sub.add_parser("reference", help="the full-data ceiling (one round on the whole training split)")
    reference.add_argument("--config", required=True)
    reference.add_argument("--seeds", default="1")
    reference.add_argument("--num_train_epochs", default="3")
    reference.add_argument("--output_dir", required=True)
    summary = sub.add_parser("summarize", help="tables and figures from saved run folders or an "
                             "earlier summary's runs.json")
    summary.add_argument("--runs", nargs="+", required=True,
                         help="run folders, or the runs.json of an earlier summary (its runs join as recorded)")
    summary.add_argument("--reference", nargs="+",
                         help="full-data run folders (the ceiling line), or the reference_runs.json of an earlier "
                              "summary")
    summary.add_argument("--out", required=True, help="folder for summary.md, the CSV tables, "
                         "the figures and runs.json")
    summary.add_argument("--finished_only", action="store_true",
                         help="leave out runs still going (no end time recorded)")
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        run_matrix(args, extra)
    elif args.command == "reference":
        run_reference(args, extra)
    else:
        if extra:
            parser.error(f"unknown option {extra[0]}")
        given = ", ".join(map(str, args.runs))
        try:
            # read once for every table and figure (the arrays are cached)
            runs = load_runs(args.runs, finished_only=args.finished_only)
            reference = collect_runs(args.reference) if args.reference else []
        except (ValueError, FileNotFoundError) as error:
            parser.error(str(error))
        if not runs:
            parser.error(f"no run with a finished round under {given}" + (" that has finished" if args.finished_only else ""))
        tables = summarize_runs(runs)
        tables["batches"] = batch_rows(runs)
        tables["calibration"] = calibration_rows(runs)
        if args.reference:
            tables["reference"] = reference_rows_of(reference, args.reference)
        out = Path(args.out)
        write_outputs(tables, out)
        write_run_records(runs, out / RUNS_FILE)
        if reference:
            write_run_records(reference, out / REFERENCE_RUNS_FILE)
        kept = [name for name in ("batches.csv", "calibration.csv", "acquired_labels.png")
                if (out / name).exists() and not any(run.has_saved_arrays for run in runs)]
        if kept:
            print(f"kept from an earlier summary in {out} (these runs have no round arrays to recompute them): "
                  f"{', '.join(kept)}")
        for path in write_figures(runs, tables.get("reference", []), Path(args.out), tables["auc"]):
            print(f"wrote {path}")
        print(to_markdown(tables))


if __name__ == "__main__":
    main()
