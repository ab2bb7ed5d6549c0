"""Loading multi-label text data into a ``DatasetDict`` with multi-hot labels.

Sources (``DataArguments.dataset``):

* ``synthetic``: the built-in generator (:mod:`mlal.synthetic`);
* a folder in GoEmotions' original layout (``train.tsv``, ``dev.tsv``, ``test.tsv``, ``emotions.txt``);
* a folder of ``train`` / ``validation`` (or ``dev``) / ``test`` files, or one file, in JSONL (optionally
  gzipped), CSV or Parquet, with a text column and a labels column (read by :mod:`mlal.data_files`);
* a folder written by ``DatasetDict.save_to_disk`` (it holds ``dataset_dict.json``), read with
  ``datasets.load_from_disk``; or, from Python, a ``DatasetDict`` in memory (``run_experiment(dataset=...)``);
* otherwise a Hugging Face Hub dataset name, through ``datasets.load_dataset``.

The result always has splits ``train``, ``validation`` and ``test`` with columns ``text`` (str) and
``labels`` (list of float, multi-hot), plus the label names (label formats: :mod:`mlal.labels`) and each
example's original id (:meth:`MultiLabelData.original_ids`). Missing validation or test splits are carved
from train, and subsamples drawn, by stratification (:mod:`mlal.splits`). Examples without any label
(``[]``) are kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from datasets import Dataset, DatasetDict

from .config import DataArguments
from .data_files import Table, file_suffix, read_goemotions_tsv, read_label_names, read_table
from .errors import UsageError
from .labels import frequent_labels_line, parse_labels
from .splits import Examples, carve, carve_size, check_subsample, subsample
from .synthetic import generate_multilabel_texts

logger = logging.getLogger(__name__)

SPLIT_ALIASES = {"train": ("train",), "validation": ("validation", "valid", "val", "dev"), "test": ("test",)}
LABEL_LIST_FILES = ("labels.txt", "emotions.txt", "label_names.txt")
SPLITS = ("train", "validation", "test")
IN_MEMORY = "in_memory"  # the name of a DatasetDict given in memory (the run folder's default is results/in_memory/...)


@dataclass
class MultiLabelData:
    """Splits with ``text`` and multi-hot ``labels``; ``label_names[j]`` names column j; ``ids[split]`` holds
    the original example ids (kept here, not as a column, so the data collator only sees model inputs)."""

    splits: DatasetDict
    label_names: list[str]
    name: str
    ids: dict[str, np.ndarray] = field(default_factory=dict)

    def targets(self, split: str) -> np.ndarray:
        """Multi-hot labels of a split, float32 array of shape (n_examples, n_labels)."""
        return np.asarray(self.splits[split]["labels"], dtype=np.float32).reshape(-1, len(self.label_names))

    def original_ids(self, split: str) -> np.ndarray:
        """Original id of each example of ``split``, str array of shape (n_examples,), in row order: the
        dataset's id column (``--id_column``, default ``id``), GoEmotions' comment id, or else the 0-based row
        number in the source file. Carved splits keep the ids (row numbers) of the training file."""
        if split in self.ids:
            return self.ids[split]
        return np.arange(len(self.splits[split])).astype(str)


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).suffix != "" or name.count("/") > 1


def dataset_display_name(name: str) -> str:
    path = Path(name)
    return path.stem.split(".")[0] if path.suffix else (path.name or name).replace("/", "_")


# ----------------------------------------------------------------------------- columns of a table
def _texts_of(table: Table, args: DataArguments) -> list[str]:
    text_columns = [c.strip() for c in args.text_column.split(",") if c.strip()]
    for column in text_columns + [args.label_column]:
        if column not in table.columns:
            flag = "--label_column" if column == args.label_column else "--text_column"
            raise UsageError(f"{table.path}: no column {column!r} (columns: {', '.join(table.columns)}); set {flag}")
    parts = [table.columns[column] for column in text_columns]
    texts = []
    for row, values in enumerate(zip(*parts)):
        if any(isinstance(v, (list, dict, tuple)) for v in values):
            raise UsageError(f"{table.where(row)}: the text is a {type(values[0]).__name__}, not a string; "
                             "fix --text_column or the data")
        text = "\n".join("" if v is None else str(v) for v in values)
        if not text.strip():
            raise UsageError(f"{table.where(row)}: empty text; remove the example or fill in its text")
        texts.append(text)
    return texts


def _ids_of(table: Table, args: DataArguments) -> np.ndarray:
    column = args.id_column
    if column is not None and column not in table.columns:
        raise UsageError(f"{table.path}: no id column {column!r} (columns: {', '.join(table.columns)}); "
                         "fix --id_column or leave it out (row numbers are used)")
    if column is None and "id" in table.columns and "id" not in (args.label_column, args.text_column):
        column = "id"
    if column is None:
        return np.arange(len(table)).astype(str)
    values = table.columns[column]
    for row, value in enumerate(values):
        if value is None or not str(value).strip():
            raise UsageError(f"{table.where(row)}: empty id in column {column!r}; fill it in or choose another "
                             "--id_column")
    ids = np.asarray([str(v).strip() for v in values], dtype=str)
    if len(np.unique(ids)) < len(ids):
        logger.warning("%s: column %r repeats ids; acquired examples are still recorded by row too", table.path, column)
    return ids


def _examples_from_tables(
    tables: dict[str, Table], args: DataArguments, known: Optional[list[str]]
) -> tuple[dict[str, Examples], list[str]]:
    texts = {split: _texts_of(table, args) for split, table in tables.items()}
    raw = {split: (table.columns[args.label_column], table.where) for split, table in tables.items()}
    names, labels = parse_labels(raw, known, args.label_format, args.label_delimiter)
    return {split: Examples(texts[split], labels[split], _ids_of(table, args)) for split, table in tables.items()}, names


# ----------------------------------------------------------------------------- sources
Source = tuple[dict[str, Examples], list[str]]


def _load_synthetic(args: DataArguments, seed: int) -> Source:
    texts, labels, names = generate_multilabel_texts(args.synthetic_size, args.synthetic_num_labels, random_state=seed)
    return {"train": Examples(texts, labels, np.arange(len(texts)).astype(str))}, names


def _load_goemotions_folder(folder: Path, args: DataArguments) -> Source:
    names = read_label_names(folder / "emotions.txt", args.encoding)
    tables = {}
    for split, filename in (("train", "train.tsv"), ("validation", "dev.tsv"), ("test", "test.tsv")):
        if (folder / filename).exists():
            table = read_goemotions_tsv(folder / filename, args.encoding)
            if any(value is None for value in table.columns["id"]):
                del table.columns["id"]  # no comment id on every line: row numbers instead
            tables[split] = table
    tsv_args = DataArguments(**{**vars(args), "text_column": "text", "label_column": "labels", "label_delimiter": ","})
    return _examples_from_tables(tables, tsv_args, names)


def _split_files(folder: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(folder.iterdir()):
        suffix = file_suffix(path)
        if not suffix:
            continue
        stem = path.name[: -len(suffix)].lower()
        for split, aliases in SPLIT_ALIASES.items():
            if stem in aliases:
                found.setdefault(split, path)
    return found


def _known_label_names(folder: Optional[Path], args: DataArguments) -> Optional[list[str]]:
    if args.label_names_file:
        path = Path(args.label_names_file)
        if not path.is_file():
            raise UsageError(f"label list {path} not found; fix --label_names_file")
        return read_label_names(path, args.encoding)
    for name in LABEL_LIST_FILES if folder is not None else ():
        if (folder / name).is_file():
            return read_label_names(folder / name, args.encoding)
    return None


def _load_local_files(path: Path, args: DataArguments) -> Source:
    if path.is_dir():
        files = _split_files(path)
        if "train" not in files:
            raise UsageError(
                f"{path} has no train file (train.jsonl, train.csv, train.parquet, ...) and is not in "
                "GoEmotions' layout; add one or point --dataset at a file"
            )
        folder = path
    else:
        files, folder = {"train": path}, None
    tables = {split: read_table(file, args.encoding) for split, file in files.items()}
    return _examples_from_tables(tables, args, _known_label_names(folder, args))


def _load_hub(args: DataArguments, cache_dir: Optional[str]) -> Source:
    from datasets import load_dataset

    try:
        raw = load_dataset(args.dataset, args.dataset_config, cache_dir=cache_dir)
    except Exception as exc:  # network, missing dataset, offline mode
        raise UsageError(
            f"could not load dataset {args.dataset!r} from the Hugging Face Hub ({exc.__class__.__name__}); "
            "check the name, or without internet pass a local copy: --dataset path/to/folder_or_file"
        ) from None
    return _load_dataset_dict(raw, f"dataset {args.dataset!r}", args)


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``DatasetDict.save_to_disk`` (or ``Dataset.save_to_disk``)."""
    return path.is_dir() and ((path / "dataset_dict.json").is_file()
                              or ((path / "dataset_info.json").is_file() and (path / "state.json").is_file()))


