"""Run a command as a benchmark does: its output appended to a log, on a fixed thread count.

``run_logged`` runs it to the end. ``run_stoppable`` starts it in a process group of its own
and, once ``stop`` is set (the benchmark was asked to stop), sends that group a SIGTERM,
which ``train.py`` turns into a clean stop (it saves what it has), then waits for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def thread_environment(threads: int) -> dict[str, str]:
    """The environment of a child limited to ``threads`` OpenMP/MKL threads."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def run_logged(command: list[str], log: Path, threads: int) -> tuple[int, float]:
    """Run ``command`` with its output appended to ``log``; (exit status, seconds)."""
    return _run(command, log, threads, stop=None, poll_s=0.0)


def run_stoppable(
    command: list[str], log: Path, threads: int, stop: threading.Event, poll_s: float = 0.5
) -> tuple[int, float]:
    """``run_logged``, in its own process group, sent a SIGTERM once ``stop`` is set."""
    return _run(command, log, threads, stop, poll_s)


def _run(
    command: list[str], log: Path, threads: int, stop: threading.Event | None, poll_s: float
) -> tuple[int, float]:
    """Run ``command`` logged to ``log``; with a ``stop`` event, in a process group of its own
    that gets a SIGTERM once the event is set (without, in this one's: a Ctrl-C reaches it)."""
    start = time.perf_counter()
    with log.open("a") as file:
        file.write("$ " + " ".join(command) + "\n")
        file.flush()
        process = subprocess.Popen(
            command,
            stdout=file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=thread_environment(threads),
            start_new_session=stop is not None,
        )
        if stop is None:
            try:
                return process.wait(), time.perf_counter() - start
            except KeyboardInterrupt:  # the child got the same Ctrl-C: let it save and stop
                process.wait()
                raise
        signalled = False
        while True:
            try:
                status = process.wait(timeout=poll_s)
                break
            except subprocess.TimeoutExpired:
                if stop.is_set() and not signalled:
                    os.killpg(process.pid, signal.SIGTERM)  # its own group: train.py and kin
                    signalled = True
    return status, time.perf_counter() - start
