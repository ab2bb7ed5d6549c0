"""Hardening (issue 15), one writer per run folder: a second run, sweep or annotate import on a held folder
exits 2 naming the holder; a lock whose holder died (kill -9) is stale and taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, tiny_run_argv
from conftest import copy_run as _copy_run
from conftest import run_cli as _main
from conftest import run_tiny as _run
from conftest import snapshot as _snapshot

from mlal.lock import LOCK_NAME, FolderLock, LockHeld
from mlal.run_format import STATISTICS

sys.path.insert(0, str(ROOT))
import run_active_learning  # noqa: E402


# ---------------------------------------------------------------- 5. one run per folder
def _live_process():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def _fake_lock(folder: Path, pid: int, host: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                "started": "2026-01-01T00:00:00+00:00", "purpose": "test holder"}))


def test_lock_is_exclusive_and_released(tmp_path):
    folder = tmp_path / "a" / "b"
    with FolderLock(folder) as lock:
        holder = json.loads((folder / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname() and lock.held
        with pytest.raises(LockHeld, match=f"in use by another process \\(pid {os.getpid()} on host"):
            FolderLock(folder).acquire()
        script = f"from mlal.lock import FolderLock; FolderLock({str(folder)!r}).acquire()"
        other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
        assert other.returncode != 0 and "LockHeld" in other.stderr
    assert not (tmp_path / "a").exists()  # created for the lock, left empty: removed again


def test_lock_held_by_a_process_that_died_with_it_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    script = f"import os; from mlal.lock import FolderLock; FolderLock({str(folder)!r}).acquire(); os._exit(9)"
    assert subprocess.run([sys.executable, "-c", script], cwd=ROOT).returncode == 9
    dead_pid = json.loads((folder / LOCK_NAME).read_text())["pid"]
    with FolderLock(folder) as lock:
        assert lock.stale["pid"] == dead_pid
    assert not (folder / LOCK_NAME).exists()


def test_lock_of_another_host_is_respected(tmp_path):
    _fake_lock(tmp_path, 1, host="elsewhere.example")
    with pytest.raises(LockHeld, match="pid 1 on host elsewhere.example"):
        FolderLock(tmp_path).acquire()


def test_second_run_or_sweep_on_a_held_folder_exits_2_naming_the_holder(tiny_bert_dir, finished_run, tmp_path,
                                                                        capsys):
    holder = _live_process()
    try:
        folder = _copy_run(finished_run, tmp_path)
        _fake_lock(folder, holder.pid)
        before = _snapshot(folder)
        code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, folder, rounds=1, strategy="random") +
                             ["--overwrite"])
        assert code == 2 and len(errors) == 1 and f"in use by another process (pid {holder.pid} on host" in errors[0]
        assert _snapshot(folder) == before
        _fake_lock(tmp_path / "sweep" / "random" / "seed7", holder.pid)
        code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, tmp_path / "sweep", rounds=1,
                                                   strategy="random,entropy"))
        assert code == 2 and len(errors) == 1 and f"pid {holder.pid}" in errors[0]
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_from_a_dead_pid_does_not_block_a_run(tiny_bert_dir, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _fake_lock(tmp_path / "run", dead.pid)
    stats = _run(tiny_bert_dir, tmp_path / "run")
    assert len(stats["rounds"]) == 1 and not (tmp_path / "run" / LOCK_NAME).exists()


HOLD_AFTER_LOCKING = """
import sys, time
sys.path.insert(0, {root!r})
import mlal.loop, run_active_learning
real = mlal.loop.lock_run_folder
def hold(output_dir):
    lock = real(output_dir)
    print("locked", flush=True)
    time.sleep(600)
mlal.loop.lock_run_folder = hold
run_active_learning.main({argv!r})
"""


def test_two_runs_at_once_then_kill_9_of_the_holder(tiny_bert_dir, finished_run, tmp_path, capsys, caplog):
    """A real second process holds the folder (flock + pid) while it replaces the old run there: a second run,
    with the old run's config, another one or --overwrite, exits 2 naming it (not "already finished" or "a
    different config"); after ``kill -9`` of the holder its lock is stale and the holder's command just runs."""
    folder = _copy_run(finished_run, tmp_path)
    argv = tiny_run_argv(tiny_bert_dir, folder, rounds=1)  # the finished run's own config
    replace = argv + ["--strategy", "random", "--overwrite"]
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AFTER_LOCKING.format(root=str(ROOT), argv=replace)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for extra in ([], ["--strategy", "random"], ["--strategy", "bald", "--overwrite"]):
            code, errors = _main(capsys, argv + extra)
            assert code == 2 and len(errors) == 1, errors
            assert f"is in use by another process (pid {holder.pid} on host {socket.gethostname()}" in errors[0]
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the lock file stays
        holder.wait()
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == holder.pid
    with caplog.at_level("INFO", logger="mlal"):
        assert run_active_learning.main(replace) == 0
    assert f"took over the stale lock of pid {holder.pid}" in caplog.text
    assert not (folder / LOCK_NAME).exists()
    assert json.loads((folder / STATISTICS).read_text())["config"]["active_learning"]["strategy"] == "random"
