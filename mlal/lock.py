"""One writer per folder: a lock file naming its holder (pid, host, start time, what it does).

    with FolderLock(run_dir, purpose="active-learning run"):
        ...  # write the folder

The lock is the file ``<folder>/.mlal.lock``, created and filled atomically, held with ``flock`` where the
file system offers it (the kernel drops that when the holder dies, however it dies) and released (the file
removed) on exit. A lock file left behind by a process that no longer runs on this host is stale: the next
run takes it over and says so. A lock whose holder still runs (or runs on another host, where we cannot
tell) is refused with :class:`LockHeld`, a :class:`~mlal.errors.UsageError` naming the holder and the fix.
Any tool that writes a run folder (the loop, a sweep, an import of annotations) takes this same lock.
Under torchrun / accelerate only the main process takes it (see :func:`mlal.loop.run_experiment`).
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any, Optional

from .errors import UsageError

LOCK_NAME = ".mlal.lock"

try:  # POSIX; elsewhere the pid check alone decides
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class LockHeld(UsageError):
    """The folder is being written by another process."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


def describe(holder: dict[str, Any]) -> str:
    """``pid 123 on host h since 2026-01-01T00:00:00+00:00 (active-learning run)``."""
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    if holder.get("started"):
        text += f" since {holder['started']}"
    if holder.get("purpose"):
        text += f" ({holder['purpose']})"
    return text


class FolderLock:
    """An exclusive lock on ``folder`` (created if missing; removed again on release if it stayed empty)."""

    def __init__(self, folder: Path, purpose: str = "active-learning run", option: str = "--output_dir"):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.purpose = purpose
        self.option = option
        self.stale: Optional[dict[str, Any]] = None  # the dead holder whose lock was taken over
        self._fd: Optional[int] = None
        self._created: list[Path] = []

    # ------------------------------------------------------------------ reading
    def holder(self) -> Optional[dict[str, Any]]:
        """What the lock file says (None when there is none); an unreadable file reads as ``{}``."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def _held_by_other(self, holder: dict[str, Any]) -> bool:
        """Whether the process named in the lock file may still be writing (flock aside)."""
        if not holder.get("pid"):
            return False  # empty or foreign content: written by no holder of ours
        if holder.get("host") != socket.gethostname():
            return True  # cannot check a process on another machine
        return int(holder["pid"]) != os.getpid() and _pid_alive(int(holder["pid"]))

    def _refuse(self, holder: dict[str, Any]) -> LockHeld:
        return LockHeld(
            f"{self.option} {self.folder} is in use by another process ({describe(holder)}); wait for it to end or "
            f"choose another folder (if that process is gone, delete {self.path})"
        )

    def check_free(self) -> None:
        """Raise :class:`LockHeld` if the lock file names a process that still runs; takes nothing, writes
        nothing. Called before a run compares its config with the folder's, so a second run on a held folder
        is told who holds it (not "already finished" or "a different config"). :meth:`acquire` decides."""
        holder = self.holder()
        if holder and self._held_by_other(holder):
            raise self._refuse(holder)

    # ------------------------------------------------------------------ acquire / release
    def acquire(self) -> "FolderLock":
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this lock object")
        missing = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        self.folder.mkdir(parents=True, exist_ok=True)
        self._created = missing  # deepest first
        try:
            self._acquire()
        except BaseException:
            self._remove_created()
            raise
        return self

    def _acquire(self) -> None:
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                            raise
                        raise self._refuse(self.holder() or {}) from None
                try:  # the file we locked must still be the lock file (not one a releaser just removed)
                    if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                        os.close(fd)
                        continue
                except FileNotFoundError:
                    os.close(fd)
                    continue
                holder = self.holder()
                if holder and self._held_by_other(holder):
                    raise self._refuse(holder)
                if holder:
                    self.stale = holder
                info = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": self.purpose,
                        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                        "python": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"}
                os.ftruncate(fd, 0)
                os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
                os.fsync(fd)
                self._fd = fd
                return
            except BaseException:
                if self._fd is None:
                    os.close(fd)
                raise
        raise self._refuse(self.holder() or {})

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            holder = self.holder()
            if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # drops the flock
            self._fd = None
            self._remove_created()

    def _remove_created(self) -> None:
        """Remove the folders this lock created, if they stayed empty (a run that could not start)."""
        for folder in self._created:
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()
