"""Run many resumable ``run_active_learning.py`` runs side by side on one machine, with a deadline.

Made for a GPU lent for minutes (``benchmarks/gpu_matrix.sh``): one small model leaves a large GPU mostly idle, so
several runs share it, each process on its own CPU threads. Runs start in the order given (the most wanted
first); a run still going at ``--deadline`` seconds is stopped and listed as unfinished (its folder resumes
where a later command left off, on the same machine kind only if its numbers are to be pooled). When a run fails
within ``--fail_fast`` seconds of the start, everything stops at once: a broken set-up costs seconds, not the lease.

Each run gets the sweep runner's folder layout (OUTPUT_DIR/<strategy>/seed<k>) and its console in
OUTPUT_DIR/console/<strategy>_seed<k>.log; ``OUTPUT_DIR/parallel_runs.json`` records every run's exit status
and seconds, the device and the command::

    python benchmarks/parallel_runs.py --config configs/bench_reuters.yaml --output_dir results/label_efficiency/reuters \
        --strategies "random,margin,beal,badge;entropy,cvirs,bald,coreset" --seeds 1,2,3 --jobs 12 --deadline 450

``--strategies`` takes groups separated by ';': a group's runs go seed by seed, so a matrix cut short still
holds paired seeds of the group that matters most. Options this script does not know go to every run.
``--plan FILE`` runs several matrices (each its own folder, config and options) in one queue instead
(``plan_jobs``; ``benchmarks/gpu_plans/``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Job:
    """One run: its name, its command and, once started, its process and outcome."""

    name: str
    command: list[str]
    status: str = "waiting"  # waiting, running, finished, failed (exit code), stopped (deadline)
    exit_code: Optional[int] = None
    seconds: Optional[float] = None
    started: Optional[float] = field(default=None, repr=False)
    process: Optional[subprocess.Popen] = field(default=None, repr=False)


def matrix_jobs(strategies: str, seeds: list[str], options: list[str]) -> list[Job]:
    """Jobs in priority order: each ';'-separated group of strategies, seed by seed."""
    jobs = []
    for group in strategies.split(";"):
        names = [name.strip() for name in group.split(",") if name.strip()]
        for seed in seeds:
            for strategy in names:
                # The trailing commas make a one-run sweep, so the run gets the sweep's folder layout.
                command = [sys.executable, str(ROOT / "run_active_learning.py"), "--disable_tqdm", "true",
                           "--strategy", f"{strategy},", "--seed", f"{seed},", *options]
                jobs.append(Job(f"{strategy}_seed{seed}", command))
    return jobs


def start(job: Job, console: Path, threads: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")
    log = open(console / f"{job.name}.log", "w")
    # Its own process group: stopping a run at the deadline also stops what it started.
    job.process = subprocess.Popen(job.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    job.started, job.status = time.monotonic(), "running"


def stop(job: Job) -> None:
    try:
        os.killpg(job.process.pid, signal.SIGTERM)
        job.process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(job.process.pid, signal.SIGKILL)
    job.status, job.seconds = "stopped", time.monotonic() - job.started


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def device_name() -> str:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    except Exception as exc:  # the report names the device; a failure to ask must not stop the runs
        return f"unknown ({exc.__class__.__name__})"


def run_all(jobs: list[Job], console: Path, parallel: int, threads: int, deadline: float, fail_fast: float) -> bool:
    """Start waiting jobs while fewer than ``parallel`` run; stop everything at ``deadline`` seconds. False when
    a job failed within ``fail_fast`` seconds (the others are stopped)."""
    began = time.monotonic()
    last_report = began
    while True:
        now = time.monotonic()
        for job in jobs:
            if job.status == "running" and job.process.poll() is not None:
                job.exit_code, job.seconds = job.process.returncode, now - job.started
                job.status = "finished" if job.exit_code == 0 else "failed"
                print(f"[{now - began:6.0f} s] {job.name}: {job.status} in {job.seconds:.0f} s", flush=True)
                if job.status == "failed":
                    print(tail(console / f"{job.name}.log"), flush=True)
                    if now - began < fail_fast:
                        print(f"{job.name} failed within {fail_fast:.0f} s: stopping every run", flush=True)
                        for other in jobs:
                            if other.status == "running":
                                stop(other)
                        return False
        running = [job for job in jobs if job.status == "running"]
        waiting = [job for job in jobs if job.status == "waiting"]
        if now - began >= deadline:
            for job in running:
                stop(job)
                print(f"[{now - began:6.0f} s] {job.name}: stopped at the deadline after {job.seconds:.0f} s",
                      flush=True)
            return True
        if not running and not waiting:
            return True
        for job in waiting[: parallel - len(running)]:
            start(job, console, threads)
        if now - last_report >= 60:
            last_report = now
            print(f"[{now - began:6.0f} s] running {len(running)}, waiting {len(waiting)}, "
                  f"finished {sum(job.status == 'finished' for job in jobs)}", flush=True)
        time.sleep(1)


def reference_job(config: str, output_dir: str, epochs: int, options: list[str], name: str) -> Job:
    """The full-data ceiling (``label_efficiency.py reference``) as one job."""
    command = [sys.executable, str(ROOT / "benchmarks" / "label_efficiency.py"), "reference", "--config", config,
               "--num_train_epochs", str(epochs), "--output_dir", output_dir, *options]
    return Job(name, command)


def plan_jobs(plan: dict, extra: list[str]) -> list[Job]:
    """Jobs of a plan file, group by group: ``{"options": [...], "groups": [{"config", "output_dir", "strategies",
    "seeds", "options", "reference_epochs"}, ...]}`` (a group with ``reference_epochs`` is one full-data run)."""
    jobs = []
    for group in plan["groups"]:
        options = [*plan.get("options", []), *group.get("options", []), *extra]
        prefix = Path(group["output_dir"]).name
        if group.get("reference_epochs"):
            jobs.append(reference_job(group["config"], group["output_dir"], group["reference_epochs"], options,
                                      f"{prefix}.reference"))
            continue
        for job in matrix_jobs(group["strategies"], str(group.get("seeds", "1,2,3")).split(","),
                               ["--config", group["config"], "--output_dir", group["output_dir"], *options]):
            job.name = f"{prefix}.{job.name}"
            jobs.append(job)
    return jobs


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", help="a JSON plan of several matrices (plan_jobs); replaces the next four options")
    parser.add_argument("--config")
    parser.add_argument("--output_dir", help="the matrix's folder; with --plan, where the consoles and report go")
    parser.add_argument("--strategies", help="groups of comma-separated strategies, split by ';'")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--jobs", type=int, default=4, help="runs at a time")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per run")
    parser.add_argument("--deadline", type=float, default=float("inf"), help="seconds; runs still going are stopped")
    parser.add_argument("--fail_fast", type=float, default=120.0,
                        help="a run failing within this many seconds stops everything (a broken set-up)")
    parser.add_argument("--reference_epochs", type=int, default=0,
                        help="also run the full-data ceiling first (label_efficiency.py reference) with this many "
                             "epochs into OUTPUT_DIR_full_data; 0: no")
    args, extra = parser.parse_known_args(argv)
    if args.jobs < 1 or args.threads < 1:
        parser.error("--jobs and --threads must be at least 1")
    if not args.output_dir or not (args.plan or (args.config and args.strategies)):
        parser.error("give --output_dir and either --plan or both --config and --strategies")
    output = Path(args.output_dir)
    if args.plan:
        try:
            jobs = plan_jobs(json.loads(Path(args.plan).read_text()), extra)
        except (OSError, ValueError, KeyError, TypeError) as error:
            parser.error(f"cannot use the plan {args.plan} ({error.__class__.__name__}: {error}); fix the file")
    else:
        jobs = []
        if args.reference_epochs:
            jobs.append(reference_job(args.config, f"{str(output).rstrip('/')}_full_data", args.reference_epochs,
                                      extra, "full_data_seed1"))
        jobs += matrix_jobs(args.strategies, args.seeds.split(","),
                            ["--config", args.config, "--output_dir", str(output), *extra])
    console = output / "console"
    console.mkdir(parents=True, exist_ok=True)
    began = time.time()
    completed = run_all(jobs, console, args.jobs, args.threads, args.deadline, args.fail_fast)
    report = {"device": device_name(), "command": [sys.executable, *sys.argv], "started": began,
              "wall_seconds": time.time() - began, "jobs_at_a_time": args.jobs, "threads_per_job": args.threads,
              "runs": [{"name": job.name, "status": job.status, "exit_code": job.exit_code, "seconds": job.seconds,
                        "command": job.command} for job in jobs]}
    (output / "parallel_runs.json").write_text(json.dumps(report, indent=1))
    counts = {status: sum(job.status == status for job in jobs) for status in ("finished", "failed", "stopped",
                                                                                "waiting")}
    print(f"done in {report['wall_seconds']:.0f} s on {report['device']}: " +
          ", ".join(f"{count} {status}" for status, count in counts.items()), flush=True)
    return 0 if completed and not counts["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
