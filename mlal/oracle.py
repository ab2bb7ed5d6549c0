"""The oracle: who labels the examples the loop acquires, and the labels the loop has received so far.

An oracle is a callable ``oracle(original_ids, texts) -> labels`` asked for the labels of the initial labeled set
and of every acquired batch: ``original_ids`` (str array, shape (n,)) are the examples' own ids
(:meth:`mlal.data.MultiLabelData.original_ids`), ``texts`` their texts (list of n str). It returns either a
multi-hot array of shape (n, n_labels) (0/1, columns in the order of the run's label names) or one list of
label names per example (``[]`` for none). Without one the oracle is the dataset's own labels (a simulation).

The loop reads train labels only through :class:`LabelStore`: the answers it received, saved in ``state.json``
(``answers``: train row -> positive label columns), so a resumed run never asks again for labels it already has.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from .distributed import broadcast, is_main_process
from .errors import UsageError

Oracle = Callable[[np.ndarray, list], object]


class LabelStore:
    """The train labels received from the oracle; rows never asked for read as all-zero and are never used.

    ``targets`` is float32 of shape (n_train, n_labels); ``answers`` the JSON form kept in the run state.
    """

    def __init__(self, label_names: Sequence[str], original_ids: np.ndarray, texts: Sequence[str],
                 dataset_targets: Optional[np.ndarray], oracle: Optional[Oracle] = None):
        self.label_names = list(label_names)
        self.original_ids = np.asarray(original_ids)
        self.texts = texts
        self.dataset_targets = dataset_targets
        self.oracle = oracle
        self.targets = np.zeros((len(self.original_ids), len(self.label_names)), dtype=np.float32)
        self.asked = np.zeros(len(self.original_ids), dtype=bool)

    def restore(self, answers: Optional[dict], labeled_ids: Sequence[int]) -> None:
        """Load saved answers; a state from before answers were saved was a simulation: the dataset's labels."""
        if answers is None:
            rows = np.asarray(labeled_ids, dtype=np.int64)
            self._store(rows, self.dataset_targets[rows])
            return
        rows = np.asarray([int(row) for row in answers], dtype=np.int64)
        hits = [(int(row), column) for row, columns in answers.items() for column in columns]
        if hits:
            self.targets[tuple(np.asarray(hits, dtype=np.int64).T)] = 1.0
        self.asked[rows] = True

    def answers(self) -> dict[str, list[int]]:
        """{train row: its positive label columns} for every row asked, for ``state.json``."""
        rows = np.flatnonzero(self.asked)
        hit_rows, columns = np.nonzero(self.targets[rows])
        split = np.split(columns, np.searchsorted(hit_rows, np.arange(1, len(rows))))
        return dict(zip(map(str, rows.tolist()), (part.tolist() for part in split)))

    def ask(self, rows: np.ndarray) -> np.ndarray:
        """The labels of train rows ``rows`` (shape (n,)), from the oracle (main process only, then shared)."""
        rows = np.asarray(rows, dtype=np.int64)
        labels = None
        if is_main_process() and len(rows):
            labels = self._answer(rows)
        labels = broadcast(labels) if len(rows) else np.zeros((0, len(self.label_names)), dtype=np.float32)
        self._store(rows, labels)
        return labels

    def _store(self, rows: np.ndarray, labels: np.ndarray) -> None:
        self.targets[rows] = labels
        self.asked[rows] = True

    def _answer(self, rows: np.ndarray) -> np.ndarray:
        if self.oracle is None:
            return np.asarray(self.dataset_targets[rows], dtype=np.float32)
        ids = self.original_ids[rows]
        texts = [self.texts[int(row)] for row in rows]
        return to_multi_hot(self.oracle(ids, texts), self.label_names, len(rows))


def to_multi_hot(answer, label_names: Sequence[str], n: int) -> np.ndarray:
    """An oracle's answer (multi-hot array or label-name lists) as float32 multi-hot of shape (n, n_labels)."""
    columns = {name: j for j, name in enumerate(label_names)}
    if isinstance(answer, np.ndarray) or (hasattr(answer, "shape") and hasattr(answer, "__array__")):
        array = np.asarray(answer)
        if array.shape != (n, len(label_names)):
            raise UsageError(f"the oracle returned an array of shape {array.shape} for {n} examples; return shape "
                             f"({n}, {len(label_names)}) (one 0/1 column per label) or one list of label names each")
        if not np.isin(array, (0, 1)).all():
            raise UsageError("the oracle returned values other than 0 and 1; return a multi-hot array or label names")
        return array.astype(np.float32)
    if answer is None or isinstance(answer, (str, dict)) or not hasattr(answer, "__iter__"):
        raise UsageError(f"the oracle returned {type(answer).__name__}; return a multi-hot array of shape "
                         f"({n}, {len(label_names)}) or one list of label names per example")
    answer = list(answer)
    if len(answer) != n:
        raise UsageError(f"the oracle returned {len(answer)} answers for {n} examples; return one per example")
    targets = np.zeros((n, len(label_names)), dtype=np.float32)
    for i, names in enumerate(answer):
        if isinstance(names, str) or not isinstance(names, (list, tuple, set, np.ndarray)):
            raise UsageError(f"the oracle's answer {i} is {names!r}, not a list of label names; return e.g. "
                             "['sports'] or [] per example, or a multi-hot array")
        for name in names:
            if name not in columns:
                raise UsageError(f"the oracle returned the unknown label {name!r}; use the run's label names "
                                 f"({', '.join(list(label_names)[:6])}{', ...' if len(label_names) > 6 else ''})")
            targets[i, columns[name]] = 1.0
    return targets
