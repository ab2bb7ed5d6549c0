"""The tables of the label-efficiency benchmark, computed from saved run folders (no model, no training), and their
Markdown and CSV forms; ``benchmarks/label_efficiency.py summarize`` writes them (its docstring says what each holds).
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


METRICS = {
    "mAP": lambda r: r["test"]["mean_average_precision"],
    "micro-F1 (tuned t)": lambda r: r["test_at_tuned_threshold"]["micro_f1"],
    "macro-F1": lambda r: r["test"]["macro_f1"],
}
PHASES = ("train", "evaluate", "pool_scoring", "acquisition")


BASELINE = "random"

# Options that make a run of a strategy a variant of its own (a line, paired with random by seed): they change what
# the strategy acquires (random's own runs are never a variant: they must all share one config).
VARIANT_OPTIONS = ("acquisition_calibration", "mc_passes", "mc_dropout_layers", "mc_batched", "pool_subsample",
                   "margin_aggregation", "beal_variant", "adaptive_beta", "mmc_decision", "cluster_margin_factor",
                   "cluster_margin_threshold", "cluster_margin_neighbors")


def option_defaults_for(runs) -> dict[str, dict]:
    """What a run lacks ran as (section -> option -> value): our options' defaults, and any other key (a Trainer key
    of a newer transformers) from the defaults that newer runs recorded (``option_defaults``)."""
    from mlal.plotting.groups import recorded_defaults
    from mlal.saved_config import with_later_options_at_defaults

    defaults = recorded_defaults(runs)
    for section, values in with_later_options_at_defaults({}).items():
        defaults[section] = {**defaults.get(section, {}), **values}
    return defaults


def variant_name(strategy: str, options: dict, baseline: dict | None = None) -> str:
    """``strategy`` with a suffix for each of :data:`VARIANT_OPTIONS` whose value in ``options`` (a run's
    active-learning options) differs from ``baseline`` (the random runs' options; default: the options' defaults):
    ``+platt`` for ``--acquisition_calibration platt``, ``+option=value`` for the others (``bald+mc_passes=40``)."""
    from mlal.config import ActiveLearningArguments

    if baseline is None:
        baseline = {f.name: f.default for f in dataclasses.fields(ActiveLearningArguments)}
    suffixes = [str(options[key]) if key == "acquisition_calibration" else f"{key}={options[key]}"
                for key in VARIANT_OPTIONS if options.get(key) != baseline.get(key)]
    return "+".join([strategy, *suffixes])


def check_one_config_per_variant(runs, configs: list[dict]) -> None:
    """Seeds of one line must differ only in the seed and where they were written: raise ``ValueError`` naming the
    options in which runs of one line differ (e.g. two recipes summarized as one strategy). ``configs``: each run's
    ``section.option -> value`` (``mlal.plotting.groups.flat_config``)."""
    by_variant: dict[str, list] = defaultdict(list)
    for run, config in zip(runs, configs):
        by_variant[run.group].append(config)
    for variant, flat in by_variant.items():
        differing = sorted(key for key in set().union(*flat) if len({repr(c.get(key)) for c in flat}) > 1)
        if differing:
            raise ValueError(f"the runs of {variant} differ in {', '.join(differing[:5])}: summarize one config per "
                             "strategy (pass the folders of one recipe)"
                             + ("" if variant == BASELINE else ", or make the option one of VARIANT_OPTIONS"))


def load_runs(run_dirs: list[str | Path], finished_only: bool = False):
    """The runs under ``run_dirs`` (run folders, and the ``runs.json`` of earlier summaries: ``run_records``), each
    grouped under its variant name against the random runs' options (figures and tables alike; without random runs,
    against the options' defaults). ``finished_only`` leaves out runs still going (no end time), saying which.
    Raises ``ValueError`` when runs of one line have different configs (:func:`check_one_config_per_variant`) or
    when a line's seed is given twice."""
    from mlal.plotting.groups import flat_config
    from run_records import collect_runs, finished

    runs = collect_runs(run_dirs)
    if finished_only:
        runs = finished(runs)
    defaults = option_defaults_for(runs)
    configs = [flat_config(run, defaults=defaults) for run in runs]
    section = "active_learning."
    options = [{key[len(section):]: value for key, value in config.items() if key.startswith(section)}
               for config in configs]
    baseline = next((o for run, o in zip(runs, options) if run.strategy == BASELINE), None)
    for run, run_options in zip(runs, options):
        run.group = BASELINE if run.strategy == BASELINE else variant_name(run.strategy, run_options, baseline)
    check_one_config_per_variant(runs, configs)
    by_line_seed: dict[tuple[str, int], list[str]] = defaultdict(list)
    for run in runs:
        by_line_seed[run.group_label, run.seed].append(str(run.path))
    for (line, seed), paths in by_line_seed.items():
        if len(paths) > 1:
            raise ValueError(f"{line} seed {seed} is given {len(paths)} times ({', '.join(paths)}): pass each run once")
    return runs


