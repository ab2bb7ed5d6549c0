"""Reading annotate's inputs: the unlabeled corpus (JSONL), the label list and an optional labeled seed.

Corpus: one JSON object per line with a text field (``--text_column``, default ``text``) and optionally an
id field (``--id_column``, default ``id``); without ids, the line's row number (0-based) is the id.
Seed: the same, plus a labels field (``--label_column``): a list of label names, or one string of names
joined by ``--label_delimiter``. A seed example whose id is in the corpus labels that corpus row; others
are added to the project as labeled rows. Every problem is one UsageError naming file and line.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ..errors import UsageError


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for each line of a JSONL file (optionally .gz)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} not found; pass an existing JSONL file")
    opener = gzip.open if path.name.endswith(".gz") else open
    rows = []
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{path}, line {line_no}: not valid JSON ({exc.msg}); fix the line") from None
                if not isinstance(obj, dict):
                    raise UsageError(f"{path}, line {line_no}: expected a JSON object per line")
                rows.append((line_no, obj))
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    if not rows:
        raise UsageError(f"{path} holds no examples; pass a JSONL file with one example per line")
    return rows


def read_label_names(path: Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"label list {path} not found; pass a text file with one label name per line")
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not names:
        raise UsageError(f"label list {path} is empty; write one label name per line")
    if len(set(names)) != len(names):
        raise UsageError(f"label list {path} repeats a label; keep each label name once")
    return names


def read_corpus(path: Path, text_field: str, id_field: str) -> tuple[list[str], list[str]]:
    """(ids, texts) of the corpus, in file order."""
    ids, texts = [], []
    for row, (line_no, obj) in enumerate(read_jsonl(path)):
        text = obj.get(text_field)
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"{path}, line {line_no}: no text in field {text_field!r}; fill it or set --text_column")
        ids.append(str(obj[id_field]) if obj.get(id_field) is not None else str(row))
        texts.append(text)
    seen: dict[str, int] = {}
    for row, example_id in enumerate(ids):
        if example_id in seen:
            raise UsageError(f"{path}: id {example_id!r} appears twice (examples {seen[example_id]} and {row}); "
                             "ids must be unique")
        seen[example_id] = row
    return ids, texts


def parse_label_cell(value, delimiter: str) -> list[str] | None:
    """A labels value as a list of names: a list as is, a string split on ``delimiter``; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return [item.strip() for item in value.split(delimiter) if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise ValueError("labels must be a list of label names or one delimited string")


def read_seed(path: Path, text_field: str, id_field: str, label_field: str, delimiter: str,
              label_names: list[str]) -> list[tuple[str, str | None, list[str]]]:
    """(id, text or None, label names) for each labeled seed example."""
    known = set(label_names)
    out = []
    for row, (line_no, obj) in enumerate(read_jsonl(path)):
        try:
            labels = parse_label_cell(obj.get(label_field), delimiter)
        except ValueError as exc:
            raise UsageError(f"{path}, line {line_no}: {exc}") from None
        if labels is None:
            raise UsageError(f"{path}, line {line_no}: no {label_field!r} field; give each seed example its labels")
        unknown = [name for name in labels if name not in known]
        if unknown:
            raise UsageError(f"{path}, line {line_no}: unknown label {unknown[0]!r}; add it to the label list or fix the row")
        example_id = str(obj[id_field]) if obj.get(id_field) is not None else None
        text = obj.get(text_field)
        if example_id is None and not (isinstance(text, str) and text.strip()):
            raise UsageError(f"{path}, line {line_no}: a seed example needs an id from the corpus or a text")
        out.append((example_id if example_id is not None else f"seed-{row}", text, sorted(set(labels))))
    return out
