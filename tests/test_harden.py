"""Hardening (issue 15): no token is ever saved or uploaded, --overwrite never deletes a user's files,
nothing is written before a run can start, one clear line for every failure a user can cause, one run
per folder at a time."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
from pathlib import Path

import huggingface_hub
import pytest
from conftest import ROOT, tiny_run_argv
from conftest import copy_run as _copy_run
from conftest import run_cli as _main
from conftest import run_tiny as _run
from conftest import snapshot as _snapshot

from mlal.errors import UsageError
from mlal.lock import LOCK_NAME
from mlal.redact import REDACTED, redact, redact_argv
from mlal.run_format import STATISTICS
from mlal.state import RunState

sys.path.insert(0, str(ROOT))
import run_active_learning  # noqa: E402

FAKE_TOKEN = "hf_FakeTokenForTests0123456789abcdefXYZ"
OTHER_TOKEN = "hf_AnotherLookalike0123456789abcdefQRS"


# ---------------------------------------------------------------- 1. secrets are never recorded or uploaded
@pytest.mark.parametrize("argv, expected", [
    (["--hub_token", FAKE_TOKEN, "--seed", "1"], ["--hub_token", REDACTED, "--seed", "1"]),
    ([f"--hub_token={FAKE_TOKEN}"], [f"--hub_token={REDACTED}"]),
    ([f"--hub-token={FAKE_TOKEN}"], [f"--hub-token={REDACTED}"]),
    (["--hub-token", "not-hf-shaped"], ["--hub-token", REDACTED]),
    (["--run_name", FAKE_TOKEN], ["--run_name", REDACTED]),  # token-shaped wherever it is
    (["--tokenizer", "bert-base-uncased"], ["--tokenizer", "bert-base-uncased"]),  # not a secret
    (["--dataset", "https://me:s3cret@example.com/data.csv"], ["--dataset", f"https://me:{REDACTED}@example.com/data.csv"]),
    (["--use_auth_token", "--seed", "1"], ["--use_auth_token", "--seed", "1"]),  # a flag without a value
])
def test_redact_argv(argv, expected):
    assert redact_argv(argv) == expected


def test_redact_nested_values():
    value = {"training": {"hub_token": "abc", "average_tokens_across_devices": True, "seed": 3},
             "notes": [f"pushed with {FAKE_TOKEN}"], "command": ["x.py", "--api_key", "k"]}
    assert redact(value) == {"training": {"hub_token": REDACTED, "average_tokens_across_devices": True, "seed": 3},
                             "notes": [f"pushed with {REDACTED}"], "command": ["x.py", "--api_key", REDACTED]}


ENV_TOKEN = "hf_EnvOnlyLookalike0123456789abcdefUVW"


@pytest.mark.parametrize("given", ["argv", "yaml"])
def test_token_is_in_no_file_of_the_run_and_nothing_uploaded(tiny_bert_dir, tmp_path, monkeypatch, capsys, given):
    """A token from --hub_token (short, not Hub-shaped: caught by the option's name), a YAML config or
    HF_TOKEN is in no file of the run folder (Trainer's checkpoints with their pickled ``training_args.bin``
    included, read before removal: a kill mid-training leaves them), and in nothing uploaded."""
    import mlal.training

    uploaded = {}

    def fake_upload(self, folder_path, repo_id, **kwargs):
        uploaded.update({p.relative_to(folder_path).as_posix(): p.read_bytes()
                         for p in sorted(Path(folder_path).rglob("*")) if p.is_file()})
        return "https://hub/commit"

    class ReadCheckpoints:  # what Trainer wrote in the run folder, read before it is removed after training
        def __getattr__(self, name):
            return getattr(shutil, name)

        def rmtree(self, path, *args, **kwargs):
            kept.update({p: p.read_bytes() for p in Path(path).rglob("*") if p.is_file()})
            shutil.rmtree(path, *args, **kwargs)

    kept = {}
    monkeypatch.setattr(mlal.training, "shutil", ReadCheckpoints())
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: None)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", fake_upload)
    monkeypatch.setenv("HF_TOKEN", ENV_TOKEN)
    token = "hf_xxx" if given == "argv" else FAKE_TOKEN
    run_dir = tmp_path / "run"
    argv = [*tiny_run_argv(tiny_bert_dir, run_dir, rounds=1), "--push_to_hub", "--hub_model_id", "me/tiny",
            "--run_name", OTHER_TOKEN, "--save_strategy", "epoch"]
    if given == "argv":
        argv += ["--hub_token", token]
    else:
        (tmp_path / "secret.yaml").write_text(f"hub_token: {token}\n")
        argv += ["--config", str(tmp_path / "secret.yaml")]
    monkeypatch.setattr(sys, "argv", ["run_active_learning.py", *argv])  # what provenance records
    assert run_active_learning.main(argv) == 0
    out = capsys.readouterr()
    assert {STATISTICS, "README.md", "config.json", "model.safetensors"} <= set(uploaded)
    files = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert any(p.name == "training_args.bin" and run_dir in p.parents for p in kept)  # a checkpoint was written
    files.update(kept)
    for secret in (token, OTHER_TOKEN, ENV_TOKEN):
        assert secret not in out.out + out.err
        assert not [p for p, data in files.items() if secret.encode() in data]
        assert not [name for name, data in uploaded.items() if secret.encode() in data]
    statistics = (run_dir / STATISTICS).read_text()
    if given == "argv":
        assert f'"--hub_token",\n      "{REDACTED}"' in statistics  # the argv is kept, the value masked


# ---------------------------------------------------------------- helpers for the run-folder tests



# ---------------------------------------------------------------- 2. --overwrite never deletes a user's files
def _user_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thesis.txt").write_text("four years of work")
    (folder / "photos").mkdir()
    (folder / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 not really a jpeg")


@pytest.mark.parametrize("overwrite", [False, True])
def test_folder_of_unrelated_files_is_refused_whatever_the_flags(tiny_bert_dir, tmp_path, overwrite):
    folder = tmp_path / "home"
    _user_files(folder)
    before = _snapshot(folder)
    with pytest.raises(UsageError, match="not empty and holds no run .*thesis.txt"):
        _run(tiny_bert_dir, folder, overwrite=overwrite)
    assert _snapshot(folder) == before


def test_overwrite_on_current_folder_is_refused(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    _user_files(tmp_path / "cwd")
    monkeypatch.chdir(tmp_path / "cwd")
    before = _snapshot(Path("."))
    code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, ".", rounds=1) + ["--overwrite"])
    assert code == 2 and len(errors) == 1 and "--output_dir . is not empty and holds no run" in errors[0]
    assert _snapshot(Path(".")) == before


def test_overwrite_replaces_the_run_and_keeps_other_files(tiny_bert_dir, finished_run, tmp_path):
    folder = _copy_run(finished_run, tmp_path)
    (folder / "notes.txt").write_text("my notes on this run")
    (folder / "analysis").mkdir()
    (folder / "analysis" / "plot.py").write_text("print(1)")
    old = json.loads((folder / STATISTICS).read_text())
    stats = _run(tiny_bert_dir, folder, strategy="random", overwrite=True)
    assert stats["config"]["active_learning"]["strategy"] == "random"
    assert old["config"]["active_learning"]["strategy"] == "entropy"
    assert (folder / "notes.txt").read_text() == "my notes on this run"
    assert (folder / "analysis" / "plot.py").read_text() == "print(1)"
    assert json.loads((folder / STATISTICS).read_text())["start_time"] >= old["start_time"]


def test_run_beside_unrelated_file_resumes_without_overwrite(tiny_bert_dir, finished_run, tmp_path):
    folder = _copy_run(finished_run, tmp_path)
    (folder / "notes.txt").write_text("kept")
    stats = _run(tiny_bert_dir, folder)  # same config: finished, left alone
    assert stats["rounds"] and (folder / "notes.txt").read_text() == "kept"


# ---------------------------------------------------------------- 3. nothing written before the run can start
@pytest.fixture
def model_without_weights(tiny_bert_dir, tmp_path) -> str:
    folder = tmp_path / "no-weights"
    shutil.copytree(tiny_bert_dir, folder)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    return str(folder)


def _start_failures(tiny_bert_dir, model_without_weights):
    return [
        (dict(model=model_without_weights), "could not load model"),
        (dict(learning_rate=-1), "--learning_rate must be >= 0"),
        (dict(tokenizer=str(Path(model_without_weights).parent / "no-tokenizer")),
         "could not load the tokenizer: --tokenizer .*no-tokenizer does not exist"),
    ]


def test_failed_start_creates_no_folder_and_the_fixed_rerun_is_not_refused(tiny_bert_dir, model_without_weights,
                                                                          tmp_path):
    for index, (bad, message) in enumerate(_start_failures(tiny_bert_dir, model_without_weights)):
        folder = tmp_path / f"new{index}" / "run"
        with pytest.raises(UsageError, match=message):
            _run(tiny_bert_dir, folder, **bad)
        assert not (tmp_path / f"new{index}").exists()
    stats = _run(tiny_bert_dir, tmp_path / "new0" / "run")  # the corrected command just runs
    assert len(stats["rounds"]) == 1


def test_failed_start_with_overwrite_keeps_the_old_run(tiny_bert_dir, model_without_weights, finished_run, tmp_path):
    folder = _copy_run(finished_run, tmp_path)
    before = _snapshot(folder)
    for bad, message in _start_failures(tiny_bert_dir, model_without_weights):
        with pytest.raises(UsageError, match=message):
            _run(tiny_bert_dir, folder, overwrite=True, strategy="random", **bad)
        assert _snapshot(folder) == before


@pytest.mark.parametrize("code, words", [(errno.EACCES, "not writable"), (errno.EROFS, "not writable"),
                                         (errno.ENOSPC, "no space left")])
def test_unwritable_output_folder_is_refused_before_anything(tiny_bert_dir, finished_run, tmp_path, monkeypatch,
                                                             capsys, code, words):
    import mlal.run_folder

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(mlal.run_folder.tempfile, "mkstemp", refuse)
    folder = _copy_run(finished_run, tmp_path)
    before = _snapshot(folder)
    for target, extra in ((tmp_path / "new" / "run", []), (folder, ["--overwrite", "--strategy", "random"])):
        exit_code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, target, rounds=1) + extra)
        assert exit_code == 2 and len(errors) == 1 and words in errors[0]
    assert not (tmp_path / "new").exists() and _snapshot(folder) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_for_real(tiny_bert_dir, tmp_path, capsys):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        exit_code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, parent / "run", rounds=1))
    finally:
        parent.chmod(0o755)
    assert exit_code == 2 and "not writable" in errors[0] and not (parent / "run").exists()


# ---------------------------------------------------------------- 4. one clear line for the rest
@pytest.mark.parametrize("extra, message", [
    (["--learning_rate", "-1"], "--learning_rate must be >= 0"),
    (["--weight_decay", "-0.1"], "--weight_decay must be >= 0"),
    (["--adam_beta1", "1.5"], "--adam_beta1 must be in [0, 1)"),
    (["--adam_epsilon", "-1"], "--adam_epsilon must be >= 0"),
    (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size must be at least 1"),
    (["--per_device_eval_batch_size", "0"], "--per_device_eval_batch_size must be at least 1"),
    (["--gradient_accumulation_steps", "0"], "--gradient_accumulation_steps must be at least 1"),
    (["--num_train_epochs", "0"], "--num_train_epochs must be > 0"),
    (["--warmup_steps", "-3"], "warmup_steps"),  # TrainingArguments' own check
    (["--lr_scheduler_type", "cosine_with_restarts", "--lr_scheduler_kwargs", '{"bogus": 1}'], "Trainer refuses"),
    (["--pool_subsample", "5"], "--pool_subsample 5 is smaller than --query_size 10"),
])
def test_refused_options_give_one_line_exit_2_and_write_nothing(tiny_bert_dir, tmp_path, capsys, extra, message):
    exit_code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, tmp_path / "out") + extra)
    assert exit_code == 2 and len(errors) == 1 and message in errors[0], errors
    assert not (tmp_path / "out").exists()


def _disk_fills_at(where: str, monkeypatch) -> None:
    """ENOSPC in round 1: writing state.json (phase evaluated), or halfway through saving the weights."""
    import transformers

    import mlal.state

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if where == "state":
        real = mlal.state.atomic_write_bytes

        def write(path, data, **kwargs):
            if b'"phase": "evaluated"' in data and b'"round": 1' in data:
                raise full
            return real(path, data, **kwargs)

        monkeypatch.setattr(mlal.state, "atomic_write_bytes", write)
    else:
        real, calls = transformers.PreTrainedModel.save_pretrained, []

        def save(self, folder, *args, **kwargs):
            calls.append(folder)
            real(self, folder, *args, **kwargs)
            if len(calls) == 2:  # round 1's weights: part of the folder written, then the disk is full
                raise full

        monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", save)


@pytest.mark.parametrize("where, saved", [("state", (1, "trained")), ("weights", (1, "start"))])
def test_full_disk_mid_run_keeps_the_last_commit_and_says_so(tiny_bert_dir, tmp_path, monkeypatch, capsys, where,
                                                             saved):
    folder = tmp_path / "run"
    argv = tiny_run_argv(tiny_bert_dir, folder, rounds=2)
    with monkeypatch.context() as patch:
        _disk_fills_at(where, patch)
        exit_code, errors = _main(capsys, argv)
    assert exit_code == 2 and len(errors) == 1
    assert "no space left on the device" in errors[0] and "round {}, phase {}".format(*saved) in errors[0]
    assert "rerun the same command to resume" in errors[0]
    state = RunState(folder).load()  # intact: checksums of the state and every file it names hold
    assert (state["round"], state["phase"]) == saved
    assert not list(folder.rglob("*.tmp")) and not (folder / LOCK_NAME).exists()  # the failed write discarded
    assert run_active_learning.main(argv) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["labeled_count"] for r in json.loads((folder / STATISTICS).read_text())["rounds"]] == [20, 30]
