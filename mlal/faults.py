"""Fault injection for the crash tests: kill this process at a named point.

Set ``MLAL_FAULT=<point>:<round>[:<strategy>]`` (e.g. ``train_step:1``, ``state_write:0``,
``after_acquisition:2:random``) and the process sends itself SIGKILL the first time it reaches that
point in that round (for that strategy). Points: ``train_step``, ``after_train``, ``pool_scoring``,
``after_scoring``, ``after_acquisition``, ``state_write``. Unset (the normal case) it does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "MLAL_FAULT"
_context = {"round": None, "strategy": None}


def set_context(round_index: int | None, strategy: str | None = None) -> None:
    _context["round"], _context["strategy"] = round_index, strategy or _context["strategy"]


def maybe_fail(point: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    parts = spec.split(":")
    if parts[0] != point or _context["round"] is None or int(parts[1]) != _context["round"]:
        return
    if len(parts) > 2 and parts[2] != _context["strategy"]:
        return
    os.kill(os.getpid(), signal.SIGKILL)
