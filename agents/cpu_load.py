"""How many of this machine's cores other work keeps busy, read from ``/proc/stat`` over a
moment, and the torch thread count that follows from it. No torch here.

An OpenMP thread that shares its core with another busy process holds up every parallel
step of the model, so a default that counts busy cores as free is slow exactly where a
researcher trains several seeds side by side (``benchmarks/train_threads.py``).
"""

from __future__ import annotations

import time
from pathlib import Path

from agents.launch import Launch

PROC_STAT = Path("/proc/stat")
SAMPLE_SECONDS = 0.2
IDLE_COLUMNS = (3, 4)  # idle and iowait among the "cpu" line's user nice system idle iowait ...
TIME_COLUMNS = 8  # user .. steal; guest time is already counted in user and nice


def cpu_ticks(stat_text: str) -> tuple[int, int, int]:
    """``(busy ticks, all ticks, cpus)`` summed over the machine, from ``/proc/stat`` text."""
    lines = stat_text.splitlines()
    summary = next((line.split() for line in lines if line.startswith("cpu ")), None)
    if summary is None or len(summary) < TIME_COLUMNS + 1:
        raise ValueError("no 'cpu' summary line with 8 time columns in the stat text")
    ticks = [int(value) for value in summary[1 : TIME_COLUMNS + 1]]
    idle = sum(ticks[column] for column in IDLE_COLUMNS)
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return sum(ticks) - idle, sum(ticks), max(1, cpus)


def busy_cores(sample_s: float = SAMPLE_SECONDS, stat: Path = PROC_STAT) -> float:
    """Cores kept busy over the next ``sample_s`` seconds by everything but this process
    (which sleeps meanwhile); 0.0 where ``stat`` cannot be read (not Linux)."""
    try:
        busy_before, all_before, cpus = cpu_ticks(stat.read_text())
        time.sleep(sample_s)
        busy_after, all_after, _ = cpu_ticks(stat.read_text())
    except (OSError, ValueError):
        return 0.0
    elapsed = all_after - all_before
    return cpus * (busy_after - busy_before) / elapsed if elapsed > 0 else 0.0


def choose_threads(requested: int | None, launch: Launch | None = None) -> tuple[int, str]:
    """Torch threads for this process and why: ``requested`` (``--threads``) when given;
    else ``Launch.default_threads`` with the cores busy right now left out (measured only
    for a lone process: torchrun's ranks start together and would count each other)."""
    if requested:
        return requested, "--threads"
    launch = launch or Launch()
    busy = busy_cores() if launch.local_world_size == 1 else 0.0
    threads = launch.default_threads(busy_cores=busy)
    return threads, f"--threads unset: {launch.cpu_count()} cores, {busy:.1f} busy with other work"
