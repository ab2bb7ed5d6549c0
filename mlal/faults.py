"""Fault injection for the crash tests: kill this process at a named point.

Set ``MLAL_FAULT=<point>:<round>[:<strategy>[:<n>]]`` (e.g. ``train_step:1``, ``state_write:0``,
``after_acquisition:2:random``, ``train_step:1::3``) and the process sends itself SIGKILL the n-th time
(default: first) it reaches that point in that round (for that strategy, when given). Points: ``train_step``, ``after_train``, ``pool_scoring``,
``after_scoring``, ``after_acquisition``, ``state_write``. Unset (the normal case) it does nothing.

``MLAL_LAG=<point>:<rank>:<seconds>`` makes one process of a multi-process run sleep at a named point
(``before_reading_phase_files``), so the tests can make a race between processes happen every time.
"""

from __future__ import annotations

import os
import signal
import time

ENV = "MLAL_FAULT"
_context = {"round": None, "strategy": None}
_hits: dict[str, int] = {}


def set_context(round_index: int | None, strategy: str | None = None) -> None:
    _context["round"], _context["strategy"] = round_index, strategy or _context["strategy"]


def maybe_fail(point: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    parts = spec.split(":")
    if parts[0] != point or _context["round"] is None or int(parts[1]) != _context["round"]:
        return
    if len(parts) > 2 and parts[2] and parts[2] != _context["strategy"]:
        return
    _hits[point] = _hits.get(point, 0) + 1
    if _hits[point] >= (int(parts[3]) if len(parts) > 3 else 1):
        os.kill(os.getpid(), signal.SIGKILL)


def maybe_lag(point: str) -> None:
    """Sleep here when ``MLAL_LAG`` names this point and this process's rank (tests only)."""
    spec = os.environ.get("MLAL_LAG")
    if not spec:
        return
    name, rank, seconds = spec.split(":")
    if name == point and int(os.environ.get("RANK", "0")) == int(rank):
        time.sleep(float(seconds))
