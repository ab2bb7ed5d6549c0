"""The loop end to end with a tiny random BERT on synthetic data (seconds per run)."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, tiny_run_argv, tiny_run_options

from mlal import make_config, run_experiment
from mlal.data import load_multilabel_data
from mlal.errors import UsageError
from mlal.run_format import EVAL_DIR, EVAL_INDEX, FORMAT_VERSION, METRICS_CSV, REQUIREMENTS, STATISTICS, round_file


def _run(tiny_bert_dir, output_dir, **overrides):
    return run_experiment(make_config(**tiny_run_options(tiny_bert_dir, output_dir, **overrides)), log=lambda s: None)


def test_end_to_end_writes_everything(tiny_bert_dir, tmp_path):
    stats = _run(tiny_bert_dir, tmp_path / "run", rounds=3, strategy="entropy")
    assert [r["labeled_count"] for r in stats["rounds"]] == [20, 30, 40]
    on_disk = json.loads((tmp_path / "run" / STATISTICS).read_text())
    assert on_disk["rounds"] == json.loads(json.dumps(stats["rounds"]))
    assert on_disk["config"]["active_learning"]["strategy"] == "entropy"
    assert on_disk["provenance"]["packages"]["torch"]
    assert "git" in on_disk["provenance"] and on_disk["end_time"]
    defaults = on_disk["option_defaults"]  # what a reader fills into a run saved before an option existed
    assert defaults["active_learning"]["acquisition_calibration"] == "none" and defaults["active_learning"]["mc_passes"] == 10
    assert defaults["training"]["weight_decay"] == 0.01 and defaults["training"]["gradient_accumulation_steps"] == 1
    assert set(defaults) == set(on_disk["config"]) and set(defaults["data"]) == set(on_disk["config"]["data"])
    # resolved as a run resolves them: every Trainer key this run left alone saves its recorded default
    options = tiny_run_options("m", "o")
    off = {k for k, v in on_disk["config"]["training"].items() if v != defaults["training"][k]}
    assert off - set(options) <= {"dataloader_pin_memory"}, off  # the loop turns pinning off without CUDA
    first = on_disk["rounds"][0]
    for key in ("micro_f1", "macro_f1", "samples_f1", "hamming_loss", "subset_accuracy", "mean_average_precision"):
        assert 0 <= first["test"][key] <= 1
    assert set(first["seconds"]) == {"train", "evaluate", "pool_scoring", "acquisition"}
    assert len(first["selected_ids"]) == 10 and on_disk["rounds"][-1]["selected_ids"] == []
    assert (tmp_path / "run" / REQUIREMENTS).read_text().count("==") > 5
    index = json.loads((tmp_path / "run" / EVAL_DIR / EVAL_INDEX).read_text())
    arrays = np.load(tmp_path / "run" / EVAL_DIR / index["rounds"]["0"]["file"])
    assert arrays["test_probs"].shape == arrays["test_targets"].shape
    assert arrays["label_names"].tolist() == on_disk["label_names"]
    assert arrays["selected_ids"].tolist() == first["selected_ids"]
    assert len(arrays["selected_scores"]) == 10
    # Selected ids are new each round and never already labeled.
    labeled_1 = np.load(tmp_path / "run" / EVAL_DIR / round_file(1))["labeled_ids"]
    assert set(first["selected_ids"]) <= set(labeled_1.tolist())
    assert not set(first["selected_ids"]) & set(arrays["labeled_ids"].tolist())


def test_run_folder_records_what_each_round_bought(tiny_bert_dir, tmp_path):
    stats = _run(tiny_bert_dir, tmp_path / "run", rounds=3, strategy="entropy", pool_subsample=40)
    run = tmp_path / "run"
    assert json.loads((run / STATISTICS).read_text())["format_version"] == FORMAT_VERSION == 3
    train = make_config(**tiny_run_options(tiny_bert_dir, run))
    data = load_multilabel_data(train.data, train.data.dataset_seed)
    targets, original_ids = data.targets("train"), data.original_ids("train")
    assert sorted(original_ids.tolist()) != [str(i) for i in range(len(original_ids))]  # carving moved rows
    for record in stats["rounds"][:-1]:
        arrays = np.load(run / EVAL_DIR / round_file(record["round"]))
        assert arrays["selected_original_ids"].tolist() == record["selected_original_ids"]
        assert arrays["selected_original_ids"].tolist() == original_ids[record["selected_ids"]].tolist()
        assert arrays["pool_original_ids"].tolist() == original_ids[arrays["pool_ids"]].tolist()
        assert np.array_equal(arrays["selected_targets"], targets[arrays["selected_ids"]])
        assert np.array_equal(arrays["labeled_targets"], targets[arrays["labeled_ids"]])
        # The whole scored pool with its scores: the selected rows are its top scores.
        assert len(arrays["pool_ids"]) == 40 == len(arrays["pool_scores"]) and bool(arrays["pool_scores_recorded"])
        assert set(arrays["selected_ids"].tolist()) <= set(arrays["pool_ids"].tolist())
        position = {int(i): k for k, i in enumerate(arrays["pool_ids"])}
        where = [position[int(i)] for i in arrays["selected_ids"]]
        chosen = arrays["pool_scores"][where]
        assert np.allclose(chosen, arrays["selected_scores"])
        assert chosen.min() >= np.delete(arrays["pool_scores"], where).max()
    with open(run / METRICS_CSV) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["labeled_count"]) for r in rows] == [20, 30, 40]
    assert float(rows[1]["test_micro_f1"]) == pytest.approx(stats["rounds"][1]["test"]["micro_f1"])
    assert float(rows[0]["seconds_train"]) == pytest.approx(stats["rounds"][0]["seconds"]["train"])
    assert float(rows[0]["last_epoch_loss"]) == pytest.approx(stats["rounds"][0]["epoch_losses"][-1])


def test_diversity_strategy_scores_are_nan_and_flagged_not_made_up(tiny_bert_dir, tmp_path):
    stats = _run(tiny_bert_dir, tmp_path / "run", strategy="coreset", pool_subsample=40)
    arrays = np.load(tmp_path / "run" / EVAL_DIR / round_file(0))
    assert stats["rounds"][0]["pool_scores_recorded"] is False and not bool(arrays["pool_scores_recorded"])
    assert len(arrays["pool_scores"]) == 40 and np.isnan(arrays["pool_scores"]).all()


def test_same_seed_same_indices_and_metrics(tiny_bert_dir, tmp_path):
    a = _run(tiny_bert_dir, tmp_path / "a", strategy="random")
    b = _run(tiny_bert_dir, tmp_path / "b", strategy="random")
    c = _run(tiny_bert_dir, tmp_path / "c", strategy="random", seed=8)
    assert [r["selected_ids"] for r in a["rounds"]] == [r["selected_ids"] for r in b["rounds"]]
    for ra, rb in zip(a["rounds"], b["rounds"]):
        for key, value in ra["test"].items():
            assert rb["test"][key] == pytest.approx(value, abs=1e-6, nan_ok=True)
    assert a["rounds"][0]["selected_ids"] != c["rounds"][0]["selected_ids"]


def test_label_budget_and_pool_subsample(tiny_bert_dir, tmp_path):
    stats = _run(tiny_bert_dir, tmp_path / "r", rounds=4, label_budget=35, pool_subsample=40, strategy="entropy")
    assert [r["labeled_count"] for r in stats["rounds"]] == [20, 30, 35]
    assert stats["rounds"][0]["pool_scored"] == 40


def test_continue_from_previous_round_and_weighted_loss(tiny_bert_dir, tmp_path):
    stats = _run(tiny_bert_dir, tmp_path / "r", continue_from_previous_round=True, loss="weighted_bce",
                 initial_sampling="stratified")
    assert len(stats["rounds"]) == 2


def test_continued_round_epochs_train_warm_rounds_shorter(tiny_bert_dir, tmp_path):
    stats = _run(tiny_bert_dir, tmp_path / "r", rounds=3, continue_from_previous_round=True, num_train_epochs=2,
                 continued_round_epochs=1)
    assert [r["epochs"] for r in stats["rounds"]] == [2, 1, 1]
    # 20, 30, 40 labeled examples in batches of 8: 3 steps x 2 epochs, then 4 x 1, then 5 x 1
    assert [r["steps"] for r in stats["rounds"]] == [6, 4, 5]
    with pytest.raises(UsageError, match="--continued_round_epochs needs --continue_from_previous_round"):
        make_config(continued_round_epochs=1)


def test_a_run_started_before_an_option_existed_still_resumes(tiny_bert_dir, tmp_path):
    from mlal.state import RunState

    run = tmp_path / "run"
    _run(tiny_bert_dir, run, rounds=1)
    state = RunState(run)
    state.data = state.load()
    for section, option in (("model", "continued_round_epochs"), ("model", "scoring_precision"),
                            ("active_learning", "acquisition_calibration")):  # default None, "auto", "none"
        del state.data["config"][section][option]  # as saved by a version without the option
    state.data["config_hash"] = "from-an-older-version"
    state.save()
    assert _run(tiny_bert_dir, run, rounds=1)["rounds"]  # finished: nothing to do, no refusal
    with pytest.raises(UsageError, match=r"differs in: continue_from_previous_round, continued_round_epochs"):
        _run(tiny_bert_dir, run, rounds=1, continue_from_previous_round=True, continued_round_epochs=1)
    with pytest.raises(UsageError, match=r"differs in: scoring_precision"):
        _run(tiny_bert_dir, run, rounds=1, scoring_precision="fp32")


def test_checkpoints_only_when_asked(tiny_bert_dir, tmp_path):
    _run(tiny_bert_dir, tmp_path / "no")
    assert not (tmp_path / "no" / "checkpoints").exists()
    _run(tiny_bert_dir, tmp_path / "yes", save_checkpoints=True, rounds=1)
    assert (tmp_path / "yes" / "checkpoints" / "entropy-seed7-round0" / "config.json").is_file()


# ---------------------------------------------------------------- bad input: exit 2, one line, nothing lost
def _cli(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "run_active_learning.py"), *args], capture_output=True, text=True, cwd=ROOT,
        timeout=300,
    )


def _tiny_args(tiny_bert_dir, output_dir, *extra):
    return [*tiny_run_argv(tiny_bert_dir, output_dir), *extra]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--strategy", "nope"], "unknown strategy 'nope'"),
        (["--dataset", "./missing/folder"], "does not exist"),
        (["--initial_size", "300"], "--initial_size 300 is larger than the 240 candidate examples"),
        (["--initial_size", "240"], "pool is empty"),  # 2 rounds: the second has nothing to acquire from
        (["--query_size", "5000"], "larger than the unlabeled pool"),
        (["--model", "./no/model"], "could not load"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tiny_bert_dir, tmp_path, extra, message):
    result = _cli(*_tiny_args(tiny_bert_dir, tmp_path / "out", *extra))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "out").exists()


def test_unknown_config_key_and_unknown_flag(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("rounds: 2\nbogus_key: 1\n")
    result = _cli("--config", str(config))
    assert result.returncode == 2 and "unknown config key 'bogus_key'" in result.stderr
    result = _cli("--bogus-flag", "1")
    assert result.returncode == 2 and "--bogus-flag" in result.stderr


def test_existing_run_is_never_overwritten_without_flag(tiny_bert_dir, tmp_path):
    out = tmp_path / "out"
    _run(tiny_bert_dir, out, rounds=1)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(UsageError, match="already holds a run"):
        _run(tiny_bert_dir, out, rounds=1, strategy="random")
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before == after
    stats = _run(tiny_bert_dir, out, rounds=1, strategy="random", overwrite=True)
    assert stats["config"]["active_learning"]["strategy"] == "random"


def test_list_strategies_and_help():
    result = _cli("--list-strategies")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split()[0] == "random"
    assert any(line.startswith("entropy ") for line in result.stdout.splitlines())
    help_text = _cli("--help").stdout
    for option in ("--strategy", "--dataset", "--model", "--pool_subsample", "--learning_rate", "--output_dir"):
        assert option in help_text
