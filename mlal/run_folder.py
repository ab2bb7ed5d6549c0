"""What a run folder may hold, and the checks made before a run writes anything into one.

A folder *holds a run* when it has this project's own ``state.json`` (schema ``mlal-run-state``) or
``statistics.json`` (with ``config``, ``provenance`` and ``rounds``). ``--overwrite`` replaces such a run
by removing only :data:`RUN_ENTRIES`, the names runs write; anything else in the folder stays. A
non-empty folder that holds no run is never written into, whatever the flags.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

from .distributed import broadcast, is_main_process
from .errors import UsageError
from .lock import LOCK_NAME, FolderLock, LockHeld, describe
from .run_format import (
    CHECKPOINTS_DIR, EVAL_DIR, FIGURES_DIR, FINAL_MODEL_DIR, HUB_DIR, LOGS_DIR, METRICS_CSV, REQUIREMENTS, STATE, STATE_DIR,
    STATISTICS,
)

logger = logging.getLogger(__name__)

# Everything a run (and --push_to_hub) writes in its folder; --overwrite removes these and nothing else.
RUN_FILES = (STATE, STATISTICS, METRICS_CSV, REQUIREMENTS, LOCK_NAME)
RUN_DIRS = (STATE_DIR, EVAL_DIR, CHECKPOINTS_DIR, FINAL_MODEL_DIR, HUB_DIR, FIGURES_DIR, LOGS_DIR)
RUN_ENTRIES = RUN_FILES + RUN_DIRS
# What a run writes before its first state: a folder holding only these is an unstarted run, not user files.
START_ENTRIES = (REQUIREMENTS, LOCK_NAME)
DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")  # atomic writes' temporary files


def _json(path: Path) -> Optional[dict]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds a run of this project, recognised by its own files."""
    folder = Path(folder)
    state, statistics = _json(folder / STATE), _json(folder / STATISTICS)
    if state is not None and state.get("schema") == "mlal-run-state":
        return True
    if statistics is not None and {"config", "provenance", "rounds"} <= set(statistics):
        return True
    # A run whose state file was truncated or corrupted is still recognised by its companions.
    return (folder / STATE).is_file() and (folder / REQUIREMENTS).is_file()


def foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that no run writes (sorted)."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in RUN_ENTRIES and not _is_temporary(p.name))


def check_output_folder(output_dir: Path) -> None:
    """Refuse a file, or a non-empty folder that holds no run (``--overwrite`` or not)."""
    output_dir = Path(output_dir)
    if output_dir.is_file():
        raise UsageError(f"--output_dir {output_dir} is a file; choose a folder")
    if not output_dir.is_dir() or holds_run(output_dir):
        return
    names = sorted(p.name for p in output_dir.iterdir())
    if all(name in START_ENTRIES or _is_temporary(name) for name in names):
        return  # empty, or a run that stopped before its first state was saved
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    raise UsageError(
        f"--output_dir {output_dir} is not empty and holds no run (it has {shown}); runs never write into "
        "other files' folders, --overwrite included: choose an empty or new folder"
    )


def remove_run(output_dir: Path) -> list[str]:
    """Delete what runs write in ``output_dir`` (not the lock, not anything else); return the names removed."""
    output_dir = Path(output_dir)
    removed = []
    for entry in sorted(output_dir.iterdir()):
        if entry.name == LOCK_NAME or not (entry.name in RUN_ENTRIES or _is_temporary(entry.name)):
            continue
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        removed.append(entry.name)
    return removed


def nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists():
        path = path.parent
    return path


def check_writable(output_dir: Path) -> None:
    """Create and delete a probe file in ``output_dir`` or its nearest existing parent, or refuse in one line."""
    where = nearest_existing(output_dir)
    if not where.is_dir():
        raise UsageError(f"--output_dir {output_dir} cannot be created: {where} is a file; choose another folder")
    try:
        fd, probe = tempfile.mkstemp(dir=where, prefix=".mlal-probe-", suffix=".tmp")
        try:
            os.write(fd, b"probe")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise UsageError(f"no space left on the device of --output_dir {output_dir} ({where}); free some space "
                             "or choose a folder on another disk") from None
        raise UsageError(
            f"cannot write to --output_dir {output_dir}: {where} is not writable ({exc.strerror or exc}); "
            "choose a folder you can write to or fix its permissions"
        ) from None


def write_failure(exc: BaseException, output_dir: Path) -> Optional[UsageError]:
    """One line for a write that failed mid-run (full disk, read-only or forbidden), or None for other errors."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in DISK_FULL or "No space left on device" in text or "Disk quota exceeded" in text:
        problem, fix = "no space left on the device", "free some space"
    elif code in NOT_WRITABLE or "Read-only file system" in text:
        problem = f"cannot write ({getattr(exc, 'strerror', None) or text.splitlines()[0][:80]})"
        fix = "make the folder writable"
    else:
        return None
    filename = getattr(exc, "filename", None)
    where = f"{filename}" if filename else str(output_dir)
    saved = _saved_point(Path(output_dir))
    return UsageError(f"{problem} while writing {where}; {saved}: {fix} and rerun the same command to resume")


def _saved_point(output_dir: Path) -> str:
    document = _json(output_dir / STATE)
    payload = (document or {}).get("payload") or {}
    if "round" in payload and "phase" in payload:
        return (f"the run's last saved state is intact (round {payload['round']}, phase {payload['phase']}; "
                "the failed write was discarded)")
    return "no state of this run had been saved yet (nothing earlier was touched)"


def _on_main_process(action: Callable[[], Any]) -> Any:
    """``action()`` on the main process (None elsewhere); its refusal is raised on every process alike."""
    result, refusal = None, None
    if is_main_process():
        try:
            result = action()
        except UsageError as exc:
            refusal = str(exc)
    refusal = broadcast(refusal)
    if refusal is not None:
        raise LockHeld(refusal)
    return result


def check_not_held(output_dir: Path) -> None:
    """Refuse (every process) a folder whose lock names a running process: before configs are compared."""
    _on_main_process(FolderLock(output_dir).check_free)


def lock_run_folder(output_dir: Path) -> Optional[FolderLock]:
    """Lock the run folder on the main process (None on the others, which learn whether it worked)."""
    lock = _on_main_process(FolderLock(output_dir).acquire)
    if lock is not None and lock.stale:
        logger.info("took over the stale lock of %s", describe(lock.stale))
    return lock
