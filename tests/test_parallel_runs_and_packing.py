"""benchmarks/parallel_runs.py (runs side by side with a deadline) and benchmarks/pack_runs.py (size-limited packing)."""

import io
import json
import sys
import tarfile
import time
from pathlib import Path

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
    assert pr.run_all(jobs, console=tmp_path, parallel=2, threads=1, deadline=4, fail_fast=0)
    assert [job.status for job in jobs] == ["finished", "stopped", "finished"]
    assert jobs[1].seconds < 30 and (tmp_path / "quick.log").read_text().strip() == "ok"


def test_an_early_failure_stops_every_run(tmp_path):
    jobs = [_job("broken", "raise SystemExit(3)"), _job("slow", "import time; time.sleep(60)"), _job("next", "pass")]
    assert not pr.run_all(jobs, console=tmp_path, parallel=2, threads=1, deadline=60, fail_fast=30)
    assert [(job.status, job.exit_code) for job in jobs] == [("failed", 3), ("stopped", None), ("waiting", None)]


def test_fail_fast_counts_from_each_runs_own_start(tmp_path):
    """A broken run that starts late (a later plan group) still stops everything; a run failing after a long
    life does not."""
    jobs = [_job("first", "import time; time.sleep(3)"), _job("broken_later", "raise SystemExit(1)"),
            _job("after", "import time; time.sleep(60)")]
    assert not pr.run_all(jobs, console=tmp_path, parallel=1, threads=1, deadline=60, fail_fast=2)
    assert [job.status for job in jobs] == ["finished", "failed", "waiting"]
    late = [_job("long_then_fails", "import time; time.sleep(3); raise SystemExit(1)"), _job("next", "pass")]
    assert pr.run_all(late, console=tmp_path, parallel=1, threads=1, deadline=60, fail_fast=2)
    assert [job.status for job in late] == ["failed", "finished"]


def test_stopping_a_run_stops_what_it_started(tmp_path):
    """The run's own children die with it (its process group), even a child that ignores SIGTERM after the run
    itself has exited on it."""
    pid_file = tmp_path / "child.pid"
    child_code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
    code = (f"import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', {child_code!r}]); "
            f"time.sleep(1); open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(120)")
    jobs = [_job("parent", code)]
    pr.STOP_GRACE_SECONDS, grace = 1, pr.STOP_GRACE_SECONDS
    try:
        assert pr.run_all(jobs, console=tmp_path, parallel=1, threads=1, deadline=4, fail_fast=0)
    finally:
        pr.STOP_GRACE_SECONDS = grace
    assert jobs[0].status == "stopped"
    child = int(pid_file.read_text())
    for _ in range(50):  # reaped by init once killed; a live process still has a /proc entry that is not a zombie
        state = Path(f"/proc/{child}/stat")
        if not state.exists() or state.read_text().split()[2] == "Z":
            break
        time.sleep(0.1)
    else:
        pytest.fail("the run's child outlived it")


def test_a_finished_run_is_not_started_again(tmp_path):
    """Skipped only when it finished from the same options; otherwise the run itself decides (resume, refuse)."""
    jobs = pr.matrix_jobs("random,margin,bald", ["1"], [], str(tmp_path / "out"))
    for job, recorded, end in [(jobs[0], "pass", "2026-11-29T12:00:00"),   # finished, same options: skipped
                               (jobs[1], "other", "2026-11-29T12:00:00"),  # finished from other options
                               (jobs[2], "pass", None)]:                   # not finished
        job.command = [sys.executable, "-c", "pass"]  # a harmless program whose "options" are ["pass"]
        job.folder.mkdir(parents=True)
        statistics = {"end_time": end, "provenance": {"command": ["run_active_learning.py", recorded]}}
        (job.folder / "statistics.json").write_text(json.dumps(statistics))
    assert pr.run_all(jobs, console=tmp_path, parallel=2, threads=1, deadline=30, fail_fast=0)
    assert [job.status for job in jobs] == ["done before", "finished", "finished"]
    assert jobs[1].folder == tmp_path / "out" / "margin" / "seed1"


