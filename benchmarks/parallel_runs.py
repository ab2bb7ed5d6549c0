"""Run many resumable ``run_active_learning.py`` runs side by side on one machine, with a deadline.

Made for a GPU lent for minutes (``benchmarks/gpu_matrix.sh``): one small model leaves a large GPU mostly idle, so
several runs share it, each process on its own CPU threads. Runs start in the order given (the most wanted
first); a run still going at ``--deadline`` seconds is stopped and listed as unfinished: the same command again
resumes it from its last finished round (pool its numbers only with runs of the same machine kind), and skips the
runs that finished. When a run fails within ``--fail_fast`` seconds of its own start, everything stops at once: a
broken set-up costs seconds, not the lease. Stopping this script (SIGTERM, Ctrl-C) stops every run it started.

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
import contextlib
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
sys.path.insert(0, str(ROOT))

from mlal.run_format import STATISTICS, strategy_folder  # noqa: E402

STOP_GRACE_SECONDS = 15  # after SIGTERM, before SIGKILL


@dataclass
class Job:
    """One run: its name, its command and, once started, its process and outcome."""

    name: str
    command: list[str]
    folder: Optional[Path] = None  # the run folder: a run finished there with the same options is not started again
    status: str = "waiting"  # waiting, running, finished, failed (exit code), stopped (deadline), done before
    exit_code: Optional[int] = None
    seconds: Optional[float] = None
    started: Optional[float] = field(default=None, repr=False)
    process: Optional[subprocess.Popen] = field(default=None, repr=False)


def matrix_jobs(strategies: str, seeds: list[str], options: list[str], output_dir: Optional[str] = None) -> list[Job]:
    """Jobs in priority order: each ';'-separated group of strategies, seed by seed (``output_dir``: the
    matrix's folder, where each run's folder is found)."""
    jobs = []
    for group in strategies.split(";"):
        names = [name.strip() for name in group.split(",") if name.strip()]
        for seed in seeds:
            for strategy in names:
                # The trailing commas make a one-run sweep, so the run gets the sweep's folder layout.
                command = [sys.executable, str(ROOT / "run_active_learning.py"), "--disable_tqdm", "true",
                           "--strategy", f"{strategy},", "--seed", f"{seed},", *options]
                folder = Path(output_dir) / strategy_folder(strategy) / f"seed{seed}" if output_dir else None
                jobs.append(Job(f"{strategy}_seed{seed}", command, folder))
    return jobs


def finished_before(job: Job) -> bool:
    """Whether the job's run folder holds a run that finished (an end time in its statistics) from the very options
    the job would pass; anything else is left to the run itself, which resumes it, skips it or refuses to mix."""
    try:
        statistics = json.loads((job.folder / STATISTICS).read_text()) if job.folder else {}
    except (OSError, ValueError):
        return False
    recorded = statistics.get("provenance", {}).get("command") or []
    return bool(statistics.get("end_time")) and recorded[1:] == job.command[2:]


def start(job: Job, console: Path, threads: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")
    with open(console / f"{job.name}.log", "w") as log:  # the child keeps its own copy of the handle
        # Its own process group: stopping a run also stops what it started.
        job.process = subprocess.Popen(job.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
    job.started, job.status = time.monotonic(), "running"


def collect(job: Job, now: float) -> bool:
    """Record a running job's outcome if its process has exited; True when it has."""
    if job.process.poll() is None:
        return False
    job.exit_code, job.seconds = job.process.returncode, now - job.started
    job.status = "finished" if job.exit_code == 0 else "failed"
    return True


