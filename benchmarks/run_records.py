"""Compact records of summarized runs (``runs.json`` beside a label-efficiency summary), so that the summary's tables
and its learning-curve and area figures can be recomputed, and new runs paired by seed with these, after the run
folders are gone (they are not committed: their round arrays are large).

A record keeps what the tables read from a run's ``statistics.json``: its config and option defaults (so lines are
named and recipes checked exactly as for run folders), seed, provenance, start and end time, label names, and per
round the labeled count, the test metrics the tables use, the phase seconds, and how long and far it trained (CPU
seconds, steps, epochs, the loss of each epoch). It drops the per-label metrics and every array: the batch,
calibration and acquired-label tables need the run folders.

``label_efficiency.py summarize`` writes one beside every summary; to keep the records of runs that are not
summarized (a full-data run)::

    python benchmarks/run_records.py results/label_efficiency/reuters_full_data_15ep \
        --out benchmarks/results/label_efficiency/reuters/reference_runs.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlal.plotting.runs import Run  # noqa: E402  (reading runs only: no model, no loop)

RUNS_FILE = "runs.json"
REFERENCE_RUNS_FILE = "reference_runs.json"
FORMAT = "mlal-summarized-runs"
#: Top-level keys of statistics.json a record keeps.
KEPT = ("format_version", "config", "option_defaults", "seed", "provenance", "start_time", "end_time", "label_names",
        "output_dir")
#: Training facts of a round record a record keeps (how long and how far the round trained).
KEPT_TRAINING = ("train_cpu_seconds", "steps", "epochs", "train_loss", "epoch_losses")
#: Per section of a round record, the keys a record keeps (the metrics of the label-efficiency tables).
KEPT_METRICS = {"test": ("mean_average_precision", "micro_f1", "macro_f1"), "test_at_tuned_threshold": ("micro_f1",)}


def compact_round(record: dict) -> dict:
    """A round record with only the labeled count, the tables' test metrics, the phase seconds and the training
    facts of :data:`KEPT_TRAINING`."""
    out = {"round": record["round"], "labeled_count": record["labeled_count"], "seconds": record.get("seconds", {})}
    for section, keys in KEPT_METRICS.items():
        if section in record:
            out[section] = {key: record[section][key] for key in keys if key in record[section]}
    out.update({key: record[key] for key in KEPT_TRAINING if key in record})
    return out


def _shown(path: Path) -> str:
    """``path`` relative to the working folder where it lies below it (records stay free of home folders)."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.path.relpath(resolved)


def write_run_records(runs: list[Run], path: Path) -> Path:
    """Write the compact records of ``runs`` to ``path`` (JSON); returns ``path``."""
    records = [{"path": _shown(run.path),
                "statistics": {**{key: run.statistics[key] for key in KEPT if key in run.statistics},
                               "rounds": [compact_round(record) for record in run.rounds]}}
               for run in sorted(runs, key=lambda r: (r.group_label, r.seed))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": FORMAT, "runs": records}, indent=1, default=str) + "\n")
    return path


def read_run_records(path: str | Path) -> list[Run]:
    """The runs of a ``runs.json``, each as a :class:`Run` named ``<file>#<its run folder>`` (no saved arrays).
    Raises ``ValueError`` naming the file when it is not such a file."""
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} cannot be read as a {RUNS_FILE} ({error}); pass run folders or the {RUNS_FILE} "
                         "that summarize wrote") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {RUNS_FILE} of a summary (no \"format\": \"{FORMAT}\"); pass run folders "
                         f"or the {RUNS_FILE} that summarize wrote")
    return [Run(Path(f"{path}#{record['path']}"), record["statistics"]) for record in content["runs"]
            if record["statistics"].get("rounds")]


def collect_runs(paths: list[str | Path]) -> list[Run]:
    """The runs at or below the folders in ``paths`` (``find_runs``) and those of the ``runs.json`` files among
    them; a file that is not such a record file raises ``ValueError`` naming it."""
    from mlal.plotting.runs import find_runs

    files = [Path(path) for path in paths if Path(path).is_file()]
    folders = [path for path in paths if not Path(path).is_file()]
    return find_runs(folders) + [run for file in files for run in read_run_records(file)]


def finished(runs: list[Run]) -> list[Run]:
    """The runs that finished (an end time recorded); says which were left out as still going."""
    going = sorted(str(run.path) for run in runs if not run.statistics.get("end_time"))
    if going:
        print(f"left out {len(going)} run(s) still going: {', '.join(going)}")
    return [run for run in runs if run.statistics.get("end_time")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the compact records of the finished runs under some folders.")
    parser.add_argument("runs", nargs="+", help="run folders (or folders above them)")
    parser.add_argument("--out", required=True, help="the JSON file to write (an existing one is not replaced)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        parser.error(f"{out} exists; remove it or choose another --out")
    try:
        runs = [run for run in collect_runs(args.runs) if run.statistics.get("end_time")]
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    if not runs:
        parser.error(f"no finished run under {', '.join(args.runs)}")
    print(f"wrote {write_run_records(runs, out)} ({len(runs)} run(s))")


if __name__ == "__main__":
    main()
