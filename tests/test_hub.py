"""Pushing to the Hub: the model card's content and what the upload receives (only the network is stubbed)."""

import sys

import huggingface_hub
import yaml
from conftest import ROOT, tiny_run_argv
from mlal.run_format import STATISTICS

sys.path.insert(0, str(ROOT))
import run_active_learning  # noqa: E402

TOKEN = "hf_secret_token_never_printed"


def _argv(tiny_bert_dir, output_dir, *extra):
    return [*tiny_run_argv(tiny_bert_dir, output_dir), *extra]


def test_push_uploads_model_card_statistics_and_figure(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    calls = {}
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo",
                        lambda self, repo_id, **kw: calls.setdefault("create", (repo_id, self.token)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, folder_path, repo_id, **kw: calls.setdefault("upload", (folder_path, repo_id)))
    run_dir = tmp_path / "run"
    code = run_active_learning.main(_argv(tiny_bert_dir, run_dir, "--push_to_hub", "--hub_model_id", "me/tiny-al",
                                          "--hub_token", TOKEN))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert calls["create"] == ("me/tiny-al", TOKEN)
    folder, repo_id = calls["upload"]
    assert repo_id == "me/tiny-al" and folder == str(run_dir / "hub")
    names = {p.name for p in (run_dir / "hub").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md", STATISTICS,
            "learning_curves.png"} <= names
    card = (run_dir / "hub" / "README.md").read_text()
    _, front, body = card.split("---", 2)
    meta = yaml.safe_load(front)
    assert meta["base_model"] == tiny_bert_dir and meta["datasets"] == ["synthetic"]
    assert "active-learning" in meta["tags"] and "acquisition-entropy" in meta["tags"]
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    assert {m["name"] for m in metrics} >= {"micro-F1 (threshold 0.5)", "mean average precision"}
    assert "Labels used per round: 20, 30" in body and "![Learning curves](learning_curves.png)" in body
    # The token is never printed nor written anywhere in the run folder.
    assert TOKEN not in out.out + out.err
    assert not any(TOKEN in p.read_text(errors="ignore") for p in run_dir.rglob("*") if p.is_file()
                   and p.suffix in (".json", ".md", ".txt"))


def test_push_without_repo_id_is_refused(tiny_bert_dir, tmp_path, capsys):
    code = run_active_learning.main(_argv(tiny_bert_dir, tmp_path / "run", "--push_to_hub"))
    assert code == 2 and "--hub_model_id" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