def curves_by_strategy(runs) -> dict[str, dict[int, dict[str, list[float]]]]:
    """strategy -> seed -> {"labels": [...], metric name: [...]} (rounds in order)."""
    out: dict[str, dict[int, dict[str, list[float]]]] = defaultdict(dict)
    for run in runs:
        curve = {"labels": [r["labeled_count"] for r in run.rounds]}
        for name, get in METRICS.items():
            curve[name] = [float(get(r)) for r in run.rounds]
        out[run.group_label][run.seed] = curve
    return out


def normalised_auc(labels: list[int], values: list[float]) -> float:
    """Trapezoid area under values(labels) divided by the labeled range: the mean over the budget."""
    x, y = np.asarray(labels, dtype=float), np.asarray(values, dtype=float)
    if len(x) < 2:
        return float(y[0]) if len(y) else float("nan")
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2) / (x[-1] - x[0]))


def labels_to_reach(labels: list[int], values: list[float], target: float) -> float:
    """The labeled count at which the piecewise-linear curve first reaches ``target``; NaN if never."""
    x, y = np.asarray(labels, dtype=float), np.asarray(values, dtype=float)
    if len(y) and y[0] >= target:
        return float(x[0])
    for i in range(1, len(y)):
        if y[i] >= target:
            return float(x[i - 1] + (target - y[i - 1]) / (y[i] - y[i - 1]) * (x[i] - x[i - 1]))
    return float("nan")


def _mean_std(values) -> tuple[float, float, int]:
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(values) == 0:
        return float("nan"), float("nan"), 0
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else float("nan"), len(values)


def confidence_half_width(std: float, n: int, level: float = 0.95) -> float:
    """Half-width of the two-sided t interval of a mean of n values with sample std ``std``."""
    if n < 2 or not np.isfinite(std):
        return float("nan")
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n))


def _fmt(mean: float, std: float, n: int, digits: int = 4) -> str:
    if not np.isfinite(mean):
        return "n/a"
    spread = f" ± {std:.{digits}f}" if np.isfinite(std) else ""
    return f"{mean:.{digits}f}{spread} (n={n})"


def _common_labels(seeds: dict[int, dict[str, list[float]]]) -> list[int]:
    counts = [set(curve["labels"]) for curve in seeds.values()]
    return sorted(set.intersection(*counts)) if counts else []


def _values_at(curve: dict[str, list[float]], metric: str, labels: list[int]) -> list[float]:
    lookup = dict(zip(curve["labels"], curve[metric]))
    return [lookup[n] for n in labels]


def summarize(run_dirs: list[str | Path]) -> dict[str, list[dict]]:
    """Rows of each table (see the module docstring), ready for CSV and Markdown."""
    runs = load_runs(run_dirs)
    if not runs:
        raise SystemExit(f"no finished rounds under {', '.join(map(str, run_dirs))}")
    return summarize_runs(runs)


