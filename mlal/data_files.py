"""Reading local data files into column tables, with one clear line for every file that cannot be read.

Formats: JSON lines (``.jsonl``; ``.json`` holding JSON lines or one JSON array of objects), CSV and
GoEmotions' TSV, each optionally gzipped (``.gz``), and Parquet. Text is decoded with ``--encoding``
(default UTF-8; a UTF-8 byte-order mark is skipped). Any problem raises :class:`UsageError` naming the
file, the line where known and what to fix, before anything is written.

JSON is parsed line by line with the standard library (datasets' JSON builder reports a malformed line
as a 30-line Arrow traceback without its line number); CSV with the standard ``csv`` module in strict
mode, every cell kept as a string (no "NA" turned into a missing value); Parquet with pyarrow.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import UsageError

FILE_SUFFIXES = {".jsonl": "json", ".json": "json", ".jsonl.gz": "json", ".json.gz": "json", ".csv": "csv",
                 ".csv.gz": "csv", ".parquet": "parquet"}


@dataclass
class Table:
    """Columns of equal length read from ``path``; ``lines[i]`` is the 1-based line where row i starts
    (None for formats without lines, e.g. Parquet)."""

    path: str
    columns: dict[str, list]
    lines: Optional[list[int]] = None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def where(self, row: int) -> str:
        """Where row ``row`` (0-based) is, for error messages: the file and its line or row number."""
        if self.lines is not None:
            return f"{self.path}, line {self.lines[row]}"
        return f"{self.path}, row {row + 1}"


def file_suffix(path: Path) -> str:
    """The data-file suffix of ``path`` (longest match of FILE_SUFFIXES, e.g. '.jsonl.gz'), or ''."""
    name = path.name.lower()
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return ""


# ----------------------------------------------------------------------------- bytes and text
def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when its name ends in .gz."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file ({exc.strerror or exc}); check the path and its permissions") from None
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except gzip.BadGzipFile:
            raise UsageError(f"{path}: not a gzip file although its name ends in .gz; gzip it or drop the .gz") from None
        except (EOFError, zlib.error) as exc:
            raise UsageError(f"{path}: the gzip data is truncated or corrupt ({exc}); re-create the file") from None
    return data


def decode(data: bytes, path: Path, encoding: str) -> str:
    """``data`` decoded with ``encoding``; undecodable bytes are refused naming their line."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"unknown text encoding {encoding!r}; fix --encoding (e.g. utf-8, latin-1, cp1252)") from None
    try:
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{path}, line {line}: byte 0x{data[exc.start]:02x} is not valid {encoding}; re-save the file as "
            f"{encoding} or pass its encoding with --encoding (e.g. latin-1)"
        ) from None


def read_text(path: Path, encoding: str) -> str:
    """The decoded text of ``path``; an empty (or blank) file is refused."""
    text = decode(read_bytes(path), path, encoding)
    if not text.strip():
        raise UsageError(f"{path}: the file is empty; fill it in or remove it")
    return text


def read_label_names(path: Path, encoding: str = "utf-8") -> list[str]:
    """One label name per line (blank lines skipped); each name once."""
    names = [line.strip() for line in read_text(path, encoding).splitlines() if line.strip()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UsageError(f"label list {path} repeats the label {repeated[0]!r}; keep each label name once")
    return names


# ----------------------------------------------------------------------------- formats
def _rows_to_table(path: Path, rows: list[dict], lines: list[int]) -> Table:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return Table(str(path), {name: [row.get(name) for row in rows] for name in names}, lines)


def _json_object(value: Any, path: Path, line: int) -> dict:
    if not isinstance(value, dict):
        raise UsageError(f"{path}, line {line}: expected a JSON object ({{\"text\": ..., \"labels\": ...}}), "
                         f"got {type(value).__name__}; write one object per line")
    return value


def read_json(path: Path, encoding: str) -> Table:
    """JSON lines (one object per line, blank lines skipped) or one JSON array of objects."""
    text = read_text(path, encoding)
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}); fix the file") from None
        rows = [_json_object(r, path, 1) for r in records]
        return _rows_to_table(path, rows, None)
    rows, lines = [], []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}, line {line_no}: not valid JSON ({exc.msg} at column {exc.colno}); "
                             "fix the line (one JSON object per line)") from None
        rows.append(_json_object(value, path, line_no))
        lines.append(line_no)
    return _rows_to_table(path, rows, lines)


def _csv_records(text: str, path: Path, delimiter: str):
    """Yield (start line, cells) per record; a broken quote or a malformed record names its line."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UsageError(f"{path}, line {start}: malformed CSV ({exc}); close the quote or quote the cell "
                             "(a cell with quotes, commas or line breaks goes in double quotes, inner quotes doubled)") from None
        if record:
            yield start, record


def read_csv(path: Path, encoding: str, delimiter: str = ",") -> Table:
    """CSV with a header row; every cell a string; a record with the wrong number of cells is refused."""
    records = _csv_records(read_text(path, encoding), path, delimiter)
    _, header = next(records)
    header = [name.strip() for name in header]
    if len(set(header)) != len(header):
        raise UsageError(f"{path}, line 1: the header repeats a column name; give each column its own name")
    columns: dict[str, list] = {name: [] for name in header}
    lines = []
    for line, record in records:
        if len(record) != len(header):
            raise UsageError(f"{path}, line {line}: {len(record)} cells but the header has {len(header)}; quote "
                             "cells that contain the delimiter or fill in the missing cells")
        for name, cell in zip(header, record):
            columns[name].append(cell)
        lines.append(line)
    return Table(str(path), columns, lines)


def read_parquet(path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise UsageError(f"{path}: not a readable Parquet file ({reason}); re-export it as Parquet or use JSONL/CSV") from None
    return Table(str(path), table.to_pydict(), None)


def read_table(path: Path, encoding: str = "utf-8") -> Table:
    """Read a JSON/JSONL/CSV/Parquet file (see module docstring); refuse a file with no examples."""
    kind = FILE_SUFFIXES.get(file_suffix(path))
    if kind is None:
        raise UsageError(f"{path}: unsupported file type; use JSONL (.jsonl, .jsonl.gz), CSV (.csv, .csv.gz) or Parquet")
    if kind == "json":
        table = read_json(path, encoding)
    elif kind == "csv":
        table = read_csv(path, encoding)
    else:
        table = read_parquet(path)
    if len(table) == 0:
        raise UsageError(f"{path}: no examples in the file; add some or remove the file")
    return table


def read_goemotions_tsv(path: Path, encoding: str = "utf-8") -> Table:
    """GoEmotions' TSV: ``text<TAB>comma-separated label ids<TAB>comment id`` per line, no header."""
    columns: dict[str, list] = {"text": [], "labels": [], "id": []}
    lines = []
    for line_no, line in enumerate(read_text(path, encoding).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise UsageError(f"{path}, line {line_no}: expected 'text<TAB>label ids<TAB>comment id'; fix the line")
        columns["text"].append(parts[0])
        columns["labels"].append(parts[1])
        columns["id"].append(parts[2].strip() if len(parts) > 2 and parts[2].strip() else None)
        lines.append(line_no)
    return Table(str(path), columns, lines)
