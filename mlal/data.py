"""Loading multi-label text data into a ``DatasetDict`` with multi-hot labels.

Sources (``DataArguments.dataset``):

* ``synthetic``: the built-in generator (:mod:`mlal.synthetic`);
* a folder in GoEmotions' original layout (``train.tsv``, ``dev.tsv``, ``test.tsv``, ``emotions.txt``);
* a folder of ``train`` / ``validation`` (or ``dev``) / ``test`` files, or one file, in JSONL (optionally
  gzipped), CSV or Parquet, with a text column and a labels column;
* otherwise a Hugging Face Hub dataset name, through ``datasets.load_dataset``.

The result always has splits ``train``, ``validation`` and ``test`` with columns ``text`` (str) and
``labels`` (list of float, multi-hot), plus the label names. Missing validation or test splits are
carved from train with a seeded permutation. Examples without any label are kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
from datasets import Dataset, DatasetDict

from .config import DataArguments
from .errors import UsageError
from .synthetic import generate_multilabel_texts

logger = logging.getLogger(__name__)

SPLIT_ALIASES = {"train": ("train",), "validation": ("validation", "valid", "val", "dev"), "test": ("test",)}
FILE_SUFFIXES = {".jsonl": "json", ".json": "json", ".jsonl.gz": "json", ".json.gz": "json", ".csv": "csv",
                 ".csv.gz": "csv", ".parquet": "parquet"}
LABEL_LIST_FILES = ("labels.txt", "emotions.txt", "label_names.txt")


@dataclass
class MultiLabelData:
    """Splits with ``text`` and multi-hot ``labels``; ``label_names[j]`` names column j."""

    splits: DatasetDict
    label_names: list[str]
    name: str

    def targets(self, split: str) -> np.ndarray:
        """Multi-hot labels of a split, float32 array of shape (n_examples, n_labels)."""
        return np.asarray(self.splits[split]["labels"], dtype=np.float32).reshape(-1, len(self.label_names))

    def original_ids(self, split: str) -> np.ndarray:
        """Each example's id in its source (str array of shape (n_examples,)). Stand-in: the row number."""
        return np.arange(len(self.splits[split])).astype(str)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return ""


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).suffix != "" or name.count("/") > 1


def dataset_display_name(name: str) -> str:
    path = Path(name)
    return path.stem.split(".")[0] if path.suffix else (path.name or name).replace("/", "_")


# ----------------------------------------------------------------------------- label parsing
def read_label_names(path: Path) -> list[str]:
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(set(names)) != len(names):
        raise UsageError(f"label list {path} repeats a label; keep each label name once")
    return names


def _as_label_items(value: Any, delimiter: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(delimiter) if item.strip()]
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    return list(value)


def labels_to_multi_hot(
    raw_labels: Sequence[Any], label_names: Sequence[str], delimiter: str, where: str
) -> np.ndarray:
    """Turn per-example label lists (names, ids or delimited strings) into a multi-hot matrix.

    Integers (or digit strings, when no label is itself a digit string) are ids into ``label_names``.
    An unknown name or an out-of-range id raises :class:`UsageError` naming the example.
    """
    index = {name: j for j, name in enumerate(label_names)}
    ids_as_digits = not any(name.isdigit() for name in label_names)
    out = np.zeros((len(raw_labels), len(label_names)), dtype=np.float32)
    for row, value in enumerate(raw_labels):
        for item in _as_label_items(value, delimiter):
            if isinstance(item, (int, np.integer)) or (ids_as_digits and isinstance(item, str) and item.isdigit()):
                j = int(item)
                if not 0 <= j < len(label_names):
                    raise UsageError(
                        f"{where}, example {row}: label id {j} is outside 0..{len(label_names) - 1}; "
                        "fix the data or give the full label list with --label_names_file"
                    )
            else:
                j = index.get(str(item))
                if j is None:
                    raise UsageError(
                        f"{where}, example {row}: unknown label {item!r}; add it to the label list "
                        "(--label_names_file) or fix the data"
                    )
            out[row, j] = 1.0
    return out


def infer_label_names(columns: Iterable[Sequence[Any]], delimiter: str) -> list[str]:
    seen = set()
    for column in columns:
        for value in column:
            seen.update(str(item) for item in _as_label_items(value, delimiter))
    if seen and all(s.isdigit() for s in seen):
        return [str(i) for i in range(max(int(s) for s in seen) + 1)]
    return sorted(seen)


