"""Stratified carving and subsampling (iterative stratification plus one positive per label), sizes,
and original ids through all of it."""

import json
import logging

import numpy as np
import pytest

from mlal.config import DataArguments
from mlal.data import load_multilabel_data
from mlal.errors import UsageError
from mlal.splits import stratified_subset


def _labels(n=400, n_labels=12, seed=0):
    rng = np.random.default_rng(seed)
    rates = np.geomspace(0.4, 0.006, n_labels)  # a few labels with only 2-4 positives
    return (rng.random((n, n_labels)) < rates).astype(np.float32)


def test_subset_has_the_exact_size_is_seeded_and_covers_every_label():
    y = _labels()
    rows = stratified_subset(y, 40, random_state=3)
    assert len(rows) == 40 and len(np.unique(rows)) == 40 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, stratified_subset(y, 40, random_state=3))
    assert not np.array_equal(rows, stratified_subset(y, 40, random_state=4))
    present = y.sum(axis=0) > 0
    assert (y[rows].sum(axis=0)[present] > 0).all()


def test_carving_keeps_a_positive_of_every_label_on_both_sides():
    y = _labels()
    rows = stratified_subset(y, 40, random_state=0, keep_in_rest=1)
    rest = np.setdiff1d(np.arange(len(y)), rows)
    at_least_two = y.sum(axis=0) >= 2
    assert (y[rows].sum(axis=0)[at_least_two] > 0).all()
    assert (y[rest].sum(axis=0)[y.sum(axis=0) > 0] > 0).all()


def test_frequent_labels_keep_their_proportion():
    y = _labels(n=2000)
    rows = stratified_subset(y, 500, random_state=0)
    assert y[rows, 0].mean() == pytest.approx(y[:, 0].mean(), abs=0.01)  # iterative stratification


def test_reuters_carved_validation_has_a_positive_of_every_label_with_two_training_positives(reuters_dir):
    data = load_multilabel_data(DataArguments(dataset=str(reuters_dir)), seed=0)
    train, validation = data.targets("train"), data.targets("validation")
    source_positives = train.sum(axis=0) + validation.sum(axis=0)
    assert len(validation) == 777
    missing = (source_positives >= 2) & (validation.sum(axis=0) == 0)
    assert missing.sum() == 0, [data.label_names[j] for j in np.flatnonzero(missing)]
    assert (train.sum(axis=0) > 0).all()  # and train keeps every label


def _write(tmp_path, n=60):
    rows = [{"id": f"doc-{i}", "text": f"text {i}", "labels": [["a"], ["b", "c"], ["a", "c"]][i % 3]} for i in range(n)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {f"doc-{i}": f"text {i}" for i in range(n)}


def test_original_ids_follow_examples_through_carving_and_subsampling(tmp_path):
    text_of = _write(tmp_path)
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path), train_subsample=50, validation_subsample=3), 0)
    seen = []
    for split in ("train", "validation", "test"):
        ids = data.original_ids(split)
        assert ids.dtype.kind == "U" and ids.shape == (len(data.splits[split]),)
        assert [text_of[i] for i in ids] == data.splits[split]["text"]
        seen += ids.tolist()
    assert len(seen) == len(set(seen)) == 50 - 5 - 5 + 3 + 5  # train 40, validation 3 of 5, test 5
    assert "id" not in data.splits["train"].column_names  # ids never reach the data collator


def test_id_column_option_and_row_numbers_without_one(tmp_path):
    _write(tmp_path)
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path), id_column="text"), 0)
    assert data.original_ids("test").tolist() == data.splits["test"]["text"]
    with pytest.raises(UsageError, match="no id column 'uid'.*fix --id_column"):
        load_multilabel_data(DataArguments(dataset=str(tmp_path), id_column="uid"), 0)
    (tmp_path / "train.jsonl").write_text("".join(json.dumps({"text": f"text {i}", "labels": ["a"]}) + "\n" for i in range(30)))
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path)), 0)
    for split in ("train", "validation", "test"):
        assert [f"text {i}" for i in data.original_ids(split).astype(int)] == data.splits[split]["text"]


def test_goemotions_comment_ids_and_synthetic_row_numbers(tmp_path):
    (tmp_path / "emotions.txt").write_text("joy\nanger\n")
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.tsv").write_text("".join(f"{split} {i}\t{i % 2}\tc{split}{i}\n" for i in range(8)))
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path)), 0)
    assert data.original_ids("validation").tolist() == [f"cdev{i}" for i in range(8)]
    synthetic = load_multilabel_data(DataArguments(synthetic_size=50), 0)
    ids = np.concatenate([synthetic.original_ids(s) for s in ("train", "validation", "test")]).astype(int)
    assert sorted(ids.tolist()) == list(range(50))


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("test_size", 1.0, "--test_size 1 is neither a fraction between 0 and 1"),
        ("validation_size", 0.0, "--validation_size 0 is neither"),
        ("test_size", -0.2, "--test_size -0.2 is neither"),
        ("test_size", 2.5, "--test_size 2.5 is neither"),
        ("test_size", float("nan"), "--test_size nan is neither"),
        ("test_size", 60.0, r"cannot carve 60 test \+ 6 validation examples from 60"),
        ("validation_size", 0.001, "--validation_size gives 0 of 60"),
        ("train_subsample", 0, "--train_subsample 0 must be a positive number"),
        ("test_subsample", -5, "--test_subsample -5 must be a positive number"),
    ],
)
def test_nonsense_sizes_are_refused_in_one_line(tmp_path, option, value, message):
    _write(tmp_path)
    with pytest.raises(UsageError, match=message) as info:
        load_multilabel_data(DataArguments(dataset=str(tmp_path), **{option: value}), 0)
    assert "\n" not in str(info.value)


def test_subsample_larger_than_its_split_says_capped(tmp_path, caplog):
    _write(tmp_path)
    with caplog.at_level(logging.INFO, logger="mlal"):
        data = load_multilabel_data(DataArguments(dataset=str(tmp_path), test_subsample=500, validation_subsample=2), 0)
    assert len(data.splits["test"]) == 6 and len(data.splits["validation"]) == 2
    assert "--test_subsample 500: the test split has only 6 examples: capped, using all 6" in caplog.text
    assert "--validation_subsample 2: kept 2 of 6 validation examples" in caplog.text