def _load_saved_dataset(path: Path, args: DataArguments) -> Source:
    from datasets import load_from_disk

    try:
        raw = load_from_disk(str(path))
    except Exception as exc:
        raise UsageError(f"could not read the saved dataset {path} ({exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0][:120]}); save it again with DatasetDict.save_to_disk") from None
    return _load_dataset_dict(raw, f"saved dataset {path}", args)


def _load_dataset_dict(raw, where: str, args: DataArguments) -> Source:
    """A ``datasets.DatasetDict`` (or one ``Dataset``, taken as train) with the text and labels columns."""
    if isinstance(raw, Dataset):
        raw = DatasetDict({"train": raw})
    if not isinstance(raw, DatasetDict):
        raise UsageError(f"{where} is a {type(raw).__name__}, not a datasets.DatasetDict or Dataset; pass a "
                         "DatasetDict with a train split (and optionally validation and test)")
    feature = raw[next(iter(raw))].features.get(args.label_column) if len(raw) else None
    inner = getattr(feature, "feature", None)
    known = list(inner.names) if inner is not None and hasattr(inner, "names") else _known_label_names(None, args)
    tables = {}
    for split, aliases in SPLIT_ALIASES.items():
        alias = next((a for a in aliases if a in raw), None)
        if alias is not None:
            tables[split] = Table(f"{where}[{alias}]", raw[alias].to_dict(), None)
    if "train" not in tables:
        raise UsageError(f"{where} has no train split (splits: {', '.join(raw) or 'none'}); add one")
    return _examples_from_tables(tables, args, known)


