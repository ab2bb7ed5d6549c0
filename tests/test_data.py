import json

import numpy as np
import pandas as pd
import pytest

from mlal.config import DataArguments
from mlal.data import load_multilabel_data
from mlal.errors import UsageError


def _load(dataset, **kw):
    return load_multilabel_data(DataArguments(dataset=str(dataset), **kw), seed=0)


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


ROWS = [{"text": f"text number {i}", "labels": [["a"], ["b", "c"], [], ["a", "c"]][i % 4]} for i in range(40)]


def test_goemotions_layout(tmp_path):
    (tmp_path / "emotions.txt").write_text("joy\nanger\nneutral\n")
    for split, n in (("train", 30), ("dev", 5), ("test", 6)):
        (tmp_path / f"{split}.tsv").write_text("".join(f"hello {i}\t{i % 3},{(i + 1) % 3}\tid{i}\n" for i in range(n)))
    data = _load(tmp_path)
    assert data.label_names == ["joy", "anger", "neutral"]
    assert [len(data.splits[s]) for s in ("train", "validation", "test")] == [30, 5, 6]
    assert data.targets("train")[0].tolist() == [1, 1, 0]  # "0,1"
    assert data.targets("train")[2].tolist() == [1, 0, 1]  # "2,0"


def test_jsonl_folder_with_label_names_and_carved_splits(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", ROWS)
    data = _load(tmp_path, validation_size=0.1, test_size=8)
    assert data.label_names == ["a", "b", "c"]  # inferred, sorted
    assert [len(data.splits[s]) for s in ("train", "validation", "test")] == [28, 4, 8]  # 0.1 of all 40
    all_targets = np.concatenate([data.targets(s) for s in ("train", "validation", "test")])
    assert (all_targets.sum(axis=1) == 0).sum() == 10  # examples with no label are kept
    again = _load(tmp_path, validation_size=0.1, test_size=8)
    assert data.splits["test"]["text"] == again.splits["test"]["text"]  # seeded


def test_csv_with_delimited_string_and_label_file(tmp_path):
    pd.DataFrame({"body": [f"doc {i}" for i in range(20)], "tags": ["x|y", "y", "[]", "z|x"] * 5}).to_csv(
        tmp_path / "train.csv", index=False
    )
    (tmp_path / "test.csv").write_text("body,tags\nhello,z\n")
    (tmp_path / "labels.txt").write_text("x\ny\nz\nw\n")
    data = _load(tmp_path, text_column="body", label_column="tags", label_delimiter="|", validation_size=4)
    assert data.label_names == ["x", "y", "z", "w"]
    assert data.targets("test").tolist() == [[0, 0, 1, 0]]
    assert len(data.splits["validation"]) == 4


def test_parquet_single_file_with_label_ids_and_joined_text_columns(tmp_path):
    path = tmp_path / "data.parquet"
    pd.DataFrame(
        {"title": [f"t{i}" for i in range(30)], "body": [f"b{i}" for i in range(30)], "labels": [[0, 2], [1]] * 15}
    ).to_parquet(path)
    data = _load(path, text_column="title,body")
    assert data.label_names == ["0", "1", "2"]
    assert data.splits["train"]["text"][0].split("\n")[0].startswith("t")
    assert sum(len(data.splits[s]) for s in ("train", "validation", "test")) == 30


def test_reuters_modapte(reuters_dir):
    data = _load(reuters_dir, validation_size=500)
    assert len(data.label_names) == 90
    assert len(data.splits["test"]) == 3019 and len(data.splits["train"]) == 7770 - 500
    assert data.targets("test").sum(axis=1).mean() == pytest.approx(1.241, abs=0.01)


def test_goemotions_shared_copy(goemotions_dir):
    data = _load(goemotions_dir, train_subsample=300)
    assert len(data.label_names) == 28 and len(data.splits["train"]) == 300
    assert len(data.splits["validation"]) == 5426


@pytest.mark.parametrize(
    "rows, kwargs, message",
    [
        ([{"text": "a", "labels": ["a"]}] * 20, {"label_column": "tags"}, "no column 'tags'"),
        ([{"body": "a", "labels": ["a"]}] * 20, {}, "no column 'text'"),
        ([{"text": "", "labels": ["a"]}] * 20, {}, "empty text"),
    ],
)
def test_bad_columns_and_texts(tmp_path, rows, kwargs, message):
    _write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(UsageError, match=message):
        _load(tmp_path, **kwargs)


def test_unknown_label_name(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", ROWS)
    (tmp_path / "labels.txt").write_text("a\nb\n")
    with pytest.raises(UsageError, match="unknown label 'c'"):
        _load(tmp_path)


def test_label_id_out_of_range(tmp_path):
    (tmp_path / "emotions.txt").write_text("joy\nanger\n")
    (tmp_path / "train.tsv").write_text("hi\t0\tx\nho\t5\ty\n")
    with pytest.raises(UsageError, match="label id 5"):
        _load(tmp_path)


def test_missing_path_and_offline_hub():
    with pytest.raises(UsageError, match="does not exist"):
        _load("./no/such/folder")
    with pytest.raises(UsageError, match="local copy"):
        _load("surely_not_a_dataset_name_xyz")
