"""What a run shows (one row per round, no Trainer dicts, no bars off a terminal), the Trainer log files it
keeps, and the active-learning curve sent to ``--report_to`` trackers (step = labels used)."""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import ROOT, tiny_run_argv, tiny_run_options

from mlal import make_config, run_experiment
from mlal.console import TABLE_HEADER, TrainerLogFile, echoes_trainer_logs, table_row, trainer_log_path
from mlal.stopping import advice_line


def _run_script(argv: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, str(ROOT / "run_active_learning.py"), *argv], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)


def test_console_is_one_row_per_round_and_trainer_logs_go_to_the_run_folder(tiny_bert_dir, tmp_path):
    """stdout and stderr are pipes (not a terminal): bars are asked for (--disable_tqdm false) yet none is
    drawn, and Trainer's {'loss': ...} dicts are in logs/trainer_round_<k>.jsonl, not on the console."""
    run_dir = tmp_path / "run"
    done = _run_script(tiny_run_argv(tiny_bert_dir, run_dir, disable_tqdm=False))
    assert done.returncode == 0, done.stderr[-2000:]
    statistics = json.loads((run_dir / "statistics.json").read_text())
    rounds = statistics["rounds"]
    assert [r["labeled_count"] for r in rounds] == [20, 30]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("synthetic: 240 train / 30 validation / 30 test, 5 labels; strategy entropy")
    assert lines[1:] == [TABLE_HEADER, table_row(rounds[0]), advice_line(rounds[0]["stopping"]),
                         table_row(rounds[1]), advice_line(rounds[1]["stopping"]), f"results: {run_dir}"]
    for stream in (done.stdout, done.stderr):
        assert "'loss'" not in stream and '"loss"' not in stream and "train_runtime" not in stream
        assert "\r" not in stream and "%|" not in stream  # no progress-bar frames
    for record in rounds:
        entries = [json.loads(line) for line in trainer_log_path(run_dir, record["round"]).read_text().splitlines()]
        losses = [entry["loss"] for entry in entries if "loss" in entry]
        assert losses == record["epoch_losses"] and len(losses) == 1  # one epoch, logged per epoch
        assert [entry["epoch"] for entry in entries if "loss" in entry] == [1.0]
        assert entries[-1]["train_loss"] == pytest.approx(record["train_loss"])


class _State:
    is_world_process_zero = True

    def __init__(self):
        self.log_history = []


def test_trainer_log_file_holds_the_history_once_and_echoes_only_at_info(tmp_path, caplog):
    from transformers import TrainingArguments

    assert not echoes_trainer_logs(TrainingArguments(output_dir=str(tmp_path)))  # passive: transformers' WARNING
    assert echoes_trainer_logs(TrainingArguments(output_dir=str(tmp_path), log_level="info"))
    path = tmp_path / "logs" / "trainer_round_000.jsonl"
    callback, state = TrainerLogFile(path, echo=True), _State()
    for epoch, loss in ((1.0, 0.7), (2.0, 0.5)):
        state.log_history.append({"loss": loss, "epoch": epoch})
        with caplog.at_level("INFO", logger="mlal.console"):
            callback.on_log(None, state, None, logs=state.log_history[-1])
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"loss": 0.7, "epoch": 1.0}, {"loss": 0.5, "epoch": 2.0}]
    assert [record.getMessage() for record in caplog.records] == [
        'trainer: {"loss": 0.7, "epoch": 1.0}', 'trainer: {"loss": 0.5, "epoch": 2.0}']
    caplog.clear()
    TrainerLogFile(path, echo=False).on_log(None, state, None, logs=state.log_history[-1])
    assert caplog.records == [] and len(path.read_text().splitlines()) == 2


class _FakeWandb(types.ModuleType):
    """Stands in for wandb (not a dependency): records init, log(step=...) and finish."""

    def __init__(self):
        super().__init__("wandb")
        self.__spec__ = importlib.machinery.ModuleSpec("wandb", None)
        self.calls = []

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))
        run = types.SimpleNamespace(log=lambda metrics, step: self.calls.append(("log", step, metrics)),
                                    finish=lambda: self.calls.append(("finish",)))
        return run


def test_report_to_gets_the_al_curve_with_step_labels_used(tiny_bert_dir, tmp_path, monkeypatch):
    fake = _FakeWandb()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    config = make_config(**tiny_run_options(tiny_bert_dir, tmp_path / "run", report_to="wandb", run_name="demo"))
    statistics = run_experiment(config, log=lambda line: None)
    assert [call[0] for call in fake.calls] == ["init", "log", "log", "finish"]
    assert fake.calls[0][1]["name"] == "demo"
    logged = [call for call in fake.calls if call[0] == "log"]
    assert [step for _, step, _ in logged] == [r["labeled_count"] for r in statistics["rounds"]] == [20, 30]
    for (_, _, metrics), record in zip(logged, statistics["rounds"]):
        assert metrics["test/micro_f1"] == record["test"]["micro_f1"]
        assert metrics["test/mean_average_precision"] == record["test"]["mean_average_precision"]
        assert metrics["al/labeled_count"] == record["labeled_count"]
        assert metrics["seconds/train"] == record["seconds"]["train"]
        assert metrics["train/loss"] == pytest.approx(record["train_loss"])


def test_a_token_shaped_run_name_reaches_no_tracker(tmp_path, monkeypatch):
    from mlal.trackers import open_trackers

    fake = _FakeWandb()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    args = types.SimpleNamespace(report_to=["wandb"], run_name="exp-hf_abcdefghijklmnopqrstuvwxyzABCDEF")
    open_trackers(args, tmp_path, {"seed": 1}).close()
    assert fake.calls[0][1]["name"] == "exp-***" and "hf_abc" not in repr(fake.calls)


def test_report_to_tensorboard_writes_the_curve_in_the_run_folder(tiny_bert_dir, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = tmp_path / "run"
    statistics = run_experiment(make_config(**tiny_run_options(tiny_bert_dir, run_dir, report_to="tensorboard")),
                                log=lambda line: None)
    events = EventAccumulator(str(run_dir / "logs" / "tensorboard"))
    events.Reload()
    scalars = events.Scalars("test/micro_f1")
    assert [event.step for event in scalars] == [20, 30]
    assert [event.value for event in scalars] == pytest.approx([r["test"]["micro_f1"] for r in statistics["rounds"]])


@pytest.mark.parametrize("name, message", [
    ("comet_ml", "--report_to comet_ml is not supported for the active-learning curve"),
    ("tensorboard", "--report_to tensorboard needs the no_such_package_for_mlal package, which is not installed"),
])
def test_report_to_refused_in_one_line_before_anything_is_written(name, message, tiny_bert_dir, tmp_path, monkeypatch,
                                                                 capsys):
    import run_active_learning
    from mlal import trackers

    monkeypatch.setitem(trackers.PACKAGES, "tensorboard", "no_such_package_for_mlal")
    run_dir = tmp_path / "run"
    assert run_active_learning.main(tiny_run_argv(tiny_bert_dir, run_dir, report_to=name)) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"error: {message}")
    assert not Path(run_dir).exists()
