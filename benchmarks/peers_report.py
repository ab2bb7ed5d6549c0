"""Writes ``peers_bench.py``'s rows as CSV (with a commented header) and as a Markdown table."""

from __future__ import annotations

import csv
import datetime
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

COLUMNS = ["strategy", "peer", "called_as", "N", "L", "ours_s", "peer_s", "ours_cpu_s", "peer_cpu_s", "ratio",
           "ours_peak_mib", "peer_peak_mib",
           "overlap", "spearman", "ours_equivariance", "peer_equivariance"]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header_lines(args) -> list[str]:
    """Command, date, machine and package versions, one fact per line."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    versions = ", ".join(f"{name} {_version(name)}" for name in ("numpy", "scipy", "scikit-learn", "torch",
                                                                  "small-text", "baal"))
    return [
        f"command: {sys.executable} {' '.join(sys.argv)}",
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"machine: nproc {len(os.sched_getaffinity(0))}, {cpu}, load average at end {load} (shared machine)",
        f"packages: Python {platform.python_version()}, {versions}",
        f"inputs: seeded synthetic sigmoid outputs (benchmarks/peers_arrays.py, seed {args.seed}), "
        f"T = {args.passes}, M = {args.labeled} labeled rows, k = {args.k}; "
        "best of 3 timed calls for sub-second ones, else one; "
        f"peer/ours is the ratio of process CPU seconds (wall time on a shared machine includes waiting)",
    ]


def _cell(value, digits: int = 3) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.{digits}g}" if abs(value) < 1e-3 else f"{value:.{digits}f}"
    return str(value)


def markdown_table(rows: list[dict]) -> list[str]:
    lines = ["| strategy | peer (called as) | N | L | ours s wall (CPU) | peer s wall (CPU) | peer/ours CPU | "
             "ours MiB | peer MiB | overlap | Spearman | equivariant ours / peer |", "|" + "---|" * 12]
    for row in rows:
        peer_s, ratio = row.get("peer_s"), row.get("ratio")
        lines.append(
            f"| {row['strategy']} | {row['peer']} ({row['called_as']}) | {row['N']:,} | {row['L']} | "
            f"{row['ours_s']:.3f} ({row['ours_cpu_s']:.3f}) | "
            f"{_cell(peer_s)} ({_cell(row.get('peer_cpu_s'))}) | {_cell(ratio, 2) if peer_s is not None else '-'} | "
            f"{_cell(row['ours_peak_mib'], 0)} | {_cell(row.get('peer_peak_mib'), 0)} | "
            f"{_cell(row.get('overlap'), 2)} | {_cell(row.get('spearman'), 3)} | "
            f"{_cell(row['ours_equivariance'], 2)} / {_cell(row.get('peer_equivariance'), 2)} |"
        )
    return lines


def write_outputs(rows: list[dict], args, csv_path: Path) -> None:
    """CSV at csv_path (header lines start with '#'), Markdown beside it with the same header."""
    header = header_lines(args)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as handle:
        handle.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: (f"{value:.6g}" if isinstance(value, float) else value)
                             for key, value in row.items()})
    table = markdown_table(rows)
    csv_path.with_suffix(".md").write_text("\n".join([f"- {line}" for line in header] + [""] + table) + "\n")
    print("\n".join(header + [""] + table))
