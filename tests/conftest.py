"""Shared test helpers: the ``mnist`` marker's skip/fail rule and small synthetic datasets.

Tests marked ``@pytest.mark.mnist`` need the real MNIST cache. Without it they are
skipped, unless ``RAM_ENV_REQUIRE_DATA=1`` (as in CI with the data), where they fail and
say how to get it. Everything else runs on synthetic images and needs no download.

The whole run, and every subprocess a test starts, uses a private data folder
(``$RAM_ENV_DATA`` points at it): whatever the tests cache there (the evaluation canvases,
exports, fetches) is gone after the run and never lands in the user's cache. The user's MNIST
cache file appears in it as a symbolic link, only read: a replacement written there, as every
cache write is (a temp file renamed over the name), replaces the link, not the file.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pytest

from ram_env import data

REQUIRE_DATA_VAR = "RAM_ENV_REQUIRE_DATA"
NUM_SYNTHETIC = 40
NUM_CLASSES = 10


def user_data_dir() -> pathlib.Path:
    """The data folder ``data.data_dir()`` would use now, without creating it."""
    override = os.environ.get(data.ENV_DATA_DIR)
    if override:
        return pathlib.Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = pathlib.Path(xdg).expanduser() if xdg else pathlib.Path.home() / ".cache"
    return base / "ram-env"


class PrivateData(NamedTuple):
    """The run's private data folder, the user's cache file linked into it, and the
    ``$RAM_ENV_DATA`` the run started with (None: unset)."""

    folder: pathlib.Path
    user_cache: pathlib.Path
    saved_env: str | None


PRIVATE_DATA = pytest.StashKey[PrivateData]()


def pytest_configure(config: pytest.Config) -> None:
    """Point ``$RAM_ENV_DATA`` at a private temporary folder for the whole run, with the
    user's MNIST cache file linked into it, before any test (or skip check) looks for data.
    Set in ``os.environ``, so that subprocesses inherit it."""
    source = user_data_dir() / data.CACHE_FILENAME
    folder = pathlib.Path(tempfile.mkdtemp(prefix="ram-env-test-data-"))
    if source.is_file():
        try:
            (folder / data.CACHE_FILENAME).symlink_to(source.resolve())
        except OSError:  # no symbolic links here: a copy, rather than the user's own file
            shutil.copyfile(source, folder / data.CACHE_FILENAME)
    config.stash[PRIVATE_DATA] = PrivateData(folder, source, os.environ.get(data.ENV_DATA_DIR))
    os.environ[data.ENV_DATA_DIR] = str(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore ``$RAM_ENV_DATA`` and remove the private data folder."""
    private = config.stash.get(PRIVATE_DATA, None)
    if private is None:
        return
    del config.stash[PRIVATE_DATA]
    if private.saved_env is None:
        os.environ.pop(data.ENV_DATA_DIR, None)
    else:
        os.environ[data.ENV_DATA_DIR] = private.saved_env
    shutil.rmtree(private.folder, ignore_errors=True)


def mnist_available() -> bool:
    """Whether the MNIST cache file exists (it is verified when it is loaded)."""
    try:
        return data.mnist_cache_path().exists()
    except data.DataError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, with ``RAM_ENV_REQUIRE_DATA=1``, fail) ``mnist`` tests without the data.

    A hook rather than a fixture so that it runs before any fixture loads MNIST.
    """
    if item.get_closest_marker("mnist") is None or mnist_available():
        return
    private = item.config.stash.get(PRIVATE_DATA, None)
    missing = private.user_cache if private else data.mnist_cache_path()  # the user's, to fetch
    message = (
        f"MNIST is not downloaded ({missing} is missing); run `python -m ram_env.data fetch` first"
    )
    if os.environ.get(REQUIRE_DATA_VAR) == "1":
        pytest.fail(f"{message} ({REQUIRE_DATA_VAR}=1 requires it)", pytrace=False)
    pytest.skip(message)


def synthetic_images(
    num_images: int = NUM_SYNTHETIC,
    shape: tuple[int, int] = (28, 28),
    dtype: type = np.uint8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random images ``(n, H, W)`` (uint8 0..255 or float32 in [0, 1]) and labels ``i % 10``."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.uint8:
        images = rng.integers(0, 256, (num_images, *shape), dtype=np.uint8)
    else:
        images = rng.random((num_images, *shape), dtype=np.float32)
    labels = np.arange(num_images, dtype=np.int64) % NUM_CLASSES
    return images, labels


@pytest.fixture
def synthetic() -> tuple[np.ndarray, np.ndarray]:
    """40 random 28x28 uint8 images with labels 0..9."""
    return synthetic_images()


@pytest.fixture
def make_synthetic() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """A factory for synthetic datasets of other sizes, dtypes and seeds."""
    return synthetic_images


@pytest.fixture
def synthetic_kwargs(synthetic) -> dict[str, np.ndarray]:
    """``GlimpseEnv`` keyword arguments that select the synthetic dataset."""
    images, labels = synthetic
    return {"images": images, "labels": labels}


def run_in_own_group(
    command: Sequence[str], timeout: float, grace_s: float = 30.0, **popen_kwargs
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as the leader of a new process group, its output captured as text, and
    wait at most ``timeout`` seconds for it. Past that, fail the test after ending the
    command's own group, never processes picked by name: SIGTERM first (a script stops what
    it started), SIGKILL ``grace_s`` seconds later if the group is still there."""
    stdout = stderr = ""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, **popen_kwargs,
    ) as process:  # fmt: skip
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for signum in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, signum)  # the group is its own: pgid = its pid
                except ProcessLookupError:
                    break
                try:
                    stdout, stderr = process.communicate(timeout=grace_s)
                    break
                except subprocess.TimeoutExpired:
                    pass  # a process outside the group may hold the pipes: give up on them
            pytest.fail(
                f"{' '.join(command)} ran over {timeout} s and was stopped\n{stdout}{stderr}",
                pytrace=False,
            )
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


@pytest.fixture
def run_bounded() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_in_own_group``: run a command with a time bound that ends only its own group."""
    return run_in_own_group


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests train small models: one torch thread is fastest and cannot stall on a busy
    machine, where spinning OpenMP threads slow down many times over."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
