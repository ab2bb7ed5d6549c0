"""Label cells to multi-hot matrices, with the label format decided explicitly (``--label_format``).

Accepted formats:

* ``names``: each example lists label names (a list, or one string split on ``--label_delimiter``);
* ``ids``: each example lists integer ids into the label list (``--label_names_file``, a ``labels.txt``
  beside the data, the Hub's ClassLabel names), or, without a list, ids 0..max that all occur;
* ``multi_hot``: each example is a 0/1 vector with one entry per label.

``auto`` (the default) detects the format and refuses what is ambiguous, in one line that shows an
example and the flag that resolves it: names mixed with numbers, multi-hot-looking vectors whose label
count is unknown, numeric codes that would create unused labels (``"100"`` ... ``"1000"`` as ids would
make 1,001 labels). A cell holding a list literal (``["a", "b"]``, ``[0, 1]``, as pandas writes lists to
CSV) is read as that list; ``[]`` is an example without labels. A missing or empty cell is refused.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .errors import UsageError

LABEL_FORMATS = ("auto", "names", "ids", "multi_hot")
_INTEGER = re.compile(r"[+-]?\d+")

Where = Callable[[int], str]  # row -> "file, line N" for messages


def _int_like(item: Any) -> Optional[int]:
    """The integer an item stands for (ints, integral floats, digit strings), else None."""
    if isinstance(item, (bool, np.bool_, int, np.integer)):
        return int(item)
    if isinstance(item, (float, np.floating)) and np.isfinite(item) and float(item).is_integer():
        return int(item)
    if isinstance(item, str) and _INTEGER.fullmatch(item.strip()):
        return int(item)
    return None


def _list_literal(text: str, where: str) -> list:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(f"{where}: label cell {text!r} looks like a list but is not a list literal; quote the "
                         "names (['a', 'b']) or write them as one string split on --label_delimiter") from None
    if not isinstance(value, (list, tuple)):
        raise UsageError(f"{where}: label cell {text!r} is not a list; write ['a', 'b'] or a delimited string")
    return list(value)


def cell_items(value: Any, delimiter: str, where: str) -> list:
    """The label items of one cell: a list as is, a list literal parsed, a string split on ``delimiter``,
    a scalar as a one-item list. A missing or empty cell raises :class:`UsageError`."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        raise UsageError(f"{where}: the label cell is missing; fill in the labels, or write [] for an example "
                         "without labels")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise UsageError(f"{where}: the label cell is empty; fill in the labels, or write [] for an example "
                             "without labels")
        if text.startswith("[") and text.endswith("]"):
            return _list_literal(text, where)
        return [item.strip() for item in text.split(delimiter) if item.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    return [value]


def _is_name(item: Any, known: set) -> bool:
    return isinstance(item, str) and (item.strip() in known or _int_like(item) is None)


class _Cells:
    """Parsed label items of every split, with where each row is, for detection and messages."""

    def __init__(self, raw: dict[str, tuple[Sequence[Any], Where]], delimiter: str):
        self.items = {split: [cell_items(v, delimiter, where(i)) for i, v in enumerate(cells)]
                      for split, (cells, where) in raw.items()}
        self.raw = raw

    def rows(self):
        """(split, row, items) for every example."""
        for split, rows in self.items.items():
            for i, items in enumerate(rows):
                yield split, i, items

    def example(self, split: str, row: int) -> str:
        cells, where = self.raw[split]
        value = cells[row]
        shown = list(value) if isinstance(value, np.ndarray) else value
        return f"{where(row)}: labels {shown!r}"


def _check_items(cells: _Cells) -> None:
    for split, row, items in cells.rows():
        for item in items:
            if not isinstance(item, str) and _int_like(item) is None:
                raise UsageError(f"{cells.example(split, row)}: {item!r} is neither a label name nor an integer "
                                 "id; fix the data")


def _vector_shape(cells: _Cells) -> tuple[bool, int, bool]:
    """(every row a 0/1 vector of one length >= 2, that length, some row repeats a value)."""
    lengths, repeats = set(), False
    for _, _, items in cells.rows():
        values = [_int_like(item) for item in items]
        if any(v not in (0, 1) for v in values):
            return False, 0, False
        lengths.add(len(values))
        repeats |= len(set(values)) < len(values)
    length = lengths.pop() if len(lengths) == 1 else 0
    return length >= 2, length, repeats


def _first(cells: _Cells, test: Callable[[list], bool]) -> str:
    for split, row, items in cells.rows():
        if test(items):
            return cells.example(split, row)
    return ""


def detect_format(cells: _Cells, known: Optional[list[str]]) -> str:
    """The label format of ``cells`` (see module docstring); ambiguous data raises :class:`UsageError`."""
    known_set = set(known or ())
    has_name = any(_is_name(i, known_set) for _, _, items in cells.rows() for i in items)
    has_number = any(not _is_name(i, known_set) for _, _, items in cells.rows() for i in items)
    if has_name and has_number:
        name_row = _first(cells, lambda items: any(_is_name(i, known_set) for i in items))
        number_row = _first(cells, lambda items: any(not _is_name(i, known_set) for i in items))
        raise UsageError(f"labels mix names and numbers ({name_row}; {number_row}); pass --label_format names if "
                         "the numbers are label names, or fix the data so every example uses names or every one ids")
    if not has_number:
        return "names"
    vector, length, repeats = _vector_shape(cells)
    if vector and known is not None and length == len(known) and repeats:
        return "multi_hot"
    if vector and (repeats or (known is not None and length == len(known))):
        count = f"the label list has {len(known)} names" if known is not None else "the label count is unknown"
        raise UsageError(f"labels look like multi-hot vectors of length {length} but {count} "
                         f"({_first(cells, bool)}); pass --label_format multi_hot (with --label_names_file of "
                         f"{length} names, or names 0..{length - 1}) or --label_format ids if they are ids")
    return "ids"


def _unused_ids_check(cells: _Cells, ids: set) -> None:
    top = max(ids)
    unused = top + 1 - len(ids)
    if min(ids) < 0:
        example = _first(cells, lambda items: any(_int_like(i) == min(ids) for i in items))
        raise UsageError(f"label id {min(ids)} is negative ({example}); fix the data, or pass --label_format names "
                         "if the numbers are label names")
    if unused > 0:
        example = _first(cells, lambda items: any(_int_like(i) == top for i in items))
        raise UsageError(f"numeric labels as ids would make {top + 1} labels (0..{top}) of which {unused} never "
                         f"occur ({example}); pass --label_format names if they are codes, or give the label list "
                         "with --label_names_file (and --label_format ids) if they are ids")


def _sorted_names(names: set) -> list[str]:
    if all(_int_like(n) is not None for n in names):
        return sorted(names, key=lambda n: int(n))
    return sorted(names)


def _name_of(item: Any) -> str:
    number = None if isinstance(item, str) else _int_like(item)
    return str(number) if number is not None else str(item).strip()


def label_names_for(cells: _Cells, known: Optional[list[str]], label_format: str, refuse_unused_ids: bool) -> list[str]:
    """The label list: ``known`` if given, else derived from the data in ``label_format`` (ids: 0..max,
    refusing ids that leave labels unused when ``refuse_unused_ids``)."""
    if known is not None:
        return list(known)
    if label_format == "names":
        return _sorted_names({_name_of(i) for _, _, items in cells.rows() for i in items})
    if label_format == "multi_hot":
        lengths = {len(items) for _, _, items in cells.rows()}
        if len(lengths) != 1:
            raise UsageError(f"multi-hot label vectors differ in length ({sorted(lengths)[:2]}); give every "
                             "example one entry per label")
        return [str(j) for j in range(lengths.pop())]
    ids = {_int_like(i) for _, _, items in cells.rows() for i in items}
    if not ids:
        return []
    if refuse_unused_ids:
        _unused_ids_check(cells, ids)
    return [str(j) for j in range(max(ids) + 1)]


def _row_columns(items: list, names: list[str], index: dict, label_format: str, where: str) -> list[int]:
    if label_format == "multi_hot":
        values = [_int_like(item) for item in items]
        if len(values) != len(names) or any(v not in (0, 1) for v in values):
            raise UsageError(f"{where}: {items!r} is not a 0/1 vector of {len(names)} labels; fix the row or "
                             "--label_format")
        return [j for j, v in enumerate(values) if v]
    columns = []
    for item in items:
        if label_format == "ids":
            j = _int_like(item)
            if j is None:
                raise UsageError(f"{where}: label {item!r} is not an integer id; fix the data or pass "
                                 "--label_format names")
            if not 0 <= j < len(names):
                raise UsageError(f"{where}: label id {j} is outside 0..{len(names) - 1}; fix the data or give the "
                                 "full label list with --label_names_file")
        else:
            j = index.get(_name_of(item))
            if j is None:
                raise UsageError(f"{where}: unknown label {item!r}; add it to the label list (--label_names_file) "
                                 "or fix the data")
        columns.append(j)
    return columns


def parse_labels(
    raw: dict[str, tuple[Sequence[Any], Where]],
    known: Optional[list[str]],
    label_format: str = "auto",
    delimiter: str = ",",
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Label names and, per split, a float32 multi-hot matrix of shape (n_examples, n_labels).

    ``raw`` maps a split to its label cells and a function giving the place of a row for messages;
    ``known`` is the label list when the data comes with one.
    """
    if label_format not in LABEL_FORMATS:
        raise UsageError(f"unknown --label_format {label_format!r}; use one of {', '.join(LABEL_FORMATS)}")
    cells = _Cells(raw, delimiter)
    _check_items(cells)
    fmt = detect_format(cells, known) if label_format == "auto" else label_format
    names = label_names_for(cells, known, fmt, refuse_unused_ids=label_format == "auto")
    index = {name: j for j, name in enumerate(names)}
    matrices = {}
    for split, rows in cells.items.items():
        out = np.zeros((len(rows), len(names)), dtype=np.float32)
        where = raw[split][1]
        for i, items in enumerate(rows):
            out[i, _row_columns(items, names, index, fmt, where(i))] = 1.0
        matrices[split] = out
    return names, matrices


def frequent_labels_line(names: Sequence[str], targets: np.ndarray, k: int = 5) -> str:
    """'N labels; most frequent: a (120), b (80), ...' over the rows of ``targets`` (n, L)."""
    counts = Counter(dict(zip(names, np.asarray(targets).sum(axis=0).astype(int).tolist())))
    top = ", ".join(f"{name} ({count})" for name, count in counts.most_common(k))
    return f"{len(names)} labels; most frequent: {top}"
