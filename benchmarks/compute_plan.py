"""What the benchmark costs on this machine: measured speeds, and hours per task and algorithm.

``measure_speed`` trains one short run of an entry on a task (``SPEED_STEPS`` env steps,
at least ``REINFORCE_UPDATES`` updates for REINFORCE, one thread, no validation) and times
the test scoring of it; the measurements go to ``docs/benchmark/speed.json``. A planned run
then takes ``budget / steps per second`` of training, plus a whole-split scoring per curve
point and the test scoring (``run_seconds``). Where records of finished runs exist, their
measured wall time is used instead. ``plan`` turns that into hours for the planned seeds,
and into sessions of ``SESSION_HOURS`` with ``parallel`` runs side by side.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from agents.metrics_log import read_rows
from agents.reinforce_config import ReinforceConfig
from agents.sb3_registry import CONFIG_FILE
from benchmarks.benchmark_runs import Job, cpu_model, eval_command, train_command
from benchmarks.lineup import Entry
from benchmarks.logged_run import run_stoppable
from benchmarks.protocol import TaskProtocol
from benchmarks.run_records import RunRecord
from ram_env.atomic import write_json_atomic

SPEED_FORMAT = "ram-env-benchmark-speed/1"
SPEED_STEPS = 20_000
REINFORCE_UPDATES = 10
START_UP_SECONDS = 10.0  # per process: imports, env and model
SESSION_HOURS = 2.5
PLANNED_PARALLEL = 2  # runs side by side on the 2 cores, one thread each


@dataclass(frozen=True)
class Speed:
    """One short timed run of an entry on a task."""

    task: str
    entry: str
    steps: int
    steps_per_second: float  # training alone: no validation, start-up excluded
    eval_seconds: float  # the test split's 10,000 canvases, process start-up included
    threads: int
    load_average: float  # the machine's 1-minute load when it started (a busy machine is slower)
    processor: str
    date: str


def read_speeds(path: Path) -> dict[tuple[str, str], Speed]:
    """(task, entry) -> its latest measurement (none if the file does not exist)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if data.get("format") != SPEED_FORMAT:
        raise ValueError(f"{path} is not a speed file ({SPEED_FORMAT})")
    return {(item["task"], item["entry"]): Speed(**item) for item in data["measurements"]}


def write_speeds(path: Path, speeds: dict[tuple[str, str], Speed]) -> None:
    measurements = [asdict(speed) for _, speed in sorted(speeds.items())]
    write_json_atomic(path, {"format": SPEED_FORMAT, "measurements": measurements})


def speed_task(task: TaskProtocol, entry: Entry) -> TaskProtocol:
    """``task`` with the short budget of a speed measurement."""
    steps = SPEED_STEPS
    if entry.is_reinforce:  # a few whole updates
        steps = max(steps, REINFORCE_UPDATES * ReinforceConfig().batch_size * task.glimpses)
    return replace(task, budget_steps=steps, curve_points=1)  # (a curve it does not score)


def measure_speed(
    task: TaskProtocol, entry: Entry, threads: int, stop: threading.Event, log=print
) -> Speed | None:
    """Time a short run of ``entry`` on ``task`` and its test scoring (None if it failed)."""
    short = speed_task(task, entry)
    job = Job(short, entry, seed=0)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ram-env-speed-") as folder:
        run_dir = Path(folder) / "run"
        train = train_command(job, run_dir, threads, curve=False)
        log_file = Path(folder) / "run.log"
        status, _ = run_stoppable([sys.executable, *train], log_file, threads, stop)
        if status != 0:
            log(f"{task.name} {entry.name}: the speed run failed:\n{log_file.read_text()[-2000:]}")
            return None
        steps_per_second, steps = _measured(run_dir, entry, task.glimpses)
        command = [sys.executable, *eval_command(job, run_dir, threads)]
        status, eval_seconds = run_stoppable(command, log_file, threads, stop)
        if status != 0:
            log(f"{task.name} {entry.name}: scoring failed:\n{log_file.read_text()[-2000:]}")
            return None
    return Speed(
        task.env_id,
        entry.name,
        steps,
        round(steps_per_second, 1),
        round(eval_seconds, 1),
        threads,
        round(load, 2),
        cpu_model(),
        time.strftime("%Y-%m-%d"),
    )


def _measured(run_dir: Path, entry: Entry, glimpses: int) -> tuple[float, int]:
    """(training steps per second, steps) of a finished short run."""
    if entry.is_reinforce:
        last = read_rows(run_dir / "metrics.csv")[-1]
        return float(last["images_per_second"]) * glimpses, int(last["images"]) * glimpses
    result = json.loads((run_dir / CONFIG_FILE).read_text())["result"]
    return float(result["steps_per_second"]), int(result["timesteps"])


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlannedCost:
    """The cost of one (task, entry) at the task's budget and seeds."""

    task: str
    entry: str
    runs: int
    seconds_per_run: float | None  # None: not measured
    source: str  # "runs" (recorded wall time), "speed" (a short measurement) or "none"

    @property
    def hours(self) -> float | None:
        if self.seconds_per_run is None:
            return None
        return self.runs * self.seconds_per_run / 3600.0


def run_seconds(task: TaskProtocol, speed: Speed) -> float:
    """A run's estimated wall time from a speed measurement: training, the curve's scorings
    (a whole validation split each, about a test scoring) and the test scoring."""
    training = task.budget_steps / max(speed.steps_per_second, 1e-9)
    return START_UP_SECONDS + training + (task.curve_points + 1) * speed.eval_seconds


def planned_cost(
    task: TaskProtocol,
    entry: Entry,
    speeds: dict[tuple[str, str], Speed],
    records: list[RunRecord],
) -> PlannedCost:
    """The hours of ``task.seeds`` runs of ``entry``: from the wall time of its recorded runs
    at this budget where there are some, else from its speed measurement."""
    walls = [
        record.wall_seconds
        for record in records
        if (record.task, record.entry, record.budget_steps)
        == (task.env_id, entry.name, task.budget_steps)
    ]
    if walls:
        return PlannedCost(task.env_id, entry.name, task.seeds, statistics.median(walls), "runs")
    speed = speeds.get((task.env_id, entry.name))
    if speed is None:
        return PlannedCost(task.env_id, entry.name, task.seeds, None, "none")
    return PlannedCost(task.env_id, entry.name, task.seeds, run_seconds(task, speed), "speed")


def sessions(hours: float, parallel: int, session_hours: float = SESSION_HOURS) -> float:
    """Sessions of ``session_hours`` wall time that ``hours`` of runs need, ``parallel`` at
    once (on 2 cores two 1-thread runs side by side keep about their single speed)."""
    return hours / parallel / session_hours
