"""Crash-safe run state: the loop's cursor and each phase's outputs, so a rerun resumes.

``state.json`` is the single source of truth for a run: the config hash, the finished rounds' records,
the labeled ids, the phase reached in the current round, and the SHA-256 of every file it relies on.
It carries a schema version and a checksum of its own content; a truncated, edited or corrupted state
is reported, never half-used. Phase outputs are JSON and ``.npz`` (loaded with ``allow_pickle=False``)
and safetensors weights: loading them runs no code.

Phases of round r, in order: ``start`` -> ``trained`` (weights in state/model) -> ``evaluated``
(state/eval.npz) -> ``scored`` (state/pool.npz) -> round finished (eval/round_XXX.npz, record appended).
Every phase re-seeds from (seed, round), so no generator snapshots are needed to replay it exactly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .distributed import is_main_process
from .errors import UsageError
from .results import atomic_write_bytes, atomic_write_npz
from .run_format import NON_SEMANTIC, STATE, STATE_DIR

SCHEMA = "mlal-run-state"
VERSION = 1


def semantic_config(config: dict[str, Any]) -> dict[str, Any]:
    return {section: {k: v for k, v in values.items() if k not in NON_SEMANTIC} for section, values in config.items()}


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(semantic_config(config), sort_keys=True, default=str).encode()).hexdigest()


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    old, new = semantic_config(old), semantic_config(new)
    return sorted(
        key for section in set(old) | set(new)
        for key in set(old.get(section, {})) | set(new.get(section, {}))
        if json.dumps(old.get(section, {}).get(key), default=str) != json.dumps(new.get(section, {}).get(key), default=str)
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _payload_checksum(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class RunState:
    """Reads and writes ``state.json`` and the phase files under ``state/`` of one run folder."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / STATE
        self.phase_dir = self.run_dir / STATE_DIR
        self.data: dict[str, Any] = {}

    # ------------------------------------------------------------------ state.json
    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any]:
        fix = f"delete {self.run_dir} or pass --overwrite to start over"
        try:
            document = json.loads(self.path.read_text())
            payload, checksum = document["payload"], document["checksum"]
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(f"run state {self.path} is unreadable or truncated; {fix}") from None
        if document.get("schema") != SCHEMA or document.get("version") != VERSION:
            raise UsageError(f"run state {self.path} has an unknown schema or version; {fix}")
        if _payload_checksum(payload) != checksum:
            raise UsageError(f"run state {self.path} fails its checksum (corrupted or edited); {fix}")
        for name, digest in payload.get("files", {}).items():
            file = self.run_dir / name
            if not file.exists() or file_sha256(file) != digest:
                raise UsageError(f"run file {file} is missing or corrupted (checksum mismatch); {fix}")
        self.data = payload
        return payload

    def save(self) -> None:
        document = {"schema": SCHEMA, "version": VERSION, "payload": self.data,
                    "checksum": _payload_checksum(self.data)}
        atomic_write_bytes(self.path, (json.dumps(document, indent=1) + "\n").encode(), fault_point="state_write")

    # ------------------------------------------------------------------ phase files
    def track(self, path: Path) -> None:
        """Record the checksum of a file the state relies on (call before ``save``; main process only)."""
        if not is_main_process():
            return
        self.data.setdefault("files", {})[str(Path(path).relative_to(self.run_dir))] = file_sha256(path)

    def untrack_phase_files(self, keep_model: bool = True) -> None:
        model = self.data.get("model") if keep_model else None
        self.data["files"] = {
            k: v for k, v in self.data.get("files", {}).items()
            if not k.startswith("state/") or (model and k.startswith(model + "/"))
        }
        if not keep_model:
            self.data.pop("model", None)

    def remove_untracked(self) -> None:
        """Delete phase files that the saved state no longer refers to (and stale temporary files)."""
        if not is_main_process():
            return
        for stale in self.run_dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        if not self.phase_dir.is_dir():
            return
        tracked = self.data.get("files", {})
        for entry in self.phase_dir.iterdir():
            if entry.name == "trainer":  # Trainer's own checkpoints, removed after training
                continue
            relative = f"state/{entry.name}"
            if not any(key == relative or key.startswith(relative + "/") for key in tracked):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)

    def save_arrays(self, name: str, **arrays: np.ndarray) -> Path:
        """Write a new phase file (never one the saved state refers to) and track it."""
        path = self.phase_dir / name
        atomic_write_npz(path, **arrays)
        self.track(path)
        return path

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        with np.load(self.phase_dir / name, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    @property
    def model_dir(self) -> Path | None:
        return self.run_dir / self.data["model"] if self.data.get("model") else None

    def save_model(self, model, round_index: int) -> None:
        """Save weights (safetensors) to a new folder for this round and track it instead of the previous one."""
        target = self.phase_dir / f"model-round{round_index}"
        self.data["model"] = str(target.relative_to(self.run_dir))
        if not is_main_process():
            return
        tmp = self.phase_dir / f"model-round{round_index}.tmp"
        for path in (tmp, target):
            if path.exists():
                shutil.rmtree(path)
        try:
            model.save_pretrained(tmp, safe_serialization=True)
        except BaseException:  # a full disk, say: discard the half-written folder (and free its space)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        tmp.rename(target)
        self.data["files"] = {k: v for k, v in self.data.get("files", {}).items() if not k.startswith("state/model-")}
        for file in sorted(target.iterdir()):
            self.track(file)


def outputs_to_arrays(prefix: str, outputs) -> dict[str, np.ndarray]:
    """Flatten a ``ModelOutputs`` into named arrays for an ``.npz`` file."""
    arrays = {f"{prefix}probs": outputs.probs}
    if outputs.embeddings is not None:
        arrays[f"{prefix}embeddings"] = outputs.embeddings
    if outputs.mc is not None:  # every statistic the strategy declared, by name (mlal.acquisition.mc)
        for name, values in outputs.mc.means.items():
            arrays[f"{prefix}mc_{name}"] = values
        arrays[f"{prefix}mc_passes"] = np.asarray(outputs.mc.passes)
    return arrays


def arrays_to_outputs(prefix: str, arrays: dict[str, np.ndarray]):
    """Inverse of :func:`outputs_to_arrays` (None when the prefix is absent)."""
    from mlal.acquisition import MCDropoutStats, ModelOutputs

    if f"{prefix}probs" not in arrays:
        return None
    mc = None
    if f"{prefix}mc_passes" in arrays:
        start = f"{prefix}mc_"
        mc = MCDropoutStats(int(arrays[f"{prefix}mc_passes"]), **{
            key[len(start):]: arrays[key] for key in arrays if key.startswith(start) and key != f"{prefix}mc_passes"})
    return ModelOutputs(probs=arrays[f"{prefix}probs"], embeddings=arrays.get(f"{prefix}embeddings"), mc=mc)
