"""The annotate project folder and its crash-safe state.

Layout::

    proj/project.json           the single source of truth (schema, checksum): options, label names, labels
                                given so far, the round and phase reached, each exported batch, imports
    proj/corpus.jsonl           the corpus as imported (id, text), so later commands need only --project_dir
    proj/state/                 phase files: the trained model (state/model-<t>), pool scores (state/pool.npz)
    proj/round_<k>/             the batch of round k: to_label.csv, to_label.jsonl, label_studio_tasks.json,
                                label_studio_config.xml, stopping.json
    proj/.mlal.lock             held by the running command (see mlal/lock.py)

Every file is written atomically (temporary file, fsync, rename) before the state that refers to it, and
the state is committed after each phase (trained -> scored -> exported -> imported), so a command killed
at any point is resumed by rerunning it, and an import is merged entirely or not at all.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..results import atomic_write_bytes, atomic_write_json, now_iso

SCHEMA = "mlal-annotate-project"
VERSION = 1
STATE = "project.json"
CORPUS = "corpus.jsonl"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checksum(payload: dict[str, Any]) -> str:
    return sha256_bytes(json.dumps(payload, sort_keys=True).encode())


class Project:
    """Reads and writes one project folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / STATE
        self.phase_dir = self.folder / "state"
        self.data: dict[str, Any] = {}

    def exists(self) -> bool:
        return self.path.is_file()

    def round_dir(self, k: int) -> Path:
        return self.folder / f"round_{k}"

    # ------------------------------------------------------------------ state
    def load(self) -> dict[str, Any]:
        try:
            payload = json.loads(self.path.read_text())
        except (OSError, ValueError):
            raise UsageError(f"{self.path} is unreadable or corrupted; restore it from a backup") from None
        if payload.get("schema") != SCHEMA or payload.get("version") != VERSION:
            raise UsageError(f"{self.path} is not an annotate project of this version; use another --project_dir")
        checksum = payload.pop("checksum", None)
        if checksum != _checksum(payload):
            raise UsageError(f"{self.path} was edited or corrupted (checksum mismatch); restore it from a backup")
        self.data = payload
        return payload

    def save(self) -> None:
        """The commit point: files the state refers to are written before, stale ones removed after."""
        payload = {k: v for k, v in self.data.items() if k != "checksum"}
        payload.update(schema=SCHEMA, version=VERSION, updated=now_iso())
        atomic_write_json(self.path, {**payload, "checksum": _checksum(payload)})
        self.data = payload
        self._remove_stale_models()

    def commit(self, **changes) -> None:
        self.data.update(changes)
        self.save()

    # ------------------------------------------------------------------ corpus
    def write_corpus(self, ids: list[str], texts: list[str]) -> None:
        lines = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in zip(ids, texts))
        data = lines.encode("utf-8")
        atomic_write_bytes(self.folder / CORPUS, data)
        self.data["corpus_sha256"] = sha256_bytes(data)

    def read_corpus(self) -> tuple[list[str], list[str]]:
        data = (self.folder / CORPUS).read_bytes()
        if sha256_bytes(data) != self.data.get("corpus_sha256"):
            raise UsageError(f"{self.folder / CORPUS} changed since the project was created; restore it")
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        return [r["id"] for r in rows], [r["text"] for r in rows]

    # ------------------------------------------------------------------ model
    def model_dir(self) -> Path | None:
        model = self.data.get("model")
        return None if model is None else (self.folder / model if not Path(model).is_absolute() else Path(model))

    def save_model(self, model, tokenizer, training_index: int) -> str:
        """Save weights and tokenizer to a new folder state/model-<t>; return its path relative to the folder."""
        target = self.phase_dir / f"model-{training_index}"
        tmp = self.phase_dir / f"model-{training_index}.tmp"
        for path in (tmp, target):
            if path.exists():
                shutil.rmtree(path)
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
        except BaseException:  # a full disk, say: discard the half-written folder (and free its space)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        tmp.rename(target)
        return str(target.relative_to(self.folder))

    def _remove_stale_models(self) -> None:
        keep = self.model_dir()
        if not self.phase_dir.is_dir():
            return
        for path in self.phase_dir.glob("model-*"):
            if keep is None or path.resolve() != keep.resolve():
                shutil.rmtree(path, ignore_errors=True)
