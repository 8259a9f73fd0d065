"""``benchmarks/gpu.sh train-runs``: every run trains, is scored both ways and comes back; at
the deadline it stops its own runs and nothing else."""

import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.sh"
# A small model and few images: the test checks the script's plumbing, not the learning.
COMMON = "--max-images 512 --batch-size 256 --eval-batch-size 5000 --glimpses 2 --hidden-size 32"
TIMEOUT_S = 300


def script_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The script's settings, on the CPU; $RAM_ENV_DATA is the test run's own (conftest)."""
    return {
        **os.environ,
        "DEVICE": "cpu",
        "RUNS": str(tmp_path / "runs"),
        "OUT": str(tmp_path / "out"),
        "MINUTES": "1",
        "COMMON": COMMON,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # this venv's python3
        **settings,
    }


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text`` (to check, never to end)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if text in command:
                found.append(int(entry.name))
    return found


@pytest.mark.mnist
def test_runs_are_trained_scored_and_packed(tmp_path, run_bounded):
    runs, out = tmp_path / "runs", tmp_path / "out"
    result = run_bounded(
        ["bash", str(SCRIPT), "train-runs", "a --seed 0", "b --seed 1 --weight-decay 0.1"],
        TIMEOUT_S, cwd=ROOT, env=script_env(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (runs / "summary.txt").read_text().splitlines()
    assert [line.split()[0] for line in summary] == ["a", "b"]
    for line in summary:
        assert "images=512" in line and "one path" in line and "10 sampled paths" in line
    with tarfile.open(out / "gpu-train-runs.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"./a/best.pt", "./b/metrics.csv", "./b.log", "./summary.txt"} <= names
    assert "./a/last.pt" not in names


@pytest.mark.mnist
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_the_deadline_stops_its_own_runs_and_no_other_process(tmp_path, run_bounded):
    # A process that is no run of the script but looks like one, as another training on the
    # same machine would: stopping trainings by name would end it too. It ends itself after
    # a while in any case, and is in this test's own process group.
    decoy = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "train.py --algo reinforce"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # DEADLINE_S=0: the run is stopped as soon as it is started, every time, and the
        # script goes on to score (nothing: the run never saved) and pack, as at any deadline.
        start = time.monotonic()
        result = run_bounded(
            ["bash", str(SCRIPT), "train-runs", "late --seed 0 --max-images 1000000"],
            TIMEOUT_S, cwd=ROOT, env=script_env(tmp_path, DEADLINE_S="0", GRACE_S="30"),
        )  # fmt: skip
        seconds = time.monotonic() - start
        assert result.returncode == 0, result.stdout + result.stderr
        assert decoy.poll() is None, "the script ended a process it did not start"
        trained = re.search(r"runs trained for (\d+) s in all", result.stdout)
        assert trained and int(trained.group(1)) < 30, result.stdout + result.stderr
        assert seconds < 60, f"the script took {seconds:.0f} s: it waited for the run"
        assert not processes_mentioning(str(tmp_path)), "a run outlived the script"
        summary = (tmp_path / "runs" / "summary.txt").read_text().splitlines()
        assert [line.split()[0] for line in summary] == ["late"]
        with tarfile.open(tmp_path / "out" / "gpu-train-runs.tar.gz") as archive:
            assert {"./late.log", "./summary.txt"} <= set(archive.getnames())
    finally:
        decoy.kill()  # by its own pid: it is this test's child
        decoy.wait(timeout=30)
