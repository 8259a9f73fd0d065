"""``agents.run_lock``: one training process per run folder, the lock ending with its process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agents.run_lock import RunFolderBusy, run_folder_lock

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")

HOLD_UNTIL_KILLED = """
import sys, time
from pathlib import Path
from agents.run_lock import run_folder_lock
with run_folder_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path):
    folder = tmp_path / "new" / "run"
    with run_folder_lock(folder):
        assert folder.is_dir()
        busy = pytest.raises(RunFolderBusy, match=f"another process is training in {folder}")
        with busy, run_folder_lock(folder):
            pass
    with run_folder_lock(folder):  # free again
        pass
    assert list(folder.iterdir()) == []  # the lock leaves nothing behind


def test_the_lock_ends_with_a_killed_process(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_KILLED, str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderBusy), run_folder_lock(tmp_path):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    with run_folder_lock(tmp_path):  # no stale lock
        pass
