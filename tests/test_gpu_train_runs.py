"""benchmarks/gpu_train_runs.sh: every run trains, is scored both ways and comes back."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ram_env import data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_train_runs.sh"


@pytest.mark.mnist
def test_runs_are_trained_scored_and_packed(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    env = {
        **os.environ,
        "DEVICE": "cpu",
        "RUNS": str(runs),
        "OUT": str(out),
        "MINUTES": "1",
        "COMMON": "--max-images 1024 --batch-size 256 --eval-batch-size 2500",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # this venv's python3
    }
    env["RAM_ENV_DATA"] = str(data.data_dir())  # the MNIST this test run already has
    result = subprocess.run(
        ["bash", str(SCRIPT), "a --seed 0", "b --seed 1 --weight-decay 0.1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (runs / "summary.txt").read_text().splitlines()
    assert [line.split()[0] for line in summary] == ["a", "b"]
    for line in summary:
        assert "images=1024" in line and "mean path" in line and "10 sampled paths" in line
    with tarfile.open(out / "gpu-train-runs.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"./a/best.pt", "./b/metrics.csv", "./b.log", "./summary.txt"} <= names
    assert "./a/last.pt" not in names