def summarize_runs(runs) -> dict[str, list[dict]]:
    """:func:`summarize` of runs already loaded (:func:`load_runs`)."""
    curves = curves_by_strategy(runs)
    strategies = sorted(curves, key=lambda s: (s != "random", s))
    tables: dict[str, list[dict]] = {"curves": [], "seed_curves": [], "auc": [], "reach": [], "seconds": []}
    random_seeds = curves.get("random", {})
    for strategy in strategies:
        seeds = curves[strategy]
        tables["seed_curves"] += seed_curve_rows(strategy, seeds)
        labels = _common_labels(seeds)
        for metric in METRICS:
            for n in labels:
                mean, std, k = _mean_std([_values_at(c, metric, [n])[0] for c in seeds.values()])
                tables["curves"].append({"strategy": strategy, "metric": metric, "labels": n, "mean": mean,
                                         "std": std, "seeds": k})
            aucs = {seed: normalised_auc(labels, _values_at(c, metric, labels)) for seed, c in seeds.items()}
            row = {"strategy": strategy, "metric": metric, "labels": f"{labels[0]}-{labels[-1]}" if labels else "",
                   "auc": _mean_std(aucs.values())}
            paired = sorted(set(seeds) & set(random_seeds))
            shared = sorted(set(labels) & set(_common_labels(random_seeds))) if paired else []
            if strategy != "random" and len(shared) > 1:  # an area needs two labeled counts in common
                row["paired_labels"] = f"{shared[0]}-{shared[-1]}"
                diffs = [normalised_auc(shared, _values_at(seeds[s], metric, shared))
                         - normalised_auc(shared, _values_at(random_seeds[s], metric, shared)) for s in paired]
                final = [_values_at(seeds[s], metric, shared[-1:])[0] - _values_at(random_seeds[s], metric, shared[-1:])[0]
                         for s in paired]
                row["auc_minus_random"] = _mean_std(diffs)
                row["final_minus_random"] = _mean_std(final)
            tables["auc"].append(row)
        if random_seeds:
            random_labels = _common_labels(random_seeds)
            for metric in METRICS:
                target = float(np.mean(_values_at_all(random_seeds, metric, random_labels[-1])))
                mean_curve = [float(np.mean(_values_at_all(seeds, metric, n))) for n in labels]
                needed = labels_to_reach(labels, mean_curve, target)
                tables["reach"].append({"strategy": strategy, "metric": metric, "target": target,
                                        "random_labels": random_labels[-1], "labels_needed": needed,
                                        "fraction": needed / random_labels[-1] if np.isfinite(needed) else float("nan"),
                                        "labels_run": labels[-1] if labels else 0})
        tables["seconds"].append(seconds_row(strategy, [r for r in runs if r.group_label == strategy]))
    return tables


def seed_curve_rows(strategy: str, seeds: dict[int, dict[str, list[float]]]) -> list[dict]:
    """Every run's value of each metric at each of its labeled counts (one row each): the per-seed numbers every
    curve, area and seed-paired difference is computed from, kept beside the summary so that these can be checked
    and recomputed after the run folders are gone."""
    return [{"strategy": strategy, "seed": seed, "metric": metric, "labels": n, "value": value}
            for seed, curve in sorted(seeds.items()) for metric in METRICS
            for n, value in zip(curve["labels"], curve[metric])]


def seconds_row(strategy: str, runs) -> dict:
    """Per phase (and training CPU seconds): the median over all rounds of all seeds, which a few rounds slowed
    by other work on the machine do not move, and the run's total (sum over its rounds), median over seeds."""
    getters = {phase: lambda record, phase=phase: record["seconds"].get(phase, float("nan")) for phase in PHASES}
    getters["train_cpu"] = lambda record: record.get("train_cpu_seconds", float("nan"))
    row: dict = {"strategy": strategy, "seeds": len(runs)}
    for phase, value in getters.items():
        per_round = [v for run in runs for v in map(value, run.rounds) if np.isfinite(v)]
        totals = [float(np.sum(v)) for v in ([value(r) for r in run.rounds] for run in runs) if np.isfinite(v).all()]
        row[f"{phase}_median_per_round"] = float(np.median(per_round)) if per_round else float("nan")
        row[f"{phase}_run_total"] = float(np.median(totals)) if totals else float("nan")
    return row


def _values_at_all(seeds: dict[int, dict[str, list[float]]], metric: str, n: int) -> list[float]:
    return [_values_at(curve, metric, [n])[0] for curve in seeds.values()]