def _check_texts(texts: Sequence[Any], where: str) -> list[str]:
    out = []
    for row, text in enumerate(texts):
        if text is None or not str(text).strip():
            raise UsageError(f"{where}, example {row}: empty text; remove the example or fill in its text")
        out.append(str(text))
    return out


# ----------------------------------------------------------------------------- sources
def _load_synthetic(args: DataArguments, seed: int) -> tuple[dict[str, tuple[list[str], np.ndarray]], list[str]]:
    texts, labels, names = generate_multilabel_texts(args.synthetic_size, args.synthetic_num_labels, random_state=seed)
    return {"train": (texts, labels)}, names


def _load_goemotions_folder(folder: Path) -> tuple[dict[str, tuple[list[str], np.ndarray]], list[str]]:
    names = read_label_names(folder / "emotions.txt")
    splits = {}
    for split, filename in (("train", "train.tsv"), ("validation", "dev.tsv"), ("test", "test.tsv")):
        path = folder / filename
        if not path.exists():
            continue
        texts, raw = [], []
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            parts = line.split("\t")
            if len(parts) < 2:
                raise UsageError(f"{path}, line {line_no + 1}: expected 'text<TAB>label ids'; fix the file")
            texts.append(parts[0])
            raw.append(parts[1])
        where = str(path)
        splits[split] = (_check_texts(texts, where), labels_to_multi_hot(raw, names, ",", where))
    return splits, names


