"""The Python API as a user script would call it: a DatasetDict in memory, an oracle callable, model_init or a
model instance; and the command line on a folder written by DatasetDict.save_to_disk."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, tiny_run_argv, tiny_run_options

from mlal import UsageError, run_experiment
from mlal.synthetic import generate_multilabel_texts


def _dataset_dict(train_labels_wrong: bool = False):
    """Synthetic texts as a user would build them: id, text and label-name lists; 200 / 50 / 50 examples."""
    from datasets import Dataset, DatasetDict

    texts, labels, names = generate_multilabel_texts(300, 5, random_state=3)
    label_lists = [[names[j] for j in np.flatnonzero(row)] for row in labels]
    truth = {f"doc-{i}": label_lists[i] for i in range(300)}

    def split(rows, blank=False):
        return Dataset.from_dict({"id": [f"doc-{i}" for i in rows], "text": [texts[i] for i in rows],
                                  "labels": [[] if blank else label_lists[i] for i in rows]})

    data = DatasetDict({"train": split(range(200), blank=train_labels_wrong), "validation": split(range(200, 250)),
                        "test": split(range(250, 300))})
    return data, truth, names


def _options(tiny_bert_dir, output_dir, **overrides):
    options = tiny_run_options(tiny_bert_dir, output_dir, **overrides)
    for key in ("dataset", "synthetic_size", "synthetic_num_labels"):
        options.pop(key)
    return options


class CountingOracle:
    """Answers with the true label names and remembers every id it was asked about."""

    def __init__(self, truth):
        self.truth, self.calls = truth, []

    def __call__(self, original_ids, texts):
        assert len(original_ids) == len(texts)
        self.calls.append(list(original_ids))
        return [self.truth[i] for i in original_ids]


def test_dataset_dict_with_oracle_and_model_init(tiny_bert_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification

    # The train split's own labels are all empty: a loop that read them instead of asking would see no label.
    data, truth, names = _dataset_dict(train_labels_wrong=True)
    oracle, built = CountingOracle(truth), []

    def model_init():
        built.append(1)
        return AutoModelForSequenceClassification.from_pretrained(
            tiny_bert_dir, num_labels=5, problem_type="multi_label_classification", ignore_mismatched_sizes=True)

    stats = run_experiment(dataset=data, model_init=model_init, oracle=oracle, log=lambda s: None,
                           **_options(tiny_bert_dir, tmp_path / "run", rounds=3))
    # asked for the initial set, then for each acquired batch (the last round acquires nothing)
    assert [len(c) for c in oracle.calls] == [20, 10, 10]
    asked = [i for call in oracle.calls for i in call]
    assert len(set(asked)) == 40
    last = np.load(tmp_path / "run" / "eval" / "round_002.npz")
    assert sorted(last["labeled_original_ids"].tolist()) == sorted(asked)
    assert [r["selected_original_ids"] for r in stats["rounds"][:2]] == oracle.calls[1:]
    # the labels the loop trained on and recorded are the oracle's answers, not the dataset's (empty) ones
    columns = stats["label_names"]  # the dataset's label names, sorted (no label list given)
    assert sorted(columns) == sorted(names)
    expected = np.array([[name in truth[i] for name in columns] for i in last["labeled_original_ids"]], dtype=np.uint8)
    assert last["labeled_targets"].sum() > 0 and np.array_equal(last["labeled_targets"], expected)
    assert len(built) == 3 + 1  # one fresh model per round, plus one built to check its head before writing


def test_model_instance_is_copied_per_round_and_left_untouched(tiny_bert_dir, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    data, truth, _ = _dataset_dict()
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_bert_dir, num_labels=5, problem_type="multi_label_classification", ignore_mismatched_sizes=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    options = _options(tiny_bert_dir, tmp_path / "run")
    del options["model"]  # the model comes as an instance (a string here would name --model)
    stats = run_experiment(dataset=data, model=model, tokenizer=AutoTokenizer.from_pretrained(tiny_bert_dir),
                           log=lambda s: None, **options)
    assert [r["labeled_count"] for r in stats["rounds"]] == [20, 30]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_resume_does_not_ask_the_oracle_again(tiny_bert_dir, tmp_path):
    """Interrupted while the oracle labels round 0's batch; rerun with the same arguments: only that batch is asked
    again (the initial set's answers were saved), and the run ends as an uninterrupted one does."""
    data, truth, _ = _dataset_dict()

    class InterruptedOracle(CountingOracle):
        def __call__(self, original_ids, texts):
            answer = super().__call__(original_ids, texts)
            if len(self.calls) == 2:
                raise KeyboardInterrupt
            return answer

    options = _options(tiny_bert_dir, tmp_path / "run")
    interrupted, resumed = InterruptedOracle(truth), CountingOracle(truth)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(dataset=data, oracle=interrupted, log=lambda s: None, **options)
    stats = run_experiment(dataset=data, oracle=resumed, log=lambda s: None, **options)
    assert resumed.calls == interrupted.calls[1:]
    straight = CountingOracle(truth)
    expected = run_experiment(dataset=data, oracle=straight, log=lambda s: None,
                              **{**options, "output_dir": str(tmp_path / "straight")})
    assert straight.calls == interrupted.calls
    assert [r["selected_ids"] for r in stats["rounds"]] == [r["selected_ids"] for r in expected["rounds"]]
    assert [r["test"] for r in stats["rounds"]] == [r["test"] for r in expected["rounds"]]


def test_bad_oracle_answers_and_label_reading_options_are_refused(tiny_bert_dir, tmp_path):
    data, truth, _ = _dataset_dict()
    with pytest.raises(UsageError, match="unknown label 'nope'"):
        run_experiment(dataset=data, oracle=lambda ids, texts: [["nope"]] * len(ids), log=lambda s: None,
                       **_options(tiny_bert_dir, tmp_path / "a"))
    with pytest.raises(UsageError, match="shape"):
        run_experiment(dataset=data, oracle=lambda ids, texts: np.zeros((len(ids), 2)), log=lambda s: None,
                       **_options(tiny_bert_dir, tmp_path / "b"))
    with pytest.raises(UsageError, match="stratified"):
        run_experiment(dataset=data, oracle=CountingOracle(truth), log=lambda s: None,
                       **_options(tiny_bert_dir, tmp_path / "c", initial_sampling="stratified"))
    assert not (tmp_path / "c").exists()


def test_cli_reads_a_save_to_disk_folder(tiny_bert_dir, tmp_path):
    data, _, names = _dataset_dict()
    data.save_to_disk(str(tmp_path / "saved"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_active_learning.py"),
         *tiny_run_argv(tiny_bert_dir, tmp_path / "out", dataset=str(tmp_path / "saved"), rounds=1)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last = np.load(tmp_path / "out" / "eval" / "round_000.npz")
    assert sorted(last["label_names"].tolist()) == sorted(names)
    assert len(last["test_targets"]) == 50 and last["labeled_original_ids"][0].startswith("doc-")


def test_label_store_keeps_only_the_answers_asked_for_and_round_trips_them():
    from mlal.oracle import LabelStore, to_multi_hot

    dataset = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]], dtype=np.float32)
    asked = []
    store = LabelStore(["a", "b", "c"], np.array(["w", "x", "y", "z"]), ["t0", "t1", "t2", "t3"], dataset,
                       oracle=lambda ids, texts: asked.append((list(ids), texts)) or [["b"], ["a", "c"]])
    store.ask(np.array([3, 1]))
    assert asked == [(["z", "x"], ["t3", "t1"])]
    assert store.targets.tolist() == [[0, 0, 0], [1, 0, 1], [0, 0, 0], [0, 1, 0]]  # rows 0, 2 never asked: zero
    assert store.answers() == {"1": [0, 2], "3": [1]}
    again = LabelStore(["a", "b", "c"], np.array(["w", "x", "y", "z"]), ["t0"] * 4, dataset)
    again.restore(store.answers(), labeled_ids=[])
    assert np.array_equal(again.targets, store.targets) and again.answers() == store.answers()
    old = LabelStore(["a", "b", "c"], np.array(["w", "x", "y", "z"]), ["t0"] * 4, dataset)
    old.restore(None, labeled_ids=[0, 2])  # a state from before answers were saved: the dataset's labels
    assert old.answers() == {"0": [0, 2], "2": [1]}
    assert to_multi_hot(np.array([[0, 1, 1]]), ["a", "b", "c"], 1).tolist() == [[0, 1, 1]]
    for bad in (None, "a", [["a"], ["b"]], np.array([[0, 2, 1]])):
        with pytest.raises(UsageError, match="oracle"):
            to_multi_hot(bad, ["a", "b", "c"], 1)
