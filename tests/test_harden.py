"""Hardening (issue 15): no token is ever saved or uploaded, --overwrite never deletes a user's files,
nothing is written before a run can start, one clear line for every failure a user can cause, one run
per folder at a time."""

from __future__ import annotations

import sys

import huggingface_hub
import pytest
from conftest import ROOT, tiny_run_argv

from mlal.redact import REDACTED, redact, redact_argv
from mlal.run_format import STATISTICS

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


def test_token_is_in_no_file_of_the_run_and_nothing_uploaded(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    uploaded = {}

    def fake_upload(self, folder_path, repo_id, **kwargs):
        uploaded.update({p.relative_to(folder_path).as_posix(): p.read_bytes()
                         for p in sorted(__import__("pathlib").Path(folder_path).rglob("*")) if p.is_file()})
        return "https://hub/commit"

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: None)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", fake_upload)
    run_dir = tmp_path / "run"
    argv = [*tiny_run_argv(tiny_bert_dir, run_dir, rounds=1), "--push_to_hub", "--hub_model_id", "me/tiny",
            "--hub_token", FAKE_TOKEN, "--run_name", OTHER_TOKEN]
    monkeypatch.setattr(sys, "argv", ["run_active_learning.py", *argv])  # what provenance records
    assert run_active_learning.main(argv) == 0
    out = capsys.readouterr()
    assert {STATISTICS, "README.md", "config.json", "model.safetensors"} <= set(uploaded)
    files = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert len(files) > 10
    for secret in (FAKE_TOKEN, OTHER_TOKEN):
        assert secret not in out.out + out.err
        assert not [p for p, data in files.items() if secret.encode() in data]
        assert not [name for name, data in uploaded.items() if secret.encode() in data]
    statistics = (run_dir / STATISTICS).read_text()
    assert f'"--hub_token",\n      "{REDACTED}"' in statistics  # the argv is kept, the value masked


# ---------------------------------------------------------------- helpers for the run-folder tests
import errno  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

from conftest import tiny_run_options  # noqa: E402

from mlal import make_config, run_experiment  # noqa: E402
from mlal.errors import UsageError  # noqa: E402
from mlal.lock import LOCK_NAME, FolderLock, LockHeld  # noqa: E402
from mlal.state import RunState  # noqa: E402


def _run(tiny_bert_dir, output_dir, **overrides):
    options = tiny_run_options(tiny_bert_dir, output_dir, **{"rounds": 1, **overrides})
    return run_experiment(make_config(**options), log=lambda s: None)


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _main(capsys, argv) -> tuple[int, list[str]]:
    code = run_active_learning.main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def finished_run(tiny_bert_dir, tmp_path_factory):
    """A finished one-round run, copied by tests that need an old run to protect."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    _run(tiny_bert_dir, folder)
    return folder


def _copy_run(finished_run, tmp_path) -> Path:
    target = tmp_path / "old"
    shutil.copytree(finished_run, target)
    return target


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
        (dict(tokenizer=str(Path(model_without_weights).parent / "no-tokenizer")), "could not load tokenizer"),
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


def test_full_disk_mid_run_keeps_the_last_commit_and_says_so(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    import mlal.state

    real = mlal.state.atomic_write_bytes

    def disk_fills(path, data, **kwargs):
        if b'"phase": "evaluated"' in data and b'"round": 1' in data:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data, **kwargs)

    monkeypatch.setattr(mlal.state, "atomic_write_bytes", disk_fills)
    folder = tmp_path / "run"
    argv = tiny_run_argv(tiny_bert_dir, folder, rounds=2)
    exit_code, errors = _main(capsys, argv)
    assert exit_code == 2 and len(errors) == 1
    assert "no space left on the device" in errors[0] and "round 1, phase trained" in errors[0]
    assert "rerun the same command to resume" in errors[0]
    state = RunState(folder).load()  # intact: checksums of the state and every file it names hold
    assert (state["round"], state["phase"]) == (1, "trained")
    assert not list(folder.rglob("*.tmp")) and not (folder / LOCK_NAME).exists()
    monkeypatch.setattr(mlal.state, "atomic_write_bytes", real)
    assert run_active_learning.main(argv) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["labeled_count"] for r in json.loads((folder / STATISTICS).read_text())["rounds"]] == [20, 30]


# ---------------------------------------------------------------- 5. one run per folder
def _live_process():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def _fake_lock(folder: Path, pid: int, host: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                "started": "2026-01-01T00:00:00+00:00", "purpose": "test holder"}))


def test_lock_is_exclusive_and_released(tmp_path):
    folder = tmp_path / "a" / "b"
    with FolderLock(folder) as lock:
        holder = json.loads((folder / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname() and lock.held
        with pytest.raises(LockHeld, match=f"in use by another process \\(pid {os.getpid()} on host"):
            FolderLock(folder).acquire()
        script = f"from mlal.lock import FolderLock; FolderLock({str(folder)!r}).acquire()"
        other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
        assert other.returncode != 0 and "LockHeld" in other.stderr
    assert not (tmp_path / "a").exists()  # created for the lock, left empty: removed again


def test_lock_held_by_a_process_that_died_with_it_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    script = f"import os; from mlal.lock import FolderLock; FolderLock({str(folder)!r}).acquire(); os._exit(9)"
    assert subprocess.run([sys.executable, "-c", script], cwd=ROOT).returncode == 9
    dead_pid = json.loads((folder / LOCK_NAME).read_text())["pid"]
    with FolderLock(folder) as lock:
        assert lock.stale["pid"] == dead_pid
    assert not (folder / LOCK_NAME).exists()


def test_lock_of_another_host_is_respected(tmp_path):
    _fake_lock(tmp_path, 1, host="elsewhere.example")
    with pytest.raises(LockHeld, match="pid 1 on host elsewhere.example"):
        FolderLock(tmp_path).acquire()


def test_second_run_or_sweep_on_a_held_folder_exits_2_naming_the_holder(tiny_bert_dir, finished_run, tmp_path,
                                                                        capsys):
    holder = _live_process()
    try:
        folder = _copy_run(finished_run, tmp_path)
        _fake_lock(folder, holder.pid)
        before = _snapshot(folder)
        code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, folder, rounds=1, strategy="random") +
                             ["--overwrite"])
        assert code == 2 and len(errors) == 1 and f"in use by another process (pid {holder.pid} on host" in errors[0]
        assert _snapshot(folder) == before
        _fake_lock(tmp_path / "sweep" / "random" / "seed7", holder.pid)
        code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, tmp_path / "sweep", rounds=1,
                                                   strategy="random,entropy"))
        assert code == 2 and len(errors) == 1 and f"pid {holder.pid}" in errors[0]
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_from_a_dead_pid_does_not_block_a_run(tiny_bert_dir, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _fake_lock(tmp_path / "run", dead.pid)
    stats = _run(tiny_bert_dir, tmp_path / "run")
    assert len(stats["rounds"]) == 1 and not (tmp_path / "run" / LOCK_NAME).exists()