def _signal_group(job: Job, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(job.process.pid, number)


def stop_all(jobs: list[Job]) -> list[Job]:
    """Stop every running job at once: SIGTERM to each process group, a grace period, then SIGKILL to each group
    (descendants too, even where the run itself exited). A job that exits on its own before it is stopped is
    recorded as such. Returns the jobs stopped."""
    now = time.monotonic()
    running = [job for job in jobs if job.status == "running" and not collect(job, now)]
    for job in running:
        _signal_group(job, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for job in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            job.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
    for job in running:
        _signal_group(job, signal.SIGKILL)
        job.process.wait()
        job.status, job.seconds = "stopped", time.monotonic() - job.started
    return running


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def device_name() -> str:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    except Exception as exc:  # the report names the device; a failure to ask must not stop the runs
        return f"unknown ({exc.__class__.__name__})"


def run_all(jobs: list[Job], *, console: Path, parallel: int, threads: int, deadline: float,
            fail_fast: float) -> bool:
    """Start waiting jobs while fewer than ``parallel`` run; stop everything at ``deadline`` seconds. False when
    a job failed within ``fail_fast`` seconds of its own start (the others are stopped). Jobs whose run folder
    holds a finished run are not started ("done before")."""
    for job in jobs:
        if job.status == "waiting" and finished_before(job):
            job.status = "done before"
    began = last_report = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            for job in jobs:
                if job.status == "running" and collect(job, now):
                    print(f"[{now - began:6.0f} s] {job.name}: {job.status} in {job.seconds:.0f} s", flush=True)
                    if job.status == "failed":
                        print(tail(console / f"{job.name}.log"), flush=True)
                        if job.seconds < fail_fast:
                            print(f"{job.name} failed {job.seconds:.0f} s after its start (under {fail_fast:.0f} "
                                  "s): stopping every run", flush=True)
                            stop_all(jobs)
                            return False
            running = [job for job in jobs if job.status == "running"]
            waiting = [job for job in jobs if job.status == "waiting"]
            if now - began >= deadline:
                for job in stop_all(jobs):
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
    finally:  # stopped from outside (SIGTERM, Ctrl-C) or an error here: no run outlives this script
        stop_all(jobs)


def _raise_interrupt(number, frame):
    raise KeyboardInterrupt(f"signal {number}")


def reference_job(*, config: str, output_dir: str, epochs: int, options: list[str], name: str) -> Job:
    """The full-data ceiling (``label_efficiency.py reference``, seed 1) as one job."""
    command = [sys.executable, str(ROOT / "benchmarks" / "label_efficiency.py"), "reference", "--config", config,
               "--num_train_epochs", str(epochs), "--output_dir", output_dir, *options]
    return Job(name, command, Path(output_dir) / "random" / "seed1")


def _seeds(value) -> list[str]:
    """A plan's seeds: "1,2,3" or [1, 2, 3]."""
    if isinstance(value, list) and all(isinstance(seed, int) for seed in value):
        return [str(seed) for seed in value]
    if isinstance(value, (str, int)) and all(part.strip().isdigit() for part in str(value).split(",")):
        return [part.strip() for part in str(value).split(",")]
    raise ValueError(f"seeds must be like \"1,2,3\" or [1, 2, 3], not {value!r}")


GROUP_KEYS = {"config", "output_dir", "strategies", "seeds", "options", "reference_epochs"}


def plan_jobs(plan: dict, extra: list[str]) -> list[Job]:
    """Jobs of a plan file, group by group: ``{"options": [...], "groups": [{"config", "output_dir", "strategies",
    "seeds", "options", "reference_epochs"}, ...]}`` (a group with ``reference_epochs`` is one full-data run).
    Raises ValueError on an unknown key or two groups whose folders share a name (their consoles would clash)."""
    jobs = []
    names = [Path(group["output_dir"]).name for group in plan["groups"]]
    if len(set(names)) != len(names):
        raise ValueError(f"two groups write to folders of the same name: {names}")
    for group in plan["groups"]:
        unknown = sorted(set(group) - GROUP_KEYS)
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} in a group (known: {', '.join(sorted(GROUP_KEYS))})")
        options = [*plan.get("options", []), *group.get("options", []), *extra]
        prefix = Path(group["output_dir"]).name
        if group.get("reference_epochs"):
            jobs.append(reference_job(config=group["config"], output_dir=group["output_dir"],
                                      epochs=group["reference_epochs"], options=options, name=f"{prefix}.reference"))
            continue
        if not isinstance(group["strategies"], str) or not group["strategies"].strip(" ,;"):
            raise ValueError(f"strategies must be a string like \"random,margin;bald\", not {group['strategies']!r}")
        for job in matrix_jobs(group["strategies"], _seeds(group.get("seeds", "1,2,3")),
                               ["--config", group["config"], "--output_dir", group["output_dir"], *options],
                               group["output_dir"]):
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
    if args.jobs < 1 or args.threads < 1 or args.deadline <= 0:
        parser.error("--jobs and --threads must be at least 1 and --deadline positive")
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
            jobs.append(reference_job(config=args.config, output_dir=f"{str(output).rstrip('/')}_full_data",
                                      epochs=args.reference_epochs, options=extra, name="full_data_seed1"))
        jobs += matrix_jobs(args.strategies, args.seeds.split(","),
                            ["--config", args.config, "--output_dir", str(output), *extra], str(output))
    console = output / "console"
    console.mkdir(parents=True, exist_ok=True)
    began = time.time()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # a stopped script stops its runs (run_all's finally)
    try:
        completed = run_all(jobs, console=console, parallel=args.jobs, threads=args.threads,
                            deadline=args.deadline, fail_fast=args.fail_fast)
    except KeyboardInterrupt:
        print("stopped from outside: every run stopped (the same command resumes them)", flush=True)
        completed = False
    finally:
        signal.signal(signal.SIGTERM, previous)
    command = [sys.executable, __file__, *(sys.argv[1:] if argv is None else argv)]
    report = {"device": device_name(), "command": command, "started": began,
              "wall_seconds": time.time() - began, "jobs_at_a_time": args.jobs, "threads_per_job": args.threads,
              "runs": [{"name": job.name, "status": job.status, "exit_code": job.exit_code, "seconds": job.seconds,
                        "command": job.command} for job in jobs]}
    (output / "parallel_runs.json").write_text(json.dumps(report, indent=1))
    counts = {status: sum(job.status == status for job in jobs)
              for status in ("finished", "done before", "failed", "stopped", "waiting")}
    print(f"done in {report['wall_seconds']:.0f} s on {report['device']}: " +
          ", ".join(f"{count} {status}" for status, count in counts.items()), flush=True)
    return 0 if completed and not counts["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
