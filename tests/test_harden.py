"""Hardening (issue 15): no token is ever saved or uploaded, --overwrite never deletes a user's files,
nothing is written before a run can start, one clear line for every failure a user can cause, one run
per folder at a time."""

from __future__ import annotations

import sys

import huggingface_hub
import pytest
from conftest import ROOT, tiny_run_argv

from mlal.redact import REDACTED, redact, redact_argv

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
    assert {"statistics.json", "README.md", "config.json", "model.safetensors"} <= set(uploaded)
    files = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert len(files) > 10
    for secret in (FAKE_TOKEN, OTHER_TOKEN):
        assert secret not in out.out + out.err
        assert not [p for p, data in files.items() if secret.encode() in data]
        assert not [name for name, data in uploaded.items() if secret.encode() in data]
    statistics = (run_dir / "statistics.json").read_text()
    assert f'"--hub_token",\n      "{REDACTED}"' in statistics  # the argv is kept, the value masked
