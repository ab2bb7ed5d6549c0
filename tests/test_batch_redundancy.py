"""benchmarks/batch_redundancy.py: text similarity within acquired batches, checked on hand-made batches."""

import json
import sys

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from test_plotting import fake_run

from conftest import ROOT
from mlal.run_format import STATISTICS

sys.path.insert(0, str(ROOT / "benchmarks"))
import batch_redundancy as br  # noqa: E402


def test_batch_similarity_by_hand():
    rows = csr_matrix(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]))
    mean, share = br.batch_similarity(rows, near=0.7)
    assert mean == pytest.approx((0.6 + 0.0 + 0.8) / 3)
    assert share == pytest.approx(2 / 3)  # best partners: 0.6, 0.8, 0.8
    permuted = csr_matrix(rows.toarray()[[2, 0, 1]])
    assert br.batch_similarity(permuted, near=0.7) == pytest.approx((mean, share))


def _dataset(folder):
    texts = ["cat sat on mat", "cat sat on mat", "alpha beta", "gamma delta", "alpha beta", "gamma delta",
             "cat alpha", "sat gamma"]
    folder.mkdir()
    for split, rows in (("train", texts), ("validation", texts[:4]), ("test", texts[4:])):
        lines = ["text,labels"] + [f"{t},{'a' if k % 2 else 'b'}" for k, t in enumerate(rows)]
        (folder / f"{split}.csv").write_text("\n".join(lines) + "\n")


def test_reads_each_batch_from_the_run_training_split(tmp_path):
    _dataset(tmp_path / "data")
    # round 0 buys rows 0 and 1 (the same text): cosine 1, both near-duplicates; round 1 buys rows 2 and 3
    # (no shared word): 0 and 0; the run: the mean of its batches
    fake_run(tmp_path / "runs/margin/seed1", "margin", 1, [0.1, 0.2, 0.3], counts=(2, 4, 6),
             selections=[[0, 1], [2, 3], []], dataset=str(tmp_path / "data"))
    fake_run(tmp_path / "runs/random/seed1", "random", 1, [0.1, 0.2, 0.3], counts=(2, 4, 6),
             selections=[[2, 5], [3, 4], []], dataset=str(tmp_path / "data"))
    rows = {r["strategy"]: r for r in br.redundancy_rows([tmp_path / "runs"])}
    assert list(rows) == ["random", "margin"]
    assert rows["margin"]["mean_cosine"] == pytest.approx(0.5) and rows["margin"]["near_duplicate_share"] == 0.5
    assert rows["random"]["mean_cosine"] == pytest.approx(0.0) and rows["random"]["seeds"] == 1


def test_calibrated_runs_are_their_own_line(tmp_path):
    _dataset(tmp_path / "data")
    folder = tmp_path / "runs/margin/seed1"
    fake_run(folder, "margin", 1, [0.1, 0.2], counts=(2, 4), selections=[[0, 1], []], dataset=str(tmp_path / "data"))
    stats = json.loads((folder / STATISTICS).read_text())
    stats["config"]["active_learning"]["acquisition_calibration"] = "platt"
    (folder / STATISTICS).write_text(json.dumps(stats))
    (row,) = br.redundancy_rows([tmp_path / "runs"])
    assert row["strategy"] == "margin+platt" and row["mean_cosine"] == pytest.approx(1.0)


def test_no_batches_is_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        br.main(["--runs", str(tmp_path)])
    assert exit_info.value.code == 2 and "no run under" in capsys.readouterr().err


def test_finished_only_leaves_out_runs_still_going(tmp_path, capsys):
    _dataset(tmp_path / "data")
    for seed, selections in ((1, [[0, 1], [2, 3], []]), (2, [[2, 3], [0, 1], []])):
        fake_run(tmp_path / f"runs/margin/seed{seed}", "margin", seed, [0.1, 0.2, 0.3], counts=(2, 4, 6),
                 selections=selections, dataset=str(tmp_path / "data"))
    done = tmp_path / "runs/margin/seed1" / STATISTICS
    done.write_text(json.dumps({**json.loads(done.read_text()), "end_time": "2026-11-29T00:00:00"}))
    br.main(["--runs", str(tmp_path / "runs"), "--finished_only", "--out", str(tmp_path / "t.csv")])
    printed = capsys.readouterr().out
    assert "left out 1 run(s) still going" in printed and "| margin | 1 | 0.5000 | 0.500 |" in printed
    assert (tmp_path / "t.csv").read_text().splitlines()[0].startswith("strategy,seeds,mean_cosine")
