"""``benchmarks/logged_run.py``: a command's output appended to a log, and a stop request
reaching the command's whole process group."""

from __future__ import annotations

import sys
import threading

from benchmarks.logged_run import run_logged, run_stoppable


def test_output_and_command_go_to_the_log_with_the_thread_limit(tmp_path):
    log = tmp_path / "run.log"
    code = "import os; print('threads', os.environ['OMP_NUM_THREADS'])"
    status, seconds = run_logged([sys.executable, "-c", code], log, threads=3)
    assert status == 0 and seconds > 0
    text = log.read_text()
    assert text.startswith("$ ") and "threads 3" in text


def test_a_stop_request_sends_the_group_a_sigterm_and_waits(tmp_path):
    """The child turns SIGTERM into a clean exit (as train.py does) and says so."""
    code = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('clean stop', flush=True); sys.exit(130)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    log, stop = tmp_path / "run.log", threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    status, seconds = run_stoppable([sys.executable, "-c", code], log, 1, stop, poll_s=0.1)
    timer.join()
    assert status == 130 and seconds < 30
    assert "clean stop" in log.read_text()
