"""Writing the run folder: statistics.json, metrics.csv, frozen requirements, per-round arrays.

The layout and every file name live in :mod:`mlal.run_format` (read by ``plotting`` too).
Every file is written atomically (temporary file, flush, fsync, rename).
"""

from __future__ import annotations

import csv
import datetime as _dt
import importlib.metadata
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .distributed import is_main_process
from .redact import redact_argv, redact_text
from .run_format import (
    EVAL_DIR, EVAL_INDEX, FORMAT_KEY, FORMAT_VERSION, METRICS_CSV, REQUIREMENTS, STATISTICS, metrics_row, round_file,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEY_PACKAGES = ("torch", "transformers", "datasets", "accelerate", "huggingface_hub", "scikit-learn", "numpy", "scipy")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes, fault_point: str | None = None) -> None:
    """Write via a temporary file in the same folder, flush, fsync, rename: readers never see half a file.
    Only the main process writes (see mlal.distributed)."""
    if not is_main_process():
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if fault_point:
            from .faults import maybe_fail

            maybe_fail(fault_point)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=True) + "\n").encode())


def atomic_write_npz(path: Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def git_state(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    if not (root / ".git").exists():  # installed (site-packages): never report the commit of a repository around it
        return {"commit": None, "dirty": None}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20).stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": sha or None, "dirty": dirty if sha else None}


def package_versions() -> dict[str, str]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_description() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})"


def provenance() -> dict[str, Any]:
    return {
        "git": git_state(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device_description(),
        "command": redact_argv([Path(sys.argv[0]).name, *sys.argv[1:]]),  # never a token (mlal.redact)
    }


def freeze_requirements(path: Path) -> None:
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, timeout=120
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        out = f"# pip freeze failed: {exc}\n"
    atomic_write_bytes(path, redact_text(out).encode())  # "pkg @ https://user:token@host/..." lines


class RunRecorder:
    """Writes a run's folder. Create it only after all input was validated."""

    def __init__(self, output_dir: Path, config: dict[str, Any], seed: int,
                 option_defaults: dict[str, Any] | None = None):
        self.dir = Path(output_dir)
        self.statistics: dict[str, Any] = {
            FORMAT_KEY: FORMAT_VERSION,
            "config": config,
            "option_defaults": option_defaults or {},  # mlal.saved_config.option_defaults
            "seed": seed,
            "provenance": provenance(),
            "start_time": now_iso(),
            "end_time": None,
            "label_names": None,
            "rounds": [],
        }
        self.eval_index: dict[str, Any] = {"rounds": {}}

    def start(self, label_names: list[str]) -> None:
        self.statistics["label_names"] = list(label_names)
        if is_main_process():
            self.dir.mkdir(parents=True, exist_ok=True)
            freeze_requirements(self.dir / REQUIREMENTS)

    def save(self) -> None:
        atomic_write_json(self.dir / STATISTICS, self.statistics)

    def add_round(self, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
        """Write the round's arrays, append its record and rewrite metrics.csv from all records
        (statistics.json is written by ``save``)."""
        name = round_file(record["round"])
        path = self.dir / EVAL_DIR / name
        atomic_write_npz(path, **arrays)
        self.eval_index["rounds"][str(record["round"])] = {
            "file": name,
            "arrays": {key: list(np.shape(value)) for key, value in arrays.items()},
        }
        atomic_write_json(self.dir / EVAL_DIR / EVAL_INDEX, self.eval_index)
        self.statistics["rounds"].append(record)
        self.write_metrics_csv()
        return path

    def write_metrics_csv(self) -> None:
        rows = [metrics_row(record) for record in self.statistics["rounds"]]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_bytes(self.dir / METRICS_CSV, buffer.getvalue().encode())

    def finish(self) -> None:
        self.statistics["end_time"] = now_iso()
