"""One benchmark run, from its ``train.py`` commands to its record; finished runs are reused.

A run is (task, entry, seed) at the task's budget. Its folder ``RUNS/<task>/<entry>-seed<S>-
<budget>`` is scratch space; the record in ``docs/benchmark/runs/`` is what stays. ``run_job``:

1. returns at once if the record exists (``reused``);
2. trains, unless the folder says training finished: a REINFORCE run that was stopped
   carries on from its ``last.pt`` (``train.py --resume``); an SB3 run cannot resume and
   starts again (its folder is cleared);
3. scores the final weights on the test split (``train.py --eval RUN --split test``);
4. writes the record (``benchmarks.run_records``) and returns ``done``.

A stop request (``stop`` set) reaches the ``train.py`` under way as a SIGTERM: it saves and
exits, and the run is left to a later invocation (``stopped``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from agents.checkpoint import CheckpointError, load_checkpoint
from agents.learning_curve import read_curve
from agents.metrics_log import read_rows
from agents.reinforce_config import ReinforceConfig
from agents.sb3_registry import CONFIG_FILE
from benchmarks.lineup import Entry
from benchmarks.logged_run import ROOT, run_stoppable
from benchmarks.protocol import TaskProtocol, steps_label
from benchmarks.run_records import CurvePoint, RecordError, RunRecord, record_name, write_record
from ram_env.atomic import write_json_atomic

STATE_FILE = "benchmark-state.json"  # in a run folder: training finished? times resumed
EVAL_FILE = "eval-test.json"  # what train.py --eval --split test writes
VERSIONED = ("numpy", "torch", "gymnasium", "stable-baselines3", "sb3-contrib", "ram-env")


@dataclass(frozen=True)
class Job:
    """One run of the benchmark."""

    task: TaskProtocol
    entry: Entry
    seed: int

    @property
    def name(self) -> str:
        return f"{self.task.name} {self.entry.name} seed {self.seed}"

    def run_dir(self, runs_dir: Path) -> Path:
        folder = f"{self.entry.name}-seed{self.seed}-{steps_label(self.task.budget_steps)}"
        return runs_dir / self.task.name / folder

    def record_file(self, records_dir: Path) -> Path:
        return records_dir / record_name(
            self.task.env_id, self.entry.name, self.seed, self.task.budget_steps
        )


@dataclass(frozen=True)
class Setup:
    """How the runs run: where, on how many threads, how many side by side."""

    runs_dir: Path
    records_dir: Path
    threads: int = 1
    parallel: int = 1
    train_script: Path = ROOT / "train.py"


# --------------------------------------------------------------------------- commands


def train_command(
    job: Job, run_dir: Path, threads: int, script: str = "train.py", curve: bool = True
) -> list[str]:
    """The ``train.py`` command of the run: the entry's flags, the task, seed and budget, and
    the learning curve's points (``curve``)."""
    task, entry = job.task, job.entry
    command = [script, "--algo", entry.algo, *entry.flags, "--env", task.env_id]
    command += ["--seed", str(job.seed), "--out", _shown(run_dir), "--threads", str(threads)]
    command += ["--no-progress"]
    if curve:
        command += ["--curve-every", str(task.curve_every)]
    if entry.is_reinforce:
        return command + ["--max-images", str(task.reinforce_images())]
    # No validation of 1,000 images every 30 s: the curve scores the whole split instead.
    return command + ["--total-timesteps", str(task.budget_steps), "--val-images", "0"]


def eval_command(job: Job, run_dir: Path, threads: int, script: str = "train.py") -> list[str]:
    """Score the final weights (REINFORCE: ``last.pt``; SB3: ``model.zip``) on the test split."""
    target = run_dir / "last.pt" if job.entry.is_reinforce else run_dir
    return [script, "--eval", _shown(target), "--split", "test", "--threads", str(threads)]


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (as a recorded command shows it)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- one run


def read_state(run_dir: Path) -> dict[str, Any]:
    path = run_dir / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {"trained": False, "resumed": 0}


