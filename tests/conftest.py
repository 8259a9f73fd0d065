"""Shared test helpers: the ``mnist`` marker's skip/fail rule and small synthetic datasets.

Tests marked ``@pytest.mark.mnist`` need the real MNIST cache. Without it they are
skipped, unless ``RAM_ENV_REQUIRE_DATA=1`` (as in CI with the data), where they fail and
say how to get it. Everything else runs on synthetic images and needs no download.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

from ram_env import data

REQUIRE_DATA_VAR = "RAM_ENV_REQUIRE_DATA"
NUM_SYNTHETIC = 40
NUM_CLASSES = 10


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
    message = (
        f"MNIST is not downloaded ({data.mnist_cache_path()} is missing); "
        "run `python -m ram_env.data fetch` first"
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


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests train small models: one torch thread is fastest and cannot stall on a busy
    machine, where spinning OpenMP threads slow down many times over."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
