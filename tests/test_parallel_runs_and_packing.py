"""benchmarks/parallel_runs.py (runs side by side with a deadline) and benchmarks/pack_runs.py (size-limited packing)."""

import io
import json
import sys
import tarfile

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import pack_runs  # noqa: E402
import parallel_runs as pr  # noqa: E402


def test_jobs_go_group_by_group_and_seed_by_seed():
    jobs = pr.matrix_jobs("random,margin;bald", ["1", "2"], ["--config", "c.yaml"])
    assert [job.name for job in jobs] == ["random_seed1", "margin_seed1", "random_seed2", "margin_seed2",
                                          "bald_seed1", "bald_seed2"]
    command = jobs[0].command
    assert command[command.index("--strategy") + 1] == "random," and command[command.index("--seed") + 1] == "1,"
    assert command[-2:] == ["--config", "c.yaml"]


def _job(name, code):
    return pr.Job(name, [sys.executable, "-c", code])


def test_the_deadline_stops_what_still_runs_and_the_rest_finish(tmp_path):
    jobs = [_job("quick", "print('ok')"), _job("slow", "import time; time.sleep(60)"), _job("late", "pass")]
    assert pr.run_all(jobs, tmp_path, parallel=2, threads=1, deadline=4, fail_fast=0)
    assert [job.status for job in jobs] == ["finished", "stopped", "finished"]
    assert jobs[1].seconds < 30 and (tmp_path / "quick.log").read_text().strip() == "ok"


def test_an_early_failure_stops_every_run(tmp_path):
    jobs = [_job("broken", "raise SystemExit(3)"), _job("slow", "import time; time.sleep(60)"), _job("next", "pass")]
    assert not pr.run_all(jobs, tmp_path, parallel=2, threads=1, deadline=60, fail_fast=30)
    assert [(job.status, job.exit_code) for job in jobs] == [("failed", 3), ("stopped", None), ("waiting", None)]


def _fake_run(folder, rounds=2, n=200, labels=30):
    rng = np.random.default_rng(0)
    (folder / "eval").mkdir(parents=True)
    (folder / "checkpoints" / "round_0").mkdir(parents=True)
    (folder / "checkpoints" / "round_0" / "model.safetensors").write_bytes(b"x" * 1000)
    (folder / "metrics.csv").write_text("round,labeled_count\n0,100\n")
    index = {"rounds": {}}
    for r in range(rounds):
        arrays = {"test_probs": rng.random((n, labels), dtype=np.float32),
                  "validation_probs": rng.random((n, labels), dtype=np.float32),
                  "test_targets": (rng.random((n, labels)) < 0.1).astype(np.float32)}
        np.savez_compressed(folder / "eval" / f"round_{r:03d}.npz", **arrays)
        index["rounds"][str(r)] = {"file": f"round_{r:03d}.npz", "arrays": {k: list(v.shape) for k, v in arrays.items()}}
    (folder / "eval" / "index.json").write_text(json.dumps(index))
    return arrays


def _unpack(out, name):
    data = b"".join(path.read_bytes() for path in sorted(out.glob(f"{name}.tar.part*"),
                                                            key=lambda p: int(p.name.rsplit("part", 1)[1])))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {member.name: tar.extractfile(member).read() if member.isfile() else None for member in tar}


def test_packing_under_the_limit_keeps_every_array_and_leaves_checkpoints(tmp_path):
    last = _fake_run(tmp_path / "runs" / "a" / "random" / "seed1")
    assert pack_runs.main(["--root", str(tmp_path / "runs"), "--runs", "a", "missing", "--out", str(tmp_path / "out"),
                           "--name", "t", "--part_mib", "0.05", "--total_mib", "10"]) == 0
    files = _unpack(tmp_path / "out", "t")
    assert len(list((tmp_path / "out").glob("t.tar.part*"))) > 1  # split into parts, joined back whole
    assert not any("checkpoints" in name for name in files) and "a/random/seed1/metrics.csv" in files
    with np.load(io.BytesIO(files["a/random/seed1/eval/round_001.npz"])) as saved:
        assert np.array_equal(saved["validation_probs"], last["validation_probs"])
    assert "a/random/seed1/PACKED.txt" not in files


def test_packing_over_the_limit_leaves_out_validation_probs_and_says_so(tmp_path):
    last = _fake_run(tmp_path / "runs" / "a" / "random" / "seed1")
    limit = 0.06  # MiB: the archive with every array is larger, without validation_probs smaller
    assert pack_runs.main(["--root", str(tmp_path / "runs"), "--runs", "a", "--out", str(tmp_path / "out"),
                           "--name", "t", "--total_mib", str(limit)]) == 0
    files = _unpack(tmp_path / "out", "t")
    with np.load(io.BytesIO(files["a/random/seed1/eval/round_001.npz"])) as saved:
        assert "validation_probs" not in saved.files
        assert np.array_equal(saved["test_probs"], last["test_probs"])
    index = json.loads(files["a/random/seed1/eval/index.json"])
    assert all("validation_probs" not in record["arrays"] for record in index["rounds"].values())
    assert b"validation_probs" in files["a/random/seed1/PACKED.txt"]
    # the originals are untouched
    with np.load(tmp_path / "runs" / "a" / "random" / "seed1" / "eval" / "round_001.npz") as original:
        assert "validation_probs" in original.files


def test_nothing_to_pack_is_an_error(tmp_path, capsys):
    assert pack_runs.main(["--root", str(tmp_path), "--runs", "none", "--out", str(tmp_path / "o"), "--name", "t"]) == 2
    assert "nothing to pack" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--jobs", "0"], ["--threads", "0"]])
def test_bad_counts_are_refused(option, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        pr.main(["--config", "c.yaml", "--output_dir", str(tmp_path), "--strategies", "random", *option])
    assert exit_info.value.code == 2


def test_a_plan_queues_its_matrices_in_order_with_their_own_options(tmp_path):
    plan = {"options": ["--model", "m"], "groups": [
        {"config": "r.yaml", "output_dir": "out/ref", "reference_epochs": 8},
        {"config": "g.yaml", "output_dir": "out/km", "strategies": "random", "seeds": "1,2",
         "options": ["--initial_sampling", "kmeans"]}]}
    jobs = pr.plan_jobs(plan, ["--rounds", "2"])
    assert [job.name for job in jobs] == ["ref.reference", "km.random_seed1", "km.random_seed2"]
    reference = jobs[0].command
    assert "reference" in reference and reference[reference.index("--num_train_epochs") + 1] == "8"
    kmeans = jobs[1].command
    assert kmeans[kmeans.index("--output_dir") + 1] == "out/km" and kmeans[kmeans.index("--config") + 1] == "g.yaml"
    assert kmeans[-6:] == ["--model", "m", "--initial_sampling", "kmeans", "--rounds", "2"]  # later options win


def test_the_committed_plans_name_real_configs(tmp_path):
    for path in (ROOT / "benchmarks" / "gpu_plans").glob("*.json"):
        jobs = pr.plan_jobs(json.loads(path.read_text()), [])
        assert jobs and len({job.name for job in jobs}) == len(jobs)
        for job in jobs:
            assert (ROOT / job.command[job.command.index("--config") + 1]).is_file()


def test_a_broken_plan_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "plan.json").write_text('{"groups": [{"config": "c.yaml"}]}')
    with pytest.raises(SystemExit) as exit_info:
        pr.main(["--plan", str(tmp_path / "plan.json"), "--output_dir", str(tmp_path)])
    assert exit_info.value.code == 2 and "KeyError" in capsys.readouterr().err