def _split_files(folder: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(folder.iterdir()):
        suffix = _suffix(path)
        if not suffix:
            continue
        stem = path.name[: -len(suffix)].lower()
        for split, aliases in SPLIT_ALIASES.items():
            if stem in aliases:
                found.setdefault(split, path)
    return found


def _read_table(path: Path):
    from datasets import load_dataset

    builder = FILE_SUFFIXES[_suffix(path)]
    return load_dataset(builder, data_files=str(path), split="train")


def _columns_of(table, args: DataArguments, where: str) -> tuple[list[str], list]:
    text_columns = [c.strip() for c in args.text_column.split(",") if c.strip()]
    for column in text_columns + [args.label_column]:
        if column not in table.column_names:
            flag = "--label_column" if column == args.label_column else "--text_column"
            raise UsageError(
                f"{where}: no column {column!r} (columns: {', '.join(table.column_names)}); set {flag}"
            )
    if len(text_columns) == 1:
        texts = list(table[text_columns[0]])
    else:
        parts = [table[column] for column in text_columns]
        texts = ["\n".join(str(value or "") for value in values) for values in zip(*parts)]
    return _check_texts(texts, where), list(table[args.label_column])


def _label_names_for(folder: Optional[Path], args: DataArguments, label_columns: list[list]) -> list[str]:
    if args.label_names_file:
        path = Path(args.label_names_file)
        if not path.is_file():
            raise UsageError(f"label list {path} not found; fix --label_names_file")
        return read_label_names(path)
    if folder is not None:
        for name in LABEL_LIST_FILES:
            if (folder / name).is_file():
                return read_label_names(folder / name)
    return infer_label_names(label_columns, args.label_delimiter)


def _load_local_files(path: Path, args: DataArguments) -> tuple[dict[str, tuple[list[str], np.ndarray]], list[str]]:
    if path.is_dir():
        files = _split_files(path)
        if "train" not in files:
            raise UsageError(
                f"{path} has no train file (train.jsonl, train.csv, train.parquet, ...) and is not in "
                "GoEmotions' layout; add one or point --dataset at a file"
            )
        folder = path
    else:
        if not _suffix(path):
            raise UsageError(f"{path}: unsupported file type; use JSONL, CSV or Parquet")
        files, folder = {"train": path}, None
    columns = {split: _columns_of(_read_table(file), args, str(file)) for split, file in files.items()}
    names = _label_names_for(folder, args, [labels for _, labels in columns.values()])
    splits = {
        split: (texts, labels_to_multi_hot(labels, names, args.label_delimiter, str(files[split])))
        for split, (texts, labels) in columns.items()
    }
    return splits, names


def _load_hub(args: DataArguments, cache_dir: Optional[str]) -> tuple[dict[str, tuple[list[str], np.ndarray]], list[str]]:
    from datasets import load_dataset

    try:
        raw = load_dataset(args.dataset, args.dataset_config, cache_dir=cache_dir)
    except Exception as exc:  # network, missing dataset, offline mode
        raise UsageError(
            f"could not load dataset {args.dataset!r} from the Hugging Face Hub ({exc.__class__.__name__}); "
            "check the name, or without internet pass a local copy: --dataset path/to/folder_or_file"
        ) from None
    names = None
    feature = raw[next(iter(raw))].features.get(args.label_column)
    inner = getattr(feature, "feature", None)
    if inner is not None and hasattr(inner, "names"):
        names = list(inner.names)
    elif args.label_names_file:
        names = read_label_names(Path(args.label_names_file))
    splits_raw = {}
    for split, aliases in SPLIT_ALIASES.items():
        for alias in aliases:
            if alias in raw:
                splits_raw[split] = _columns_of(raw[alias], args, f"{args.dataset}[{alias}]")
                break
    if "train" not in splits_raw:
        raise UsageError(f"dataset {args.dataset!r} has no train split (splits: {', '.join(raw)}); use another dataset")
    if names is None:
        names = infer_label_names([labels for _, labels in splits_raw.values()], args.label_delimiter)
    return {
        split: (texts, labels_to_multi_hot(labels, names, args.label_delimiter, f"{args.dataset}[{split}]"))
        for split, (texts, labels) in splits_raw.items()
    }, names


# ----------------------------------------------------------------------------- assembling
def _size(value: float, n: int) -> int:
    return int(round(value * n)) if 0 < value < 1 else int(value)


def load_multilabel_data(args: DataArguments, seed: int, cache_dir: Optional[str] = None) -> MultiLabelData:
    """Load ``args.dataset`` as train / validation / test with multi-hot labels (see module docstring)."""
    name = args.dataset
    if name == "synthetic":
        splits, names = _load_synthetic(args, seed)
    else:
        path = Path(name).expanduser()
        if path.is_dir() and (path / "train.tsv").is_file() and (path / "emotions.txt").is_file():
            splits, names = _load_goemotions_folder(path)
        elif path.exists():
            splits, names = _load_local_files(path, args)
        elif _looks_like_path(name):
            raise UsageError(f"dataset path {name} does not exist; fix --dataset (a folder, a file or a Hub name)")
        else:
            splits, names = _load_hub(args, cache_dir)
    if not names:
        raise UsageError(f"dataset {name!r} has no labels; check --label_column")

    rng = np.random.default_rng(seed)
    train_texts, train_labels = splits["train"]
    if args.train_subsample and args.train_subsample < len(train_texts):
        keep = np.sort(rng.permutation(len(train_texts))[: args.train_subsample])
        train_texts, train_labels = [train_texts[i] for i in keep], train_labels[keep]
    for split, size_arg in (("test", args.test_size), ("validation", args.validation_size)):
        if split in splits:
            continue
        n = len(train_texts)
        size = _size(size_arg, n)
        if not 0 < size < n:
            raise UsageError(f"cannot carve a {split} split of {size} from {n} training examples; fix --{split}_size")
        order = rng.permutation(n)
        carved, kept = np.sort(order[:size]), np.sort(order[size:])
        splits[split] = ([train_texts[i] for i in carved], train_labels[carved])
        train_texts, train_labels = [train_texts[i] for i in kept], train_labels[kept]
        logger.info("no %s split: carved %d examples from train (seed %d)", split, size, seed)
    splits["train"] = (train_texts, train_labels)
    for split, limit in (("validation", args.validation_subsample), ("test", args.test_subsample)):
        texts, labels = splits[split]
        if limit and limit < len(texts):
            keep = np.sort(rng.permutation(len(texts))[:limit])
            splits[split] = ([texts[i] for i in keep], labels[keep])
    dataset = DatasetDict(
        {
            split: Dataset.from_dict({"text": texts, "labels": labels.astype(np.float32).tolist()})
            for split, (texts, labels) in ((s, splits[s]) for s in ("train", "validation", "test"))
        }
    )
    return MultiLabelData(dataset, list(names), dataset_display_name(name))
