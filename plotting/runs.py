"""Reading finished runs from disk (statistics.json and eval/*.npz). No model, no training loop."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from mlal.run_format import EVAL_DIR, STATISTICS, check_format_version, round_file  # names only: no model, no loop


@dataclass
class Run:
    """One run folder: its statistics and lazy access to each round's saved arrays."""

    path: Path
    statistics: dict[str, Any]
    group: str = ""  # set by plotting.groups.group_runs: the label of its config-minus-seed group
    _cache: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def strategy(self) -> str:
        return self.statistics["config"]["active_learning"]["strategy"]

    @property
    def seed(self) -> int:
        return int(self.statistics["seed"])

    @property
    def group_label(self) -> str:
        return self.group or self.strategy

    @property
    def label_names(self) -> list[str]:
        return list(self.statistics["label_names"])

    @property
    def rounds(self) -> list[dict[str, Any]]:
        return self.statistics["rounds"]

    @property
    def name(self) -> str:
        return f"{self.strategy}-seed{self.seed}"

    @cached_property
    def has_saved_arrays(self) -> bool:
        """Whether every round's ``eval/round_XXX.npz`` is there (a copy of a run may keep only its JSON)."""
        return all((self.path / EVAL_DIR / round_file(r["round"])).is_file() for r in self.rounds)

    def arrays(self, round_index: int = -1) -> dict[str, np.ndarray]:
        """The saved arrays of a round (default: the last one)."""
        round_number = self.rounds[round_index]["round"]
        if round_number not in self._cache:
            with np.load(self.path / EVAL_DIR / round_file(round_number), allow_pickle=False) as data:
                self._cache[round_number] = {key: data[key] for key in data.files}
        return self._cache[round_number]


def find_runs(paths: list[str | Path]) -> list[Run]:
    """Every run folder (one holding statistics.json with at least one round) at or below ``paths``.

    Files of every format version up to ``mlal.run_format.FORMAT_VERSION`` are read; a newer one raises
    ``RunFormatError`` (a ValueError) naming the file.
    """
    found: dict[Path, Run] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        candidates = [path / STATISTICS] if (path / STATISTICS).is_file() else sorted(path.rglob(STATISTICS))
        for stats_file in candidates:
            statistics = json.loads(stats_file.read_text())
            check_format_version(statistics, stats_file)
            if statistics.get("rounds"):
                found[stats_file.parent.resolve()] = Run(stats_file.parent, statistics)
    return list(found.values())