def test_main_reports_every_run_and_its_exit_code(tmp_path, monkeypatch):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"groups": [{"config": "c.yaml", "output_dir": str(tmp_path / "m"),
                                            "strategies": "random", "seeds": "1,2"}]}))
    monkeypatch.setattr(pr, "matrix_jobs", lambda *args: [_job("ok", "pass"), _job("bad", "raise SystemExit(4)")])
    assert pr.main(["--plan", str(plan), "--output_dir", str(tmp_path / "c"), "--fail_fast", "0"]) == 1
    report = json.loads((tmp_path / "c" / "parallel_runs.json").read_text())
    assert [(run["name"], run["status"], run["exit_code"]) for run in report["runs"]] == [
        ("m.ok", "finished", 0), ("m.bad", "failed", 4)]


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
    data = b"".join(path.read_bytes() for path in sorted(out.glob(f"{name}.tar.part*")))  # the shell's order
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {member.name: tar.extractfile(member).read() if member.isfile() else None for member in tar}


def test_packing_under_the_limit_keeps_every_array_and_leaves_checkpoints(tmp_path):
    last = _fake_run(tmp_path / "runs" / "a" / "random" / "seed1")
    assert pack_runs.main(["--root", str(tmp_path / "runs"), "--runs", "a", "missing", "--out", str(tmp_path / "out"),
                           "--name", "t", "--part_mib", "0.005", "--total_mib", "10", "--max_parts", "50"]) == 0
    files = _unpack(tmp_path / "out", "t")
    assert len(list((tmp_path / "out").glob("t.tar.part*"))) > 10  # split into parts, joined back whole
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


def test_still_over_the_limit_writes_nothing(tmp_path, capsys):
    _fake_run(tmp_path / "runs" / "a" / "random" / "seed1")
    assert pack_runs.main(["--root", str(tmp_path / "runs"), "--runs", "a", "--out", str(tmp_path / "out"),
                           "--name", "t", "--total_mib", "0.01"]) == 2
    assert not list((tmp_path / "out").glob("t.tar.part*")) and "pack fewer folders" in capsys.readouterr().err


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


def test_the_committed_plans_are_runs_the_command_line_accepts():
    from mlal.config import parse_configs

    for path in (ROOT / "benchmarks" / "gpu_plans").glob("*.json"):
        jobs = pr.plan_jobs(json.loads(path.read_text()), [])
        assert jobs and len({job.name for job in jobs}) == len(jobs) == len({job.folder for job in jobs})
        for job in jobs:
            if "reference" not in job.command:
                options = job.command[job.command.index("--disable_tqdm"):]
                assert len(parse_configs(options)) == 1, job.name


def test_plans_are_checked(tmp_path):
    group = {"config": "c.yaml", "output_dir": "a/x", "strategies": "random", "seeds": [1, 2]}
    assert [job.name for job in pr.plan_jobs({"groups": [group]}, [])] == ["x.random_seed1", "x.random_seed2"]
    for bad, message in [({"groups": [group, dict(group, output_dir="b/x")]}, "same name"),
                         ({"groups": [dict(group, seed=1)]}, "unknown key 'seed'"),
                         ({"groups": [dict(group, seeds="1,two")]}, "seeds must be"),
                         ({"groups": [dict(group, strategies=" ; ")]}, "strategies must be")]:
        with pytest.raises(ValueError, match=message):
            pr.plan_jobs(bad, [])


def test_a_broken_plan_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "plan.json").write_text('{"groups": [{"config": "c.yaml"}]}')
    with pytest.raises(SystemExit) as exit_info:
        pr.main(["--plan", str(tmp_path / "plan.json"), "--output_dir", str(tmp_path)])
    assert exit_info.value.code == 2 and "KeyError" in capsys.readouterr().err


def test_stopping_the_script_stops_its_runs(tmp_path):
    """SIGTERM to parallel_runs (a tool's time limit, a kill) leaves no run going on its own."""
    import subprocess

    pid_file = tmp_path / "run.pid"
    run_code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    driver = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import parallel_runs as pr; "
              f"pr.STOP_GRACE_SECONDS = 1; "
              f"pr.matrix_jobs = lambda *a: [pr.Job('sleeper', [sys.executable, '-c', {run_code!r}])]; "
              f"sys.exit(pr.main(['--config', 'c.yaml', '--strategies', 'random', '--output_dir', {str(tmp_path)!r}]))")
    script = subprocess.Popen([sys.executable, "-c", driver])
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    script.terminate()
    assert script.wait(timeout=60) == 1
    run = int(pid_file.read_text())
    assert not Path(f"/proc/{run}").exists() or Path(f"/proc/{run}/stat").read_text().split()[2] == "Z"
    report = json.loads((tmp_path / "parallel_runs.json").read_text())
    assert [run["status"] for run in report["runs"]] == ["stopped"]
