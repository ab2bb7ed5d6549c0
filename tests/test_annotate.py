"""Annotate mode: a scripted annotator gets the simulation's batches; bad imports merge nothing; crash-safe."""

from __future__ import annotations

import csv
import json
import os
import socket
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, tiny_run_options
from mlal.config import make_config, options_to_argv
from mlal.run_format import EVAL_DIR, round_file
from run_active_learning import main

LABELS = ["sports", "politics", "technology", "health", "finance"]


def _annotate_argv(tiny_bert_dir, project, **overrides) -> list[str]:
    options = tiny_run_options(tiny_bert_dir, project, **overrides)
    for key in ("dataset", "synthetic_size", "synthetic_num_labels", "output_dir", "rounds"):
        options.pop(key)
    return ["--project_dir", str(project), *options_to_argv(options)]


def _write_corpus(folder: Path, texts, ids=None) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as handle:
        for row, text in enumerate(texts):
            handle.write(json.dumps({"id": str(row) if ids is None else ids[row], "text": text}) + "\n")
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    return corpus, folder / "labels.txt"


def _label_batch(project: Path, round_k: int, truth: dict, out: Path, limit=None) -> Path:
    """Play the annotator: fill the labels column of to_label.csv from the true labels, as in a spreadsheet."""
    with open(project / f"round_{round_k}" / "to_label.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows[:limit]:
        row["labels"] = "; ".join(truth[row["id"]]) or "-"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def _batch_ids(project: Path, round_k: int) -> list[str]:
    lines = (project / f"round_{round_k}" / "to_label.jsonl").read_text().splitlines()
    return [json.loads(line)["id"] for line in lines]


@pytest.fixture(scope="module")
def synthetic(tiny_bert_dir, tmp_path_factory):
    """The simulation's training split (texts, true labels by id) and the simulation run's statistics."""
    from mlal.data import load_multilabel_data
    from mlal.loop import run_experiment

    folder = tmp_path_factory.mktemp("sim")
    config = make_config(**tiny_run_options(tiny_bert_dir, folder / "run", strategy="beal", rounds=3,
                                            initial_sampling="kmeans"))
    statistics = run_experiment(config, log=lambda _m: None)
    data = load_multilabel_data(config.data, config.data.dataset_seed)
    targets = data.targets("train")
    names = data.label_names
    assert names == LABELS
    truth = {str(row): [names[j] for j in np.flatnonzero(targets[row])] for row in range(len(targets))}
    initial = np.load(folder / "run" / EVAL_DIR / round_file(0))["labeled_ids"]
    return {"texts": list(data.splits["train"]["text"]), "truth": truth, "statistics": statistics,
            "initial": sorted(str(i) for i in initial)}


def test_scripted_annotator_gets_the_simulation_batches(synthetic, tiny_bert_dir, tmp_path):
    corpus, labels = _write_corpus(tmp_path, synthetic["texts"])
    project = tmp_path / "proj"
    argv = _annotate_argv(tiny_bert_dir, project, strategy="beal")
    assert main(["annotate", "--unlabeled", str(corpus), "--label_names", str(labels), *argv]) == 0
    assert sorted(_batch_ids(project, 0)) == synthetic["initial"]  # the same label-free cold start
    rounds = synthetic["statistics"]["rounds"]
    for k in (1, 2):
        done = _label_batch(project, k - 1, synthetic["truth"], tmp_path / f"done{k - 1}.csv")
        assert main(["annotate", "--project_dir", str(project), "--import", str(done)]) == 0
        assert _batch_ids(project, k) == [str(i) for i in rounds[k - 1]["selected_ids"]]
    stopping = json.loads((project / "round_2" / "stopping.json").read_text())
    assert stopping["kappa"] is not None and 0 <= stopping["mean_uncertainty"] <= np.log(2)
    # simulation records the stopping statistics per round, too
    assert rounds[0]["stopping"]["kappa"] is None and isinstance(rounds[1]["stopping"]["kappa"], float)


@pytest.fixture
def exported(synthetic, tiny_bert_dir, tmp_path):
    """A project whose round-0 batch (the cold start) is exported, waiting for labels."""
    corpus, labels = _write_corpus(tmp_path, synthetic["texts"][:80])
    project = tmp_path / "proj"
    argv = _annotate_argv(tiny_bert_dir, project, initial_size=6, query_size=5)
    assert main(["annotate", "--unlabeled", str(corpus), "--label_names", str(labels), *argv]) == 0
    return project


def _csv(path: Path, header: str, *lines: str) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _malformed_files(project: Path, tmp: Path) -> dict[str, tuple[Path, str]]:
    ids = _batch_ids(project, 0)
    a, b = ids[0], ids[1]
    header = "rank,id,labels,text"
    return {
        "unknown label": (_csv(tmp / "u.csv", header, f"1,{a},sports,x", f"2,{b},sportz,y"), "line 3"),
        "id not in batch": (_csv(tmp / "i.csv", header, f"1,{a},sports,x", "2,no-such-id,sports,y"), "line 3"),
        "duplicate id": (_csv(tmp / "d.csv", header, f"1,{a},sports,x", f"2,{a},health,x"), "line 3"),
        "empty row": (_csv(tmp / "e.csv", header, f"1,{a},sports,x", ",,,"), "line 3"),
        "no labels column": (_csv(tmp / "c.csv", "rank,id,text", f"1,{a},x"), "line 1"),
        "extra cells": (_csv(tmp / "x.csv", header, f"1,{a},sports,x,surplus"), "line 2"),
        "none mixed with labels": (_csv(tmp / "n.csv", header, f"1,{a},sports;-,x"), "line 2"),
        "nothing labeled": (_csv(tmp / "z.csv", header, f"1,{a},,x"), "labels none"),
        "jsonl bad json": (_csv(tmp / "j.jsonl", json.dumps({"id": a, "labels": ["sports"]}), "{oops"), "line 2"),
        "jsonl empty line": (_csv(tmp / "k.jsonl", json.dumps({"id": a, "labels": ["sports"]}), "",
                                  json.dumps({"id": b, "labels": []})), "line 2"),
        "jsonl wrong keys": (_csv(tmp / "w.jsonl", json.dumps({"id": a, "label": ["sports"]})), "line 1"),
        "label studio without data": (_csv(tmp / "ls.json", json.dumps([{"annotations": []}])), "task 1"),
        "label studio unknown label": (_csv(tmp / "ls2.json", json.dumps([{"data": {"example_id": a}, "annotations": [
            {"result": [{"from_name": "labels", "type": "choices", "value": {"choices": ["Sports"]}}]}]}])), "task 1"),
    }


def test_every_malformed_import_is_rejected_with_nothing_merged(exported, tmp_path, capsys):
    before = {p: p.read_bytes() for p in exported.rglob("*") if p.is_file()}
    for case, (path, where) in _malformed_files(exported, tmp_path).items():
        capsys.readouterr()
        code = main(["annotate", "--project_dir", str(exported), "--import", str(path)])
        err = capsys.readouterr().err.strip()
        assert code == 2, case
        assert err.startswith("error:") and "\n" not in err and where in err, (case, err)
        assert {p: p.read_bytes() for p in exported.rglob("*") if p.is_file()} == before, case


def test_partial_batch_keeps_the_rest_in_the_pool(exported, synthetic, tmp_path):
    done = _label_batch(exported, 0, synthetic["truth"], tmp_path / "part.csv", limit=2)
    assert main(["annotate", "--project_dir", str(exported), "--import", str(done)]) == 0
    state = json.loads((exported / "project.json").read_text())
    assert len(state["labels"]) == 2 and state["round"] == 1
    labeled_ids = {state["batches"]["0"]["ids"][i] for i in range(2)}
    assert not labeled_ids & set(_batch_ids(exported, 1))  # labeled examples left the pool
    # the same file again is recognised, not merged twice
    assert main(["annotate", "--project_dir", str(exported), "--import", str(done)]) == 0
    assert len(json.loads((exported / "project.json").read_text())["labels"]) == 2


def test_a_held_lock_refuses_a_second_import_and_a_stale_one_is_taken_over(exported, synthetic, tmp_path, capsys):
    from mlal.lock import LOCK_NAME, FolderLock

    done = _label_batch(exported, 0, synthetic["truth"], tmp_path / "all.csv")
    with FolderLock(exported):
        assert main(["annotate", "--project_dir", str(exported), "--import", str(done)]) == 2
    assert f"in use by another process (pid {os.getpid()} " in capsys.readouterr().err
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (exported / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    assert main(["annotate", "--project_dir", str(exported), "--import", str(done)]) == 0
    assert not (exported / LOCK_NAME).exists()


def _cli(argv, fault=None):
    env = {k: v for k, v in os.environ.items() if k != "MLAL_FAULT"}
    if fault:
        env["MLAL_FAULT"] = fault
    return subprocess.run([sys.executable, str(ROOT / "run_active_learning.py"), *argv], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("fault", ["train_step:1", "after_scoring:1"])
def test_killed_during_training_or_scoring_resumes_to_the_same_batch(exported, synthetic, tiny_bert_dir, tmp_path,
                                                                     fault):
    import shutil

    twin = tmp_path / "twin"
    shutil.copytree(exported, twin)
    done = _label_batch(exported, 0, synthetic["truth"], tmp_path / "all.csv")
    killed = _cli(["annotate", "--project_dir", str(exported), "--import", str(done)], fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert json.loads((exported / "project.json").read_text())["round"] == 1  # the import was committed
    resumed = _cli(["annotate", "--project_dir", str(exported), "--import", str(done)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert main(["annotate", "--project_dir", str(twin), "--import", str(done)]) == 0
    assert _batch_ids(exported, 1) == _batch_ids(twin, 1)
    assert not list(exported.rglob("*.tmp"))


def test_trained_model_queries_without_training(exported, synthetic, tmp_path, capsys):
    done = _label_batch(exported, 0, synthetic["truth"], tmp_path / "all.csv")
    assert main(["annotate", "--project_dir", str(exported), "--import", str(done)]) == 0
    model = exported / json.loads((exported / "project.json").read_text())["model"]
    other = tmp_path / "other"
    corpus, labels = _write_corpus(other, synthetic["texts"][100:160])
    capsys.readouterr()
    assert main(["annotate", "--unlabeled", str(corpus), "--label_names", str(labels), "--project_dir",
                 str(other / "proj"), "--trained_model", str(model), "--query_size", "4", "--use_cpu", "true",
                 "--model", str(model), "--disable_tqdm", "true"]) == 0
    out = capsys.readouterr().out
    assert "no training" in out and "training on" not in out
    assert len(_batch_ids(other / "proj", 0)) == 4
    assert json.loads((other / "proj" / "round_0" / "to_label.jsonl").read_text().splitlines()[0])["probabilities"]


def test_saved_options_are_merged_by_the_option_parser_and_never_keep_a_token():
    from mlal.annotate.cli import _options

    saved = ["--strategy", "beal", "--hub_token", "hf_saved", "--query_size=7", "--no_dataloader_pin_memory"]
    merged = _options(saved, ["--strategy", "entropy", "--hub-token=hf_given", "--rounds", "4"])
    assert merged == ["--strategy", "entropy", "--query_size", "7", "--dataloader_pin_memory", "false",
                      "--rounds", "4"]
    assert _options([], ["--hub_token", "hf_new", "--seed", "3"]) == ["--seed", "3"]  # a new project saves none
