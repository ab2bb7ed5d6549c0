"""Crash safety: a run killed at any point and rerun finishes identical to an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, tiny_run_argv

from mlal.run_format import EVAL_DIR, METRICS_CSV, STATISTICS, round_file

METRIC_KEYS = ("test", "validation", "test_at_tuned_threshold")


def _args(tiny_bert_dir, output_dir, **overrides):
    return tiny_run_argv(tiny_bert_dir, output_dir, rounds=3, strategy="bald", **overrides)


def _cli(args, fault=None, **popen):
    env = {**os.environ, "MLAL_FAULT": fault} if fault else {k: v for k, v in os.environ.items() if k != "MLAL_FAULT"}
    return subprocess.run([sys.executable, str(ROOT / "run_active_learning.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, **popen)


def _rounds(output_dir):
    return json.loads((output_dir / STATISTICS).read_text())["rounds"]


def assert_same_run(a, b, check_loss=True):
    assert [r["selected_ids"] for r in a] == [r["selected_ids"] for r in b]
    assert [r["selected_original_ids"] for r in a] == [r["selected_original_ids"] for r in b]
    assert [r["labeled_count"] for r in a] == [r["labeled_count"] for r in b]
    for ra, rb in zip(a, b):
        assert ra["tuned_threshold"] == rb["tuned_threshold"]
        if check_loss:
            assert ra["train_loss"] == pytest.approx(rb["train_loss"], abs=1e-6)
        for key in METRIC_KEYS:
            for metric, value in ra[key].items():
                assert rb[key][metric] == pytest.approx(value, abs=1e-6, nan_ok=True), (key, metric)


def assert_same_recordings(a_dir, b_dir):
    """The round arrays that say what each round bought (ids, labels, pool scores) and metrics.csv match."""
    for record in _rounds(a_dir):
        with np.load(a_dir / EVAL_DIR / round_file(record["round"])) as a, \
                np.load(b_dir / EVAL_DIR / round_file(record["round"])) as b:
            assert set(a.files) == set(b.files)
            for key in ("labeled_ids", "labeled_original_ids", "labeled_targets", "selected_ids",
                        "selected_original_ids", "selected_targets", "pool_ids", "pool_original_ids"):
                assert np.array_equal(a[key], b[key]), key
            assert np.allclose(a["pool_scores"], b["pool_scores"], atol=1e-6, equal_nan=True)
    a_rows, b_rows = ((d / METRICS_CSV).read_text().splitlines() for d in (a_dir, b_dir))
    assert len(a_rows) == len(b_rows) == len(_rounds(a_dir)) + 1 and a_rows[0] == b_rows[0]


@pytest.fixture(scope="module")
def reference_dir(tiny_bert_dir, tmp_path_factory):
    """The folder of an uninterrupted run of the same command."""
    output_dir = tmp_path_factory.mktemp("reference") / "run"
    result = _cli(_args(tiny_bert_dir, output_dir))
    assert result.returncode == 0, result.stderr
    return output_dir


@pytest.fixture(scope="module")
def reference(reference_dir):
    return _rounds(reference_dir)


@pytest.mark.parametrize("fault", [
    "train_step:1::2",        # during training
    "after_train:0",          # right after the weights were saved
    "pool_scoring:1",         # during pool scoring
    "after_scoring:1",        # between pool scoring and acquisition
    "after_acquisition:0",    # right after acquisition
    "state_write:1",          # while the state file is being written
])
def test_killed_run_resumes_identical(fault, reference, reference_dir, tiny_bert_dir, tmp_path):
    args = _args(tiny_bert_dir, tmp_path / "run")
    killed = _cli(args, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = _cli(args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stdout
    assert_same_run(reference, _rounds(tmp_path / "run"))
    assert_same_recordings(reference_dir, tmp_path / "run")
    assert not list((tmp_path / "run").rglob("*.tmp")) or fault == "state_write:1"
    assert not (tmp_path / "run" / "state").exists()  # phase files are removed once the run finished
    again = _cli(args)  # a finished run is left as it is
    assert again.returncode == 0 and "already finished" in again.stdout


def test_resume_from_trainer_checkpoint(tiny_bert_dir, tmp_path):
    base = dict(save_strategy="steps", save_steps=1, num_train_epochs=2)
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    assert _cli(_args(tiny_bert_dir, reference_dir, **base)).returncode == 0
    killed = _cli(_args(tiny_bert_dir, run_dir, **base), fault="train_step:1::4")
    assert killed.returncode == -signal.SIGKILL
    assert list((run_dir / "state" / "trainer").glob("checkpoint-*"))  # there is a checkpoint to resume from
    assert _cli(_args(tiny_bert_dir, run_dir, **base)).returncode == 0
    # Trainer reports the mean loss of the steps it ran after resuming, so only that number differs.
    assert_same_run(_rounds(reference_dir), _rounds(run_dir), check_loss=False)


def test_sigint_saves_and_says_how_to_resume(reference, tiny_bert_dir, tmp_path):
    args = _args(tiny_bert_dir, tmp_path / "run")
    env = {k: v for k, v in os.environ.items() if k != "MLAL_FAULT"}
    process = subprocess.Popen([sys.executable, str(ROOT / "run_active_learning.py"), *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = tmp_path / "run" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline:
        if state.exists() and '"round": 1' in state.read_text():
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    if process.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert process.returncode == 130
    assert "rerun the same command to resume" in out + err
    assert _cli(args).returncode == 0
    assert_same_run(reference, _rounds(tmp_path / "run"))


def test_truncated_or_corrupted_state_is_reported(tiny_bert_dir, tmp_path):
    args = _args(tiny_bert_dir, tmp_path / "run")
    assert _cli(args, fault="after_scoring:1").returncode == -signal.SIGKILL
    state = tmp_path / "run" / "state.json"
    original = state.read_bytes()
    state.write_bytes(original[: len(original) // 2])
    result = _cli(args)
    assert result.returncode == 2 and "unreadable or truncated" in result.stderr
    state.write_bytes(original.replace(b'"round": 1', b'"round": 0', 1))
    result = _cli(args)
    assert result.returncode == 2 and "fails its checksum" in result.stderr
    state.write_bytes(original)
    pool = tmp_path / "run" / "state" / "pool-round1.npz"
    pool.write_bytes(pool.read_bytes()[:-10])
    result = _cli(args)
    assert result.returncode == 2 and "missing or corrupted" in result.stderr


def test_different_config_is_refused_and_overwrite_starts_over(tiny_bert_dir, tmp_path):
    args = _args(tiny_bert_dir, tmp_path / "run")
    assert _cli(args, fault="after_train:1").returncode == -signal.SIGKILL
    before = (tmp_path / "run" / "state.json").read_bytes()
    result = _cli([*args, "--learning_rate", "0.01"])
    assert result.returncode == 2 and "different config (differs in: learning_rate)" in result.stderr
    assert (tmp_path / "run" / "state.json").read_bytes() == before
    result = _cli([*args, "--learning_rate", "0.01", "--overwrite"])
    assert result.returncode == 0 and "resuming" not in result.stdout


def test_sweep_interrupted_in_its_second_run(tiny_bert_dir, tmp_path):
    def sweep_args(out):
        args = _args(tiny_bert_dir, out)
        i = args.index("--strategy")
        return [*args[:i], "--strategy", "random,entropy", *args[i + 2:], "--rounds", "2"]

    assert _cli(sweep_args(tmp_path / "reference")).returncode == 0
    killed = _cli(sweep_args(tmp_path / "sweep"), fault="after_acquisition:0:entropy")
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "sweep" / "random" / "seed7" / STATISTICS).is_file()
    resumed = _cli(sweep_args(tmp_path / "sweep"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "already finished" in resumed.stdout and "resuming" in resumed.stdout
    for strategy in ("random", "entropy"):
        assert_same_run(_rounds(tmp_path / "reference" / strategy / "seed7"),
                        _rounds(tmp_path / "sweep" / strategy / "seed7"))


def test_a_calibrated_run_killed_during_pool_scoring_resumes_with_the_same_map(tiny_bert_dir, tmp_path):
    options = {"loss": "weighted_bce", "acquisition_calibration": "platt"}
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert _cli(_args(tiny_bert_dir, whole, **options)).returncode == 0
    args = _args(tiny_bert_dir, cut, **options)
    assert _cli(args, fault="pool_scoring:0").returncode == -signal.SIGKILL
    resumed = _cli(args)
    assert resumed.returncode == 0 and "resuming" in resumed.stdout, resumed.stderr[-2000:]
    a, b = _rounds(whole), _rounds(cut)
    assert a[0]["acquisition_calibration"]["fitted"]
    assert a[0]["acquisition_calibration"] == b[0]["acquisition_calibration"]
    assert_same_run(a, b)
    assert_same_recordings(whole, cut)