def _load_source(args: DataArguments, seed: int, cache_dir: Optional[str], source=None) -> Source:
    name = args.dataset
    if source is not None:
        return _load_dataset_dict(source, "the given dataset", args)
    if name == "synthetic":
        return _load_synthetic(args, seed)
    path = Path(name).expanduser()
    if path.is_dir() and (path / "train.tsv").is_file() and (path / "emotions.txt").is_file():
        return _load_goemotions_folder(path, args)
    if is_saved_dataset(path):
        return _load_saved_dataset(path, args)
    if path.exists():
        return _load_local_files(path, args)
    if _looks_like_path(name):
        raise UsageError(f"dataset path {name} does not exist; fix --dataset (a folder, a file or a Hub name)")
    return _load_hub(args, cache_dir)


# ----------------------------------------------------------------------------- assembling
def _check_size_options(args: DataArguments) -> None:
    """Refuse nonsense sizes before reading anything."""
    for flag in ("validation_size", "test_size"):
        carve_size(getattr(args, flag), 10**9, flag)
    for flag in ("train_subsample", "validation_subsample", "test_subsample"):
        check_subsample(getattr(args, flag), flag)


def _make_splits(splits: dict[str, Examples], args: DataArguments, seed: int) -> dict[str, Examples]:
    """Subsample train, carve missing validation / test from it, subsample validation and test."""
    train = subsample(splits["train"], args.train_subsample, "train_subsample", "train", seed)
    n = len(train.texts)
    missing = {split: carve_size(getattr(args, f"{split}_size"), n, f"{split}_size")
               for split in ("test", "validation") if split not in splits}
    if missing:
        train, carved = carve(train, missing, seed)
        splits = {**splits, **carved}
    out = {"train": train}
    for k, split in enumerate(("validation", "test"), start=1):
        out[split] = subsample(splits[split], getattr(args, f"{split}_subsample"), f"{split}_subsample", split,
                               seed + 104729 * k)
    return out


def load_multilabel_data(args: DataArguments, seed: int, cache_dir: Optional[str] = None,
                         source: Optional[DatasetDict] = None) -> MultiLabelData:
    """Load ``args.dataset`` (or ``source``, a ``DatasetDict`` in memory) as train / validation / test with
    multi-hot labels (see module docstring)."""
    _check_size_options(args)
    splits, names = _load_source(args, seed, cache_dir, source)
    if not names:
        raise UsageError(f"dataset {args.dataset!r} has no labels; check --label_column and --label_format")
    everything = np.concatenate([examples.labels for examples in splits.values()])
    name = IN_MEMORY if source is not None else dataset_display_name(args.dataset)
    logger.info("%s: %s", name, frequent_labels_line(names, everything))
    splits = _make_splits(splits, args, seed)
    dataset = DatasetDict(
        {split: Dataset.from_dict({"text": splits[split].texts, "labels": splits[split].labels.astype(np.float32).tolist()})
         for split in SPLITS}
    )
    return MultiLabelData(dataset, list(names), name,
                          {split: splits[split].ids for split in SPLITS})
