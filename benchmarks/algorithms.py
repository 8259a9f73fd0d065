"""The algorithm benchmark: every algorithm, the four tasks, budgets in env steps, seeds, records.

    python -m benchmarks.algorithms --tasks mnist --parallel 2          # every algorithm
    python -m benchmarks.algorithms --parallel 2 --hours 2.5            # what fits in 2.5 h
    python -m benchmarks.algorithms --tasks mnist translated --algos ppo-history dqn-history
    python -m benchmarks.algorithms --tasks mnist --tracks reward-only --seeds 3
    python -m benchmarks.algorithms --plan                              # what is left, in hours
    python -m benchmarks.algorithms --tasks mnist --algos ppo --budget-times 3  # beyond it
    python -m benchmarks.algorithms --measure-speed --tasks mnist       # steps/s of each
    python -m benchmarks.algorithms --report                            # docs/benchmark.md

The protocol (budgets, seeds, curve points, normalisation) is ``benchmarks.protocol``'s, the
algorithms ``benchmarks.lineup``'s. Each run (task, algorithm, seed) is exactly what a user
types, ``python train.py --algo ... --seed S --curve-every N`` and its budget, then
``python train.py --eval RUN --split test``, on ``--threads`` threads, ``--parallel`` runs at
a time; its record goes to ``docs/benchmark/runs/`` (``benchmarks.run_records``). A recorded
run is reused; a stopped one carries on (``benchmarks.benchmark_runs``). The page and its
plots are then rewritten from the records (``benchmarks.benchmark_report``).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

from agents.stop import StopRequest
from agents.tracks import TRACKS
from benchmarks.benchmark_runs import Job, Setup, run_job
from benchmarks.compute_plan import measure_speed, planned_cost, read_speeds, sessions, write_speeds
from benchmarks.lineup import LINEUP, entries_in
from benchmarks.logged_run import ROOT
from benchmarks.protocol import TASK_PROTOCOLS, task_protocol
from benchmarks.run_records import RecordError, read_records

DOCS = ROOT / "docs"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    task_names = [task.name for task in TASK_PROTOCOLS.values()]
    parser.add_argument(
        "--tasks", nargs="+", default=task_names, help=f"tasks (names or env ids): {task_names}"
    )
    parser.add_argument("--algos", nargs="+", choices=list(LINEUP), default=None,
                        help="algorithms (default: all)")  # fmt: skip
    parser.add_argument("--tracks", nargs="+", choices=TRACKS, default=None,
                        help="only the algorithms in these tracks")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per algorithm (default: the task's planned)")  # fmt: skip
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget-times", type=int, default=1, metavar="N",
                        help="train N times each task's budget: runs beyond the protocol, "
                        "recorded at their own budget and never aggregated (the page lists "
                        "them apart)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--parallel", type=int, default=1, help="runs side by side")
    parser.add_argument("--hours", type=float, default=None,
                        help="start only the runs whose planned wall time ends within this "
                        "many hours of now (an SB3 run stopped half-way starts again); "
                        "default: every run")  # fmt: skip
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs" / "benchmark",
                        help="run folders (scratch)")  # fmt: skip
    parser.add_argument("--records-dir", type=Path, default=DOCS / "benchmark" / "runs",
                        help="the run records (in git)")  # fmt: skip
    parser.add_argument("--speed-file", type=Path, default=DOCS / "benchmark" / "speed.json")
    parser.add_argument("--out", type=Path, default=DOCS / "benchmark.md")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--report", action="store_true",
                      help="only rewrite the page and plots from the records")  # fmt: skip
    mode.add_argument("--plan", action="store_true",
                      help="only list the runs still to do and their estimated hours")  # fmt: skip
    mode.add_argument("--measure-speed", action="store_true",
                      help="time a short run of each algorithm on each task")  # fmt: skip
    parser.add_argument("--train-script", type=Path, default=ROOT / "train.py",
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    try:
        args.tasks = list(dict.fromkeys(task_protocol(name) for name in args.tasks))
        args.entries = entries_in(args.algos, args.tracks)
    except ValueError as error:
        parser.error(str(error))
    if not args.entries:
        parser.error("no algorithm is in the chosen tracks")
    for name in ("threads", "parallel"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.hours is not None and not args.hours > 0:
        parser.error("--hours must be above 0")
    if args.first_seed < 0 or (args.seeds is not None and args.seeds < 1):
        parser.error("--first-seed must be >= 0 and --seeds >= 1")
    if args.budget_times < 1:
        parser.error("--budget-times must be at least 1")
    if args.budget_times > 1 and (args.report or args.measure_speed):
        parser.error("--budget-times picks runs: it goes with a run or --plan")
    args.tasks = [
        replace(task, budget_steps=task.budget_steps * args.budget_times) for task in args.tasks
    ]
    return args


def jobs(args: argparse.Namespace) -> list[Job]:
    """Seeds outermost, so that a partial benchmark covers every algorithm."""
    most = max(args.seeds or task.seeds for task in args.tasks)
    return [
        Job(task, entry, seed)
        for seed in range(args.first_seed, args.first_seed + most)
        for task in args.tasks
        if seed < args.first_seed + (args.seeds or task.seeds)
        for entry in args.entries
    ]


def setup_of(args: argparse.Namespace) -> Setup:
    return Setup(
        args.runs_dir.resolve(), args.records_dir.resolve(), args.threads, args.parallel,
        args.train_script.resolve(),
    )  # fmt: skip


def run_all(args: argparse.Namespace) -> int:
    """Run the jobs ``--parallel`` at a time; the number that failed."""
    setup = setup_of(args)
    todo = jobs(args)
    stop = threading.Event()
    lock = threading.Lock()

    def log(text: str) -> None:
        with lock:
            print(text, flush=True)

    fits = time_box(args)

    def run(job: Job) -> str:
        if not job.record_file(setup.records_dir).exists() and not fits(job):
            log(f"{job.name}: left for later (its planned time ends past --hours)")
            return "left for later"
        return run_job(job, setup, stop, log)

    outcomes: list[str] = []
    with StopRequest() as request, ThreadPoolExecutor(args.parallel) as pool:
        futures = [pool.submit(run, job) for job in todo]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.5)
            if request.requested and not stop.is_set():
                log(f"stopped by {request.requested}: the runs under way save and stop")
                stop.set()
        outcomes = [future.result() for future in futures]
    counts = {outcome: outcomes.count(outcome) for outcome in dict.fromkeys(outcomes)}
    print("runs: " + ", ".join(f"{count} {outcome}" for outcome, count in counts.items()))
    return counts.get("failed", 0) + counts.get("stopped", 0)


def time_box(args: argparse.Namespace) -> Callable[[Job], bool]:
    """Whether a run started now would end within ``--hours`` of the runner's start, by its
    planned wall time (``compute_plan.planned_cost``; a run never measured does not fit)."""
    if args.hours is None:
        return lambda job: True
    deadline = time.monotonic() + args.hours * 3600.0
    records, speeds = read_records(args.records_dir), read_speeds(args.speed_file)

    def fits(job: Job) -> bool:
        seconds = planned_cost(job.task, job.entry, speeds, records).seconds_per_run
        return seconds is not None and time.monotonic() + seconds <= deadline

    return fits


def measure_speeds(args: argparse.Namespace) -> int:
    speeds = read_speeds(args.speed_file)
    failures = 0
    stop = threading.Event()
    with StopRequest() as request:
        for task in args.tasks:
            for entry in args.entries:
                if request.requested:
                    stop.set()
                    return failures + 1
                speed = measure_speed(task, entry, args.threads, stop)
                if speed is None:
                    failures += 1
                    continue
                speeds[(task.env_id, entry.name)] = speed
                write_speeds(args.speed_file, speeds)
                print(
                    f"{task.name} {entry.name}: {speed.steps_per_second:,.0f} steps/s, "
                    f"test scoring {speed.eval_seconds:.0f} s (load {speed.load_average:.1f})",
                    flush=True,
                )
    return failures


def print_plan(args: argparse.Namespace) -> None:
    """The chosen runs not recorded yet, and their estimated hours."""
    records = read_records(args.records_dir)
    speeds = read_speeds(args.speed_file)
    left = [job for job in jobs(args) if not job.record_file(args.records_dir).exists()]
    hours, unknown = 0.0, 0
    for task in args.tasks:
        for entry in args.entries:
            count = sum(1 for job in left if (job.task, job.entry) == (task, entry))
            if not count:
                continue
            cost = planned_cost(task, entry, speeds, records)
            if cost.seconds_per_run is None:
                unknown += count
                estimate = "not measured"
            else:
                hours += count * cost.seconds_per_run / 3600.0
                estimate = f"{count * cost.seconds_per_run / 3600.0:.2f} h"
            print(f"{task.name:13} {entry.name:22} {count} run(s) to do  {estimate}")
    print(
        f"{len(left)} run(s) to do, about {hours:.1f} run-hours"
        + (f" and {unknown} not measured" if unknown else "")
        + f": {sessions(hours, args.parallel):.1f} sessions of 2.5 h at --parallel {args.parallel}"
    )


def report(args: argparse.Namespace) -> Path:
    from benchmarks.benchmark_report import write_report

    records = read_records(args.records_dir)
    out = write_report(args.out.resolve(), records, read_speeds(args.speed_file))
    print(f"wrote {out} ({len(records)} run records)")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plan:
        print_plan(args)
        return 0
    if args.measure_speed:
        return 1 if measure_speeds(args) else 0
    failures = 0 if args.report else run_all(args)
    try:
        report(args)
    except RecordError as error:
        print(f"error: no page written: {error}", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
