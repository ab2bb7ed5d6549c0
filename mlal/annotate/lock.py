"""One writer per project folder: a lock file holding the holder's process id.

The lock file is created with O_CREAT | O_EXCL (atomic on local file systems), so of two processes
starting at once exactly one gets it. A lock whose process no longer runs (killed, machine rebooted)
is stale and taken over. The lock is released on exit, including on an exception.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from ..errors import UsageError

LOCK_NAME = ".lock"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class FolderLock:
    """``with FolderLock(folder): ...`` holds ``folder/.lock``; a second holder gets a UsageError."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.held = False

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def _age(self) -> float:
        import time

        try:
            return time.time() - self.path.stat().st_mtime
        except OSError:
            return 0.0

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode()
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                same_host = holder is not None and holder.get("host") == socket.gethostname()
                if holder is None and self._age() < 10:  # being written by a process that just took it
                    holder = {"pid": "?", "host": "?"}
                elif holder is None or (same_host and not _running(int(holder.get("pid", -1)))):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone (or the file is half-written)
                    continue
                raise UsageError(
                    f"{self.path.parent} is in use by process {holder.get('pid')} on {holder.get('host')}; wait for it "
                    f"to finish (or, if that process is gone, delete {self.path})"
                ) from None
            with os.fdopen(fd, "wb") as handle:
                handle.write(info)
            self.held = True
            return
        raise UsageError(f"could not take the lock {self.path}; delete it if no other annotate command is running")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
