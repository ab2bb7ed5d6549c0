"""Label formats: names, ids into a label list, multi-hot vectors; ambiguous data refused in one line."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from mlal.config import DataArguments
from mlal.data import load_multilabel_data
from mlal.errors import UsageError
from mlal.labels import frequent_labels_line, parse_labels


def _parse(cells, known=None, label_format="auto", delimiter=","):
    return parse_labels({"train": (cells, lambda row: f"f, line {row + 1}")}, known, label_format, delimiter)


def _write_jsonl(path, labels):
    path.write_text("".join(json.dumps({"text": f"doc {i}", "labels": v}) + "\n" for i, v in enumerate(labels)))


def test_names_lists_and_delimited_strings():
    names, m = _parse([["b", "a"], "a|c", []], delimiter="|")
    assert names == ["a", "b", "c"]
    assert m["train"].tolist() == [[1, 1, 0], [1, 0, 1], [0, 0, 0]]


def test_ids_into_a_label_list_as_ints_digit_strings_and_floats():
    names, m = _parse([[0, 2], "1", [1.0], "['2']"], known=["x", "y", "z"])
    assert names == ["x", "y", "z"]
    assert m["train"].tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_ids_without_a_list_when_every_id_occurs():
    names, m = _parse([[0, 2], [1]])
    assert names == ["0", "1", "2"] and m["train"].tolist() == [[1, 0, 1], [0, 1, 0]]


def test_multi_hot_vectors_with_a_known_label_count():
    names, m = _parse([[0, 1, 0, 1], [1.0, 0.0, 0.0, 0.0], "[0, 0, 0, 0]"], known=list("abcd"))
    assert names == list("abcd")
    assert m["train"].tolist() == [[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]]


def test_multi_hot_without_label_count_is_refused_and_the_flag_resolves_it():
    cells = [[0, 1, 0, 1], [1, 0, 0, 0]]
    with pytest.raises(UsageError, match=r"multi-hot vectors of length 4 .*line 1: labels \[0, 1, 0, 1\].*--label_format multi_hot"):
        _parse(cells)
    names, m = _parse(cells, label_format="multi_hot")
    assert names == ["0", "1", "2", "3"] and m["train"].tolist() == [[0, 1, 0, 1], [1, 0, 0, 0]]


def test_multi_hot_of_the_wrong_length_for_the_label_list_is_refused():
    with pytest.raises(UsageError, match="label list has 3 names"):
        _parse([[0, 1, 0, 1], [1, 0, 0, 0]], known=list("abc"))


def test_two_label_vectors_that_could_be_ids_are_refused_as_ambiguous():
    with pytest.raises(UsageError, match="--label_format multi_hot .* --label_format ids"):
        _parse([[0, 1], [1, 0]], known=["a", "b"])
    assert _parse([[0, 1], [1, 0]], known=["a", "b"], label_format="ids")[1]["train"].tolist() == [[1, 1], [1, 1]]


def test_ids_mixed_with_names_are_refused_showing_both():
    with pytest.raises(UsageError, match=r"mix names and numbers \(f, line 1: labels \['a'\]; f, line 2: labels \[3\]\).*--label_format names"):
        _parse([["a"], [3]], known=["a", "b", "c", "d"])
    with pytest.raises(UsageError, match="mix names and numbers"):
        _parse(["a,b", "b,7"])
    names, _ = _parse(["a,b", "b,7"], label_format="names")
    assert names == ["7", "a", "b"]


def test_numeric_codes_that_would_create_unused_labels_are_refused():
    cells = [str(code) for code in range(100, 1001, 100)]
    with pytest.raises(UsageError, match=r"would make 1001 labels \(0..1000\) of which 991 never occur.*--label_format names"):
        _parse(cells)
    names, m = _parse(cells, label_format="names")
    assert names == cells and m["train"].shape == (10, 10)  # codes as names, in numeric order


def test_numeric_names_in_a_label_list_are_names():
    names, m = _parse(["100", "300|200"], known=["100", "200", "300"], delimiter="|")
    assert m["train"].tolist() == [[1, 0, 0], [0, 1, 1]]


def test_explicit_format_checks_each_row():
    with pytest.raises(UsageError, match=r"line 2: label 'b' is not an integer id; .*--label_format names"):
        _parse([[0], ["b"]], known=["a", "b"], label_format="ids")
    with pytest.raises(UsageError, match=r"line 2: \[0, 2\] is not a 0/1 vector of 2 labels"):
        _parse([[0, 1], [0, 2]], known=["a", "b"], label_format="multi_hot")
    with pytest.raises(UsageError, match="unknown --label_format 'hot'"):
        _parse([["a"]], label_format="hot")


def test_label_that_is_neither_name_nor_id_is_refused():
    with pytest.raises(UsageError, match=r"line 2: labels \[0.5\]: 0.5 is neither a label name nor an integer id"):
        _parse([["a"], [0.5]])


def test_csv_numeric_cell_where_names_are_expected(tmp_path):
    (tmp_path / "train.csv").write_text("text,labels\n" + "".join(f"doc {i},{'joy' if i % 3 else '2'}\n" for i in range(30)))
    with pytest.raises(UsageError, match=r"train.csv, line 2: labels '2'.*--label_format names") as info:
        load_multilabel_data(DataArguments(dataset=str(tmp_path)), seed=0)
    assert "\n" not in str(info.value)


def test_pandas_list_column_written_to_csv_reads_back_as_names(tmp_path):
    frame = pd.DataFrame({"text": [f"doc {i}" for i in range(30)], "labels": [["x", "y"], ["y"], []] * 10})
    frame.to_csv(tmp_path / "train.csv", index=False)  # cells "['x', 'y']", "[]"
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path)), seed=0)
    assert data.label_names == ["x", "y"]


def test_multi_hot_parquet_loads_with_the_flag(tmp_path):
    # the case: multi-hot vectors used to become two labels named '0.0' and '1.0'
    vectors = [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]] * 10
    pd.DataFrame({"text": [f"doc {i}" for i in range(30)], "labels": vectors}).to_parquet(tmp_path / "train.parquet")
    with pytest.raises(UsageError, match="--label_format multi_hot"):
        load_multilabel_data(DataArguments(dataset=str(tmp_path)), seed=0)
    (tmp_path / "labels.txt").write_text("a\nb\nc\nd\n")
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path)), seed=0)
    assert data.label_names == list("abcd")
    total = sum(data.targets(s).sum(axis=0) for s in ("train", "validation", "test"))
    assert total.tolist() == [10, 10, 10, 10]


def test_label_count_and_most_frequent_labels_are_logged(tmp_path, caplog):
    _write_jsonl(tmp_path / "train.jsonl", [["a", "b"], ["b"], ["c", "b"], ["a"]] * 10)
    with caplog.at_level(logging.INFO, logger="mlal"):
        load_multilabel_data(DataArguments(dataset=str(tmp_path)), seed=0)
    assert "3 labels; most frequent: b (30), a (20), c (10)" in caplog.text


def test_frequent_labels_line_by_hand():
    y = np.array([[1, 0, 1], [0, 0, 1]])
    assert frequent_labels_line(["x", "y", "z"], y, k=2) == "3 labels; most frequent: z (2), x (1)"


def test_negative_ids_are_refused():
    with pytest.raises(UsageError, match=r"label id -1 is negative \(f, line 2: labels \[-1\]\)"):
        _parse([[0, 1], [-1]])
