"""The environments work with gymnasium, numpy and pillow alone (``pip install ram-env``);
the agents' packages come with the ``agents`` extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AGENT_PACKAGES = ("torch", "stable_baselines3", "sb3_contrib", "tqdm", "tensorboard", "matplotlib")

# Runs in a fresh interpreter in which the agents' packages cannot be imported.
WITHOUT_AGENT_PACKAGES = f"""
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {AGENT_PACKAGES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (hidden by the test)")
        return None

sys.meta_path.insert(0, Refuse())
import gymnasium, numpy as np
import ram_env

images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
data = dict(images=images, labels=np.arange(20) % 10)
env = gymnasium.make("GlimpseMNIST-v0", **data)
env.reset(seed=0)
env.step(env.action_space.sample())
envs = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=4, **data)
envs.reset(seed=0)
envs.step(envs.action_space.sample())
try:
    import ram_env.sb3
except ImportError as error:
    print(error)
try:
    gymnasium.make_vec("GlimpseMNIST-v0", num_envs=4, device="cpu", **data)
except ImportError as error:
    print(error)
leaked = sorted(name for name in sys.modules if name.split(".")[0] in {AGENT_PACKAGES!r})
print("leaked:", leaked)
"""


def test_the_environments_need_no_agent_package():
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_AGENT_PACKAGES],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "pip install 'ram-env[agents]'" in lines[0]  # what ram_env.sb3 says instead
    assert "needs PyTorch" in lines[1]  # what make_vec(..., device=) says instead
    assert lines[-1] == "leaked: []"


def test_only_the_environments_needs_are_required():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {
        entry.split(">")[0].split("=")[0].split("<")[0] for entry in project["dependencies"]
    }
    assert required == {"gymnasium", "numpy", "pillow"}
    extra = " ".join(project["optional-dependencies"]["agents"])
    for package in ("torch", "stable-baselines3", "sb3-contrib", "tqdm", "tensorboard"):
        assert package in extra


def test_the_tests_extra_brings_the_benchmark_aggregates():
    """CI installs ``.[agents,dev]``; the benchmark's tests import rliable, so ``dev`` brings the
    ``benchmark`` extra (rliable, and the pandas that its arch can be imported beside)."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "ram-env[benchmark]" in extras["dev"]
    assert any(entry.startswith("rliable") for entry in extras["benchmark"])
    assert "pandas<3" in extras["benchmark"]
