"""Validating the labels people return for a batch: CSV (as a spreadsheet saves it), JSONL, Label Studio JSON.

CSV: a header row with at least the columns ``id`` and ``labels`` (the file written as to_label.csv has
them; other columns are ignored). The field delimiter may be ``,`` ``;`` or a tab (whatever the
spreadsheet saved). The ``labels`` cell holds label names separated by ``;`` (e.g. ``joy; surprise``);
``-`` means "none of the labels"; an empty cell means "not labeled yet" (the example stays in the pool).
JSONL: one object per line with ``id`` and ``labels`` (a list of names, ``[]`` for none, ``null`` for not
labeled yet). Label Studio: its JSON export (see label_studio.py).

Every row is checked (wrong columns, empty rows, ids not in the batch, duplicate ids, unknown label
names); when any row is bad the whole file is refused with one error listing the offending lines, and
nothing is merged.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..errors import UsageError
from .corpus import parse_label_cell
from .label_studio import read_export

LABEL_DELIMITER = ";"
NONE_MARK = "-"
REQUIRED = ("id", "labels")


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise UsageError(f"{path} not found; pass the file you labeled to --import")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet)") from None


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    text = _read_text(path)
    lines = text.splitlines()
    if not lines:
        raise UsageError(f"{path} is empty; import the to_label.csv you filled in")
    header = lines[0]
    delimiter = next((d for d in (",", ";", "\t") if all(c in [h.strip() for h in header.split(d)] for c in REQUIRED)),
                     None)
    if delimiter is None:
        raise UsageError(f"{path}, line 1: wrong columns (need {', '.join(REQUIRED)}; found {header[:80]!r}); keep the "
                         "header row of to_label.csv")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    reader.fieldnames = [name.strip() for name in reader.fieldnames]
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record or any(record.get(c) is None for c in REQUIRED):
                rows.append((line, {"_malformed": f"wrong columns ({len(record) - (None in record)} cells, header has "
                                    f"{len(reader.fieldnames)})"}))
            elif all(not (v or "").strip() for k, v in record.items()):
                rows.append((line, {"_malformed": "empty row"}))
            else:
                cell = record["labels"].strip()
                labels = None if not cell else [] if cell == NONE_MARK else parse_label_cell(cell, LABEL_DELIMITER)
                rows.append((line, {"id": record["id"].strip(), "labels": labels}))
    except csv.Error as exc:
        raise UsageError(f"{path}, line {reader.line_num}: unreadable CSV ({exc}); fix the quoting") from None
    return rows


def _jsonl_rows(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for line_no, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            rows.append((line_no, {"_malformed": "empty row"}))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            rows.append((line_no, {"_malformed": "not valid JSON"}))
            continue
        if not isinstance(obj, dict) or any(c not in obj for c in REQUIRED):
            rows.append((line_no, {"_malformed": f"wrong columns (need keys {', '.join(REQUIRED)})"}))
            continue
        try:
            labels = parse_label_cell(obj["labels"], LABEL_DELIMITER)
        except ValueError as exc:
            rows.append((line_no, {"_malformed": str(exc)}))
            continue
        rows.append((line_no, {"id": None if obj["id"] is None else str(obj["id"]), "labels": labels}))
    return rows


def read_rows(path: Path) -> tuple[str, list[tuple[int, dict]]]:
    """('line' or 'task', rows) of a returned file, by its suffix."""
    name = path.name.lower()
    if name.endswith(".csv"):
        return "line", _csv_rows(path)
    if name.endswith(".jsonl"):
        return "line", _jsonl_rows(path)
    if name.endswith(".json"):
        return "task", read_export(path)
    raise UsageError(f"{path}: unknown file type; import a .csv, a .jsonl or a Label Studio export (.json)")


def validate_import(path: Path, batch_ids: list[str], label_names: list[str], batch_name: str) -> dict[str, list[str]]:
    """Labels by id for the labeled rows of ``path``; raises one UsageError listing every bad row."""
    path = Path(path)
    unit, rows = read_rows(path)
    in_batch, known = set(batch_ids), set(label_names)
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    labeled: dict[str, list[str]] = {}
    for line, row in rows:
        if "_malformed" in row:
            problems.append((line, row["_malformed"]))
            continue
        example_id, labels = row["id"], row["labels"]
        if not example_id:
            problems.append((line, "no id"))
        elif example_id in seen:
            problems.append((line, f"id {example_id!r} repeats {unit} {seen[example_id]}"))
        elif example_id not in in_batch:
            problems.append((line, f"id {example_id!r} is not in {batch_name}"))
        else:
            seen[example_id] = line
            unknown = [name for name in labels or [] if name not in known and name != NONE_MARK]
            if unknown:
                problems.append((line, f"unknown label {unknown[0]!r}"))
            elif labels is not None and NONE_MARK in labels:
                problems.append((line, f"'{NONE_MARK}' (none of the labels) mixed with labels"))
            elif labels is not None:
                labeled[example_id] = sorted(set(labels))
    if problems:
        numbers = ", ".join(str(line) for line, _ in problems[:50]) + (" ..." if len(problems) > 50 else "")
        details = "; ".join(f"{unit} {line}: {why}" for line, why in problems[:5])
        if unit == "task" and any(" is not in " in why for _, why in problems):
            details += ("; a Label Studio export must hold only this round's tasks: use one Label Studio project "
                        "per round")
        raise UsageError(
            f"{path}: {len(problems)} bad row(s) at {unit}s {numbers}, nothing imported ({details}); fix them "
            f"(label names: see the label list; separate labels with '{LABEL_DELIMITER}', '{NONE_MARK}' for none) "
            "and import again"
        )
    if not labeled:
        raise UsageError(f"{path} labels none of the {len(batch_ids)} examples of {batch_name}; fill in the labels "
                         "column (empty cells mean 'not labeled yet') and import again")
    return labeled
