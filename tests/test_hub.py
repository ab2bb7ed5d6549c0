"""Pushing to the Hub: the model card, the thresholds in config.json, what the upload receives (only the
network is stubbed: HfApi.create_repo / create_branch / upload_folder record their calls)."""

import io
import json
import math
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
from conftest import ROOT, tiny_run_argv
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

sys.path.insert(0, str(ROOT))
import run_active_learning  # noqa: E402
from mlal import hub  # noqa: E402
from mlal.errors import UsageError  # noqa: E402
from mlal.model_card import (  # noqa: E402
    BaseModel, DatasetInfo, base_model_info, build_model_card, check_card, dataset_info,
)

TOKEN = "hf_secret_token_never_printed"


def _argv(tiny_bert_dir, output_dir, *extra, **overrides):
    return [*tiny_run_argv(tiny_bert_dir, output_dir, **overrides), *extra]


def _record_hub_calls(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo",
                        lambda self, repo_id, **kw: calls.append(("create_repo", repo_id, self.token, kw)))
    monkeypatch.setattr(huggingface_hub.HfApi, "create_branch",
                        lambda self, repo_id, branch, **kw: calls.append(("create_branch", repo_id, branch)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, folder_path, repo_id, revision=None, **kw:
                        calls.append(("upload_folder", repo_id, folder_path, revision)))
    return calls


@pytest.fixture(scope="module")
def pushed(tiny_bert_dir, tmp_path_factory):
    """One run pushed with --push_to_hub (token on the command line); its folder, Hub calls and output."""
    run_dir = tmp_path_factory.mktemp("pushed") / "run"
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = _record_hub_calls(monkeypatch)
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        with redirect_stdout(out):
            code = run_active_learning.main(_argv(tiny_bert_dir, run_dir, "--push_to_hub", "--hub_model_id",
                                                  "me/tiny-al", "--hub_token", TOKEN))
    assert code == 0, err.getvalue()
    statistics = json.loads((run_dir / "statistics.json").read_text())
    return SimpleNamespace(run_dir=run_dir, folder=run_dir / "hub", calls=calls, out=out.getvalue() + err.getvalue(),
                           statistics=statistics)


def test_push_uploads_model_card_statistics_and_figure(pushed):
    assert pushed.calls == [("create_repo", "me/tiny-al", TOKEN, {"exist_ok": True, "private": None}),
                            ("upload_folder", "me/tiny-al", str(pushed.folder), None)]
    names = {p.name for p in pushed.folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md", "statistics.json",
            "learning_curves.png"} <= names
    card = ModelCard.load(pushed.folder / "README.md")
    assert "Labels used per round: 20, 30" in card.text and "![Learning curves](learning_curves.png)" in card.text
    assert 'model="me/tiny-al"' in card.text  # the usage snippet names the real repo


def test_card_metadata_holds_final_test_metrics(pushed):
    card = ModelCard.load(pushed.folder / "README.md")
    meta = card.data.to_dict()
    # The tiny model is a local folder: its Hub id is unknown, so base_model is omitted and the card says so.
    assert "base_model" not in meta and "Hub id is unknown" in card.text
    assert "datasets" not in meta  # synthetic data is no Hub dataset
    assert meta["pipeline_tag"] == "text-classification" and meta["library_name"] == "transformers"
    assert {"active-learning", "acquisition-entropy", "multi-label-classification"} <= set(meta["tags"])
    name, results = model_index_to_eval_results(meta["model-index"])
    final = pushed.statistics["rounds"][-1]
    by_name = {r.metric_name: r for r in results}
    assert name == "tiny-al"
    assert by_name["test micro-F1, threshold 0.5"].metric_value == round(final["test"]["micro_f1"], 4)
    mean_ap = by_name["test mean average precision (mAP)"].metric_value
    assert mean_ap == round(final["test"]["mean_average_precision"], 4)
    tuned = f"test micro-F1, tuned threshold {final['tuned_threshold']:.2f}"
    assert by_name[tuned].metric_value == round(final["test_at_tuned_threshold"]["micro_f1"], 4)
    assert {(r.task_type, r.dataset_name, r.dataset_split) for r in results} == {("text-classification", "synthetic",
                                                                                   "test")}


def test_thresholds_travel_in_the_model_config(pushed):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(pushed.folder)
    final = pushed.statistics["rounds"][-1]
    labels = pushed.statistics["label_names"]
    assert config.mlal_threshold == final["tuned_threshold"]
    assert config.mlal_per_class_thresholds == dict(zip(labels, final["per_class_thresholds"]))
    assert config.id2label == dict(enumerate(labels)) and config.label2id == {k: i for i, k in enumerate(labels)}
    assert config.problem_type == "multi_label_classification"


def test_usage_snippet_runs_and_applies_the_saved_thresholds(pushed):
    card = ModelCard.load(pushed.folder / "README.md")
    code = re.search(r"```python\n(.*?)```", card.text, re.S).group(1).replace("me/tiny-al", str(pushed.folder))
    out = io.StringIO()
    with redirect_stdout(out):
        exec(code, {})
    predicted = eval(out.getvalue())
    labels = set(pushed.statistics["label_names"])
    assert len(predicted) == 2 and all(set(row) <= labels for row in predicted)


def test_no_token_and_no_local_path_is_uploaded(pushed, tiny_bert_dir):
    assert TOKEN not in pushed.out
    assert not any(TOKEN in p.read_text(errors="ignore") for p in pushed.run_dir.rglob("*") if p.is_file()
                   and p.suffix in (".json", ".md", ".txt"))
    forbidden = {str(pushed.run_dir), tiny_bert_dir, str(Path.home()) + "/", str(ROOT), "/tmp/", "/work/"}
    for path in pushed.folder.rglob("*"):
        if path.is_file() and path.suffix != ".safetensors":
            text = path.read_bytes().decode(errors="ignore")
            assert not [f for f in forbidden if f in text], path.name


def test_sweep_pushes_each_run_to_its_own_repo_and_revision(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    calls = _record_hub_calls(monkeypatch)
    code = run_active_learning.main(_argv(tiny_bert_dir, tmp_path / "sweep", "--push_to_hub", "--hub_model_id",
                                          "me/al", "--hub_revision", "v1", strategy="random,entropy", rounds=1))
    assert code == 0, capsys.readouterr().err
    uploads = [c for c in calls if c[0] == "upload_folder"]
    assert uploads == [("upload_folder", "me/al-random-seed7", str(tmp_path / "sweep/random/seed7/hub"), "v1"),
                       ("upload_folder", "me/al-entropy-seed7", str(tmp_path / "sweep/entropy/seed7/hub"), "v1")]
    assert ("create_branch", "me/al-random-seed7", "v1") in calls
    card = (tmp_path / "sweep/entropy/seed7/hub/README.md").read_text()
    assert 'model="me/al-entropy-seed7", revision="v1"' in card


def test_only_the_main_process_pushes(tmp_path, monkeypatch):
    calls = _record_hub_calls(monkeypatch)
    config = SimpleNamespace(training=SimpleNamespace(push_to_hub=True, hub_model_id="me/x", seed=1),
                             al=SimpleNamespace(strategy="random"))
    monkeypatch.setattr(hub, "is_main_process", lambda: False)  # as on rank 1 under torchrun
    assert hub.push_run(config, {"output_dir": str(tmp_path)}) is None
    assert calls == [] and list(tmp_path.iterdir()) == []
    monkeypatch.setattr(hub, "is_main_process", lambda: True)  # a finished run that never saved its final model
    with pytest.raises(UsageError, match="--overwrite --push_to_hub"):
        hub.push_run(config, {"output_dir": str(tmp_path)})


@pytest.mark.parametrize("extra, option", [
    (["--hub_strategy", "checkpoint"], "--hub_strategy"),
    (["--hub_always_push", "true"], "--hub_always_push"),
    (["--push_to_hub", "--hub_model_id", "me/bad id"], "--hub_model_id"),
    (["--push_to_hub", "--hub_model_id", "me/ok", "--hub_revision", "bad..branch"], "--hub_revision"),
    (["--push_to_hub"], "--hub_model_id"),
])
def test_hub_options_that_cannot_work_are_refused_before_anything_is_written(tiny_bert_dir, tmp_path, capsys,
                                                                             extra, option):
    code = run_active_learning.main(_argv(tiny_bert_dir, tmp_path / "run", *extra))
    err = capsys.readouterr().err
    assert code == 2 and option in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_base_model_is_a_hub_id_never_a_path_or_short_name(tmp_path):
    from mlal.modeling import resolve_model_path

    minilm = base_model_info("minilm-l6")
    assert minilm == BaseModel("sentence-transformers/all-MiniLM-L6-v2", "apache-2.0", "en")  # from its own card
    assert base_model_info(resolve_model_path("minilm-l6")) == minilm  # the bundled folder, passed as a path
    assert base_model_info("bert-base-uncased") == BaseModel("bert-base-uncased")
    assert base_model_info(str(tmp_path)).hub_id is None
    snapshot = tmp_path / "hub" / "models--google-bert--bert-base-uncased" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    assert base_model_info(str(snapshot)) == BaseModel("google-bert/bert-base-uncased")
    (tmp_path / "goemotions").mkdir()
    (tmp_path / "corpus.jsonl").write_text("")
    assert dataset_info(str(tmp_path / "goemotions")) == DatasetInfo(None, "goemotions")
    assert dataset_info(str(tmp_path / "corpus.jsonl")) == DatasetInfo(None, "corpus")
    assert dataset_info("go_emotions", "simplified") == DatasetInfo("go_emotions", "go_emotions", "simplified")


def _statistics(macro_f1=0.4):
    metrics = {"micro_f1": 0.5, "macro_f1": macro_f1, "mean_average_precision": 0.6}
    rounds = [{"round": 0, "labeled_count": 10, "test": metrics, "tuned_threshold": 0.3,
               "test_at_tuned_threshold": metrics, "per_class_thresholds": [0.2, 0.4],
               "test_at_per_class_thresholds": metrics}]
    return {"config": {"active_learning": {"strategy": "random"}, "data": {"max_length": 64}}, "rounds": rounds,
            "label_names": ["joy", "anger"], "seed": 1, "provenance": {"git": {"commit": "abc"}}}


def test_an_undefined_metric_is_left_out_of_the_model_index_not_written_as_zero():
    card = build_model_card(_statistics(macro_f1=math.nan), "me/m", BaseModel("bert-base-uncased", "mit", "en"),
                            DatasetInfo("go_emotions", "go_emotions"))
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert not [r for r in results if r.metric_config == "macro" and r.metric_type == "f1"]
    assert "| 0 | 10 | 0.5000 | n/a |" in card.text
    assert card.data.base_model == "bert-base-uncased" and card.data.datasets == ["go_emotions"]
    check_card(str(card), "me/m", ["joy", "anger"])


def test_check_card_refuses_local_paths_and_missing_results(tmp_path):
    good = str(build_model_card(_statistics(), "me/m", BaseModel(None), DatasetInfo(None, "synthetic")))
    check_card(good, "me/m", ["joy", "anger"])
    with pytest.raises(ValueError, match="local path"):
        check_card(good.replace("library_name:", f"base_model: {tmp_path}\nlibrary_name:"), "me/m", ["joy"])
    with pytest.raises(ValueError, match="model-index"):
        check_card(good.split("model-index:")[0] + "---\nbody", "me/m", [])
    with pytest.raises(ValueError, match="usage snippet"):
        check_card(good, "me/other", ["joy"])


def test_strip_local_paths():
    values = {"a": "/tmp/x/run", "b": ["--output_dir=/a/b/", "../shared/data/goemotions"], "c": "~/data/x.jsonl",
              "keep": ["https://huggingface.co/me/m", "user/name", "n/a", 0.5]}
    assert hub.strip_local_paths(values) == {
        "a": "<local>/run", "b": ["--output_dir=<local>/b", "<local>/goemotions"], "c": "<local>/x.jsonl",
        "keep": ["https://huggingface.co/me/m", "user/name", "n/a", 0.5]}


def test_an_upload_folder_that_names_a_local_folder_is_refused(tmp_path):
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "config.json").write_text(json.dumps({"_name_or_path": str(tmp_path / "model")}))
    with pytest.raises(UsageError, match="not uploading"):
        hub.check_no_local_paths(tmp_path / "hub", [str(tmp_path)])
    hub.check_no_local_paths(tmp_path / "hub", [str(tmp_path / "data")])