def to_markdown(tables: dict[str, list[dict]]) -> str:
    lines = ["### Normalised area under the learning curve (mean ± std over seeds)", "",
             "| strategy | metric | labels | AUC | AUC − random (paired, 95% CI) | final − random (paired, 95% CI) |",
             "|---|---|---|---|---|---|"]
    for row in tables["auc"]:
        def paired(key):
            if key not in row:
                return ""
            mean, std, n = row[key]
            half = confidence_half_width(std, n)
            if not np.isfinite(half):
                return f"{mean:+.4f} (n={n})"
            return f"{mean:+.4f} ± {half:.4f} (n={n}){' n.s.' if abs(mean) <= half else ''}"
        lines.append(f"| {row['strategy']} | {row['metric']} | {row['labels']} | {_fmt(*row['auc'])} | "
                     f"{paired('auc_minus_random')} | {paired('final_minus_random')} |")
    if tables["reach"]:
        lines += ["", "### Labels needed to reach random's final score (seed-mean curves)", "",
                  "| strategy | metric | random's final | at labels | labels needed | fraction of random's |",
                  "|---|---|---|---|---|---|"]
        for row in tables["reach"]:
            needed = f"{row['labels_needed']:.0f}" if np.isfinite(row["labels_needed"]) else (
                "not reached" if row["labels_run"] >= row["random_labels"] else
                f"not reached by {row['labels_run']} (runs still going)")
            fraction = f"{row['fraction']:.0%}" if np.isfinite(row["fraction"]) else "—"
            lines.append(f"| {row['strategy']} | {row['metric']} | {row['target']:.4f} | {row['random_labels']} | "
                         f"{needed} | {fraction} |")
    lines += ["", "### Seconds per phase: median per round (over rounds and seeds) / run total (median over seeds)",
              "", "| strategy | seeds | train | evaluate | pool scoring | acquisition | train CPU s |",
              "|---|---|---|---|---|---|---|"]
    for row in tables["seconds"]:
        cells = [f"{row[f'{p}_median_per_round']:.1f} / {row[f'{p}_run_total']:.0f}" for p in (*PHASES, "train_cpu")]
        lines.append(f"| {row['strategy']} | {row['seeds']} | " + " | ".join(cells) + " |")
    if tables.get("batches"):
        lines += ["", "### What the acquired batches hold (all rounds' batches of a run; mean over seeds)", "",
                  "| strategy | seeds | positives per example | share with the most frequent label | "
                  "effective number of labels | labels absent at the end | label-set Jaccard within a batch |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['strategy']} | {r['seeds']} | {r['positives_per_example']:.2f} | {r['majority_share']:.2f} | "
                  f"{r['effective_labels']:.1f} | {r['absent_at_end']:.1f} | {r['within_batch_jaccard']:.3f} |"
                  for r in tables["batches"]]
    if tables.get("calibration"):
        lines += ["", "### Calibration of the test probabilities (mean over seeds)", "",
                  "The model's own probabilities; rows \"as scored\": through the run's acquisition map.", "",
                  "| strategy | seeds | ECE, first round | ECE, last round | mean probability, last | prevalence | "
                  "positive rate of pairs with p in (0.4, 0.6), last | such pairs per seed |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['strategy']} | {r['seeds']} | {r['ece_first']:.3f} | {r['ece_last']:.3f} | "
                  f"{r['mean_probability_last']:.3f} | {r['prevalence']:.3f} | {r['positive_rate_in_band']:.2f} | "
                  f"{r['pairs_in_band']:.0f} |" for r in tables["calibration"]]
    if tables.get("reference"):
        lines += ["", "### Full-data reference (the ceiling: the same model on the whole training split)", "",
                  "| metric | labels | value (mean ± std over seeds) |", "|---|---|---|"]
        lines += [f"| {row['metric']} | {row['labels']} | {_fmt(*row['value'])} |" for row in tables["reference"]]
    return "\n".join(lines) + "\n"


def write_outputs(tables: dict[str, list[dict]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if not rows:
            continue
        flat = [{k: (";".join(f"{x}" for x in v) if isinstance(v, tuple) else v) for k, v in row.items()} for row in rows]
        keys = list(dict.fromkeys(k for row in flat for k in row))
        with open(out / f"{name}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(flat)
    (out / "summary.md").write_text(to_markdown(tables))


def reference_rows(run_dirs: list[str | Path]) -> list[dict]:
    """Each metric of the full-data runs' last round, mean +- std over seeds (run folders, or the
    ``reference_runs.json`` of an earlier summary)."""
    from run_records import collect_runs

    return reference_rows_of(collect_runs(run_dirs), run_dirs)


def reference_rows_of(runs, run_dirs: list[str | Path]) -> list[dict]:
    """:func:`reference_rows` of full-data runs already read from ``run_dirs``."""
    if not runs:
        raise SystemExit(f"no finished full-data run under {', '.join(map(str, run_dirs))}")
    return [{"metric": name, "labels": runs[0].rounds[-1]["labeled_count"],
             "value": _mean_std([get(run.rounds[-1]) for run in runs])} for name, get in METRICS.items()]