def run_job(job: Job, setup: Setup, stop: threading.Event, log=print) -> str:
    """Train, score and record one run unless recorded already; returns what happened:
    ``reused``, ``done``, ``stopped`` or ``failed``."""
    if job.record_file(setup.records_dir).exists():
        return "reused"
    if stop.is_set():
        return "stopped"
    run_dir = job.run_dir(setup.runs_dir)
    log_file = run_dir.parent / f"{run_dir.name}.log"
    state = read_state(run_dir)
    python, script = sys.executable, str(setup.train_script)
    if not state["trained"]:
        command = train_command(job, run_dir, setup.threads, script)
        resume = job.entry.is_reinforce and (run_dir / "last.pt").exists()
        if resume:
            command.append("--resume")
            state["resumed"] += 1
        elif run_dir.exists():
            shutil.rmtree(run_dir)  # an SB3 run cannot carry on: it starts again
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        log(f"{job.name}: {'resuming' if resume else 'training'} ({job.task.budget_steps:,} steps)")
        status, seconds = run_stoppable([python, *command], log_file, setup.threads, stop)
        if status != 0:
            if stop.is_set():
                log(f"{job.name}: stopped; run it again to carry on")
                return "stopped"
            log(f"{job.name}: training failed (exit {status}); see {log_file}")
            return "failed"
        state = {
            "trained": True,
            "resumed": state["resumed"],
            "train_seconds": state.get("train_seconds", 0.0) + seconds,
            "command": train_command(job, run_dir, setup.threads),
        }
        write_json_atomic(run_dir / STATE_FILE, state)
    command = eval_command(job, run_dir, setup.threads, script)
    status, seconds = run_stoppable([python, *command], log_file, setup.threads, stop)
    if status != 0:
        log(f"{job.name}: test scoring failed (exit {status}); see {log_file}")
        return "stopped" if stop.is_set() else "failed"
    try:
        record = build_record(job, run_dir, setup, state, seconds)
        write_record(record, setup.records_dir)
    except (OSError, ValueError, KeyError, CheckpointError) as error:
        log(f"{job.name}: no record: {error}")
        return "failed"
    log(f"{job.name}: test accuracy {record.test_accuracy:.2f}% ({record.minutes:.1f} min)")
    return "done"


# --------------------------------------------------------------------------- the record


def build_record(
    job: Job, run_dir: Path, setup: Setup, state: dict[str, Any], eval_seconds: float
) -> RunRecord:
    """The record of a trained and scored run folder."""
    scored = json.loads((run_dir / EVAL_FILE).read_text())
    if job.entry.is_reinforce:
        track, steps, minutes, settings = _reinforce_run(run_dir, job.task.glimpses)
    else:
        track, steps, minutes, settings = _sb3_run(run_dir)
    if track != job.entry.track:
        raise RecordError(
            f"{run_dir} trained in the {track} track, but {job.entry.name} is {job.entry.track}"
        )
    return RunRecord(
        task=job.task.env_id,
        entry=job.entry.name,
        algo=job.entry.algo,
        track=track,
        seed=job.seed,
        budget_steps=job.task.budget_steps,
        reduced_budget=job.task.reduced,
        steps=steps,
        minutes=round(minutes, 3),
        wall_seconds=round(state.get("train_seconds", 0.0) + eval_seconds, 1),
        test_accuracy=float(scored["accuracy"]),
        test_images=int(scored["n"]),
        curve=tuple(CurvePoint(**point) for point in read_curve(run_dir)),
        command=("python", *state.get("command", train_command(job, run_dir, setup.threads))),
        eval_command=("python", *eval_command(job, run_dir, setup.threads)),
        settings=settings,
        hardware=hardware(setup),
        versions=versions(),
        commit=git_commit(),
        date=time.strftime("%Y-%m-%d"),
        resumed=int(state.get("resumed", 0)),
    )


def _reinforce_run(run_dir: Path, glimpses: int) -> tuple[str, int, float, dict[str, Any]]:
    checkpoint = load_checkpoint(run_dir / "last.pt")
    config = ReinforceConfig.from_dict(checkpoint["config"])
    last = read_rows(run_dir / "metrics.csv")[-1]
    settings = {key: value for key, value in config.to_dict().items() if value is not None}
    settings["precision"] = checkpoint.get("precision", config.precision)  # what auto became
    return config.track, int(last["images"]) * glimpses, float(last["minutes"]), settings


def _sb3_run(run_dir: Path) -> tuple[str, int, float, dict[str, Any]]:
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    kept = ("action_type", "num_envs", "policy", "policy_kwargs", "hyperparams")
    settings = {key: config[key] for key in kept if key in config}
    if "observation_transform" in config:
        settings["observation_transform"] = config["observation_transform"]
    result = config["result"]
    return config["track"], int(result["timesteps"]), float(result["minutes"]), settings


def hardware(setup: Setup) -> dict[str, Any]:
    """Where the run ran: the CPU, its cores, the run's threads and how many ran at once."""
    return {
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpus": os.cpu_count(),
        "threads": setup.threads,
        "runs_side_by_side": setup.parallel,
        "device": "cpu",
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def git_commit() -> str:
    """The checked-out commit, ``+dirty`` when tracked files differ from it ("" if no git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return commit + ("+dirty" if dirty else "")
