"""The canvases the paper defines: translated and cluttered digits, fixed evaluation sets.

A glimpse of one scale as large as the canvas, taken at its centre, is the canvas itself
(``floor(H/2 - H/2 + 1/2) = 0``), so these tests read canvases through the public env.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ram_env import GlimpseEnv, data
from ram_env.canvases import DATASETS, CanvasSource

# sha256 of the C-contiguous uint8 bytes of the first 64 fixed canvases of a split: every
# machine must build exactly these evaluation images.
FIXED_SHA256 = {
    ("cluttered60", "test"): "3115ab1c48fd69e478767b350a79de43961819b2f55040782bdc4d6d6373b49f",
    ("cluttered100", "validation"): (
        "87500c175a70276761ab27383902fbc369b692756930144de87775449d1e12b4"
    ),
}
CANVAS_SIDE = {"mnist": 28, "translated": 60, "cluttered60": 60, "cluttered100": 100}


def canvas_env(side: int, **kwargs) -> GlimpseEnv:
    """An env whose first observation is its whole ``side x side`` canvas."""
    return GlimpseEnv(
        glimpse_size=side, num_scales=1, num_glimpses=1, first_location="center", **kwargs
    )


def read_canvas(env: GlimpseEnv, **reset_kwargs) -> np.ndarray:
    """Reset and return the canvas, as uint8 for uint8 data (float otherwise)."""
    glimpse = env.reset(**reset_kwargs)[0]["glimpse"][0]
    if env.task.source.images.dtype == np.uint8:
        return np.rint(glimpse * 255).astype(np.uint8)
    return glimpse


def find_digit(canvas: np.ndarray, digit: np.ndarray) -> list[tuple[int, int]]:
    """Every offset where the digit sits on an otherwise blank canvas."""
    height, width = digit.shape
    total = int(canvas.astype(np.int64).sum())
    if total != int(digit.astype(np.int64).sum()):
        return []
    return [
        (row, col)
        for row in range(canvas.shape[0] - height + 1)
        for col in range(canvas.shape[1] - width + 1)
        if np.array_equal(canvas[row : row + height, col : col + width], digit)
    ]


def constant_pair(digit_value, clutter_value, dtype=np.uint8) -> tuple[np.ndarray, np.ndarray]:
    """Two constant images: image 0 (the digit we look at) and image 1 (its clutter)."""
    images = np.stack([np.full((28, 28), digit_value), np.full((28, 28), clutter_value)])
    return images.astype(dtype), np.array([0, 1])


# --------------------------------------------------------------------------- translated


def test_translated_digit_is_inside_and_unchanged(make_synthetic) -> None:
    images, labels = make_synthetic()
    images = np.maximum(images, 1)  # no blank pixels: the digit's box is where it sits
    env = canvas_env(60, dataset="translated", images=images, labels=labels)
    env.reset(seed=0)
    offsets = []
    for index in range(20):
        canvas = read_canvas(env, options={"image_index": index})
        rows, cols = np.nonzero(canvas)
        top, left = rows.min(), cols.min()
        assert (rows.max() - top + 1, cols.max() - left + 1) == (28, 28)
        np.testing.assert_array_equal(canvas[top : top + 28, left : left + 28], images[index])
        offsets.append((top, left))
    tops, lefts = np.array(offsets).T
    assert len(set(offsets)) > 15 and tops.max() - tops.min() > 10 and lefts.max() > 20


@pytest.mark.mnist
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_translated_mnist_digit(split: str) -> None:
    images, _ = data.mnist_split(split)
    env = canvas_env(60, dataset="translated", split=split)
    env.reset(seed=1)
    for index in (0, 1, 4321):
        canvas = read_canvas(env, options={"image_index": index})
        assert canvas.shape == (60, 60)
        assert len(find_digit(canvas, images[index])) == 1


# --------------------------------------------------------------------------- cluttered


@pytest.mark.parametrize("dataset", ["cluttered60", "cluttered100"])
def test_cluttered_canvas_size_and_pieces(dataset: str) -> None:
    """Digit value 3, clutter value 30: the canvas splits into digit and 8x8 clutter pieces."""
    images, labels = constant_pair(3, 30)
    side = CANVAS_SIDE[dataset]
    num_clutter = DATASETS[dataset].num_clutter
    env = canvas_env(side, dataset=dataset, images=images, labels=labels)
    assert env.task.canvas_shape == (side, side)
    env.reset(seed=2)
    for _ in range(5):
        canvas = read_canvas(env, options={"image_index": 0}).astype(np.int64)
        assert canvas.shape == (side, side)
        assert set(np.unique(canvas % 30)) <= {0, 3}  # no clutter cut from the digit itself
        digit_rows, digit_cols = np.nonzero(canvas % 30 == 3)
        assert len(digit_rows) == 28 * 28
        assert digit_rows.max() - digit_rows.min() == 27
        assert digit_cols.max() - digit_cols.min() == 27
        assert (canvas // 30).sum() == num_clutter * 8 * 8  # every piece is a whole 8x8


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_cluttered_values_are_clipped(dtype) -> None:
    high = 200 if dtype == np.uint8 else 0.8
    top = 255 if dtype == np.uint8 else 1.0
    images, labels = constant_pair(high, high, dtype)
    env = canvas_env(60, dataset="cluttered60", images=images, labels=labels)
    env.reset(seed=3)
    values = set()
    for _ in range(10):
        values |= set(np.unique(read_canvas(env)).tolist())
    assert values == {0, np.float32(high).item(), top}


@pytest.mark.mnist
@pytest.mark.parametrize("dataset", ["cluttered60", "cluttered100"])
def test_mnist_cluttered_canvas_size(dataset: str) -> None:
    side = CANVAS_SIDE[dataset]
    env = canvas_env(side, dataset=dataset, split="validation")
    assert env.task.canvas_shape == (side, side)
    canvas = read_canvas(env, seed=0)
    assert canvas.shape == (side, side) and canvas.max() <= 255
    fixed = env.task.source.fixed_canvases(np.arange(3), f"{dataset}-validation")
    assert fixed.shape == (3, side, side) and fixed.dtype == np.uint8


# --------------------------------------------------------------------------- fixed sets


@pytest.mark.mnist
def test_test_canvases_are_fixed() -> None:
    first = canvas_env(60, dataset="cluttered60", split="test")
    second = canvas_env(60, dataset="cluttered60", split="test")
    for index in (0, 5, 9999):
        a = read_canvas(first, seed=0, options={"image_index": index})
        b = read_canvas(second, seed=123, options={"image_index": index})
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(read_canvas(first, options={"image_index": index}), a)


@pytest.mark.mnist
@pytest.mark.parametrize(("dataset", "split"), list(FIXED_SHA256))
def test_fixed_canvases_hash(dataset: str, split: str) -> None:
    side = CANVAS_SIDE[dataset]
    env = canvas_env(side, dataset=dataset, split=split)
    canvases = env.task.source.fixed_canvases(np.arange(64), f"{dataset}-{split}")
    assert canvases.shape == (64, side, side) and canvases.dtype == np.uint8
    digest = hashlib.sha256(np.ascontiguousarray(canvases).tobytes()).hexdigest()
    assert digest == FIXED_SHA256[(dataset, split)]
    for index in (0, 63):  # what the env shows (through its cache) is the same canvas
        shown = read_canvas(env, options={"image_index": index})
        np.testing.assert_array_equal(shown, canvases[index])


def test_user_validation_canvases_are_fixed(synthetic) -> None:
    images, labels = synthetic
    canvases = [
        read_canvas(
            canvas_env(60, dataset="cluttered60", split="validation", images=images, labels=labels),
            seed=seed,
            options={"image_index": 7},
        )
        for seed in (0, 1)
    ]
    np.testing.assert_array_equal(*canvases)


# --------------------------------------------------------------------------- disk cache


def cluttered_source(images, labels, cache_dir) -> CanvasSource:
    return CanvasSource(images, labels, DATASETS["cluttered60"], True, "demo-test", cache_dir)


def cache_files(cache_dir) -> list:
    return sorted(cache_dir.glob("*.npy"))


def fixed(source: CanvasSource, n: int) -> np.ndarray:
    return source.fixed_canvases(np.arange(n), "demo-test")


def test_disk_cache_is_written_then_used(synthetic, tmp_path, monkeypatch) -> None:
    images, labels = synthetic
    first = fixed(cluttered_source(images, labels, tmp_path), len(images))
    (npy,) = cache_files(tmp_path)
    np.testing.assert_array_equal(np.load(npy), first)

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the fixed canvases were rebuilt instead of read from the cache")

    monkeypatch.setattr(CanvasSource, "fixed_canvases", no_rebuild)
    monkeypatch.setattr(CanvasSource, "compose", no_rebuild)
    cached = cluttered_source(images, labels, tmp_path)
    env_canvases = cached.fixed_or_identity(np.arange(len(images)))
    np.testing.assert_array_equal(env_canvases, first)


def test_disk_cache_rebuilt_when_altered(synthetic, tmp_path, capsys) -> None:
    images, labels = synthetic
    expected = fixed(cluttered_source(images, labels, tmp_path), len(images))
    (npy,) = cache_files(tmp_path)
    np.save(npy, np.zeros_like(expected))  # a well-formed file with the wrong contents
    source = cluttered_source(images, labels, tmp_path)
    assert "failed verification" in capsys.readouterr().err
    np.testing.assert_array_equal(source.fixed_or_identity(np.arange(len(images))), expected)
    np.testing.assert_array_equal(np.load(npy), expected)  # and the cache is repaired


def test_disk_cache_rebuilt_without_digest(synthetic, tmp_path) -> None:
    images, labels = synthetic
    expected = fixed(cluttered_source(images, labels, tmp_path), len(images))
    (npy,) = cache_files(tmp_path)
    np.save(npy, np.zeros_like(expected))
    for digest in tmp_path.glob("*.sha256"):
        digest.unlink()
    source = cluttered_source(images, labels, tmp_path)
    np.testing.assert_array_equal(source.fixed_or_identity(np.arange(len(images))), expected)


def test_disk_cache_rebuilt_when_truncated(synthetic, tmp_path) -> None:
    images, labels = synthetic
    expected = fixed(cluttered_source(images, labels, tmp_path), len(images))
    (npy,) = cache_files(tmp_path)
    npy.write_bytes(npy.read_bytes()[:1000])  # e.g. a disk filled up or a copy cut short
    source = cluttered_source(images, labels, tmp_path)
    np.testing.assert_array_equal(source.fixed_or_identity(np.arange(len(images))), expected)


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("dataset", ["translated", "cluttered60"])
def test_training_canvases_differ_between_episodes(synthetic, dataset: str) -> None:
    images, labels = synthetic
    env = canvas_env(60, dataset=dataset, images=images, labels=labels)
    env.reset(seed=4)
    canvases = {read_canvas(env, options={"image_index": 3}).tobytes() for _ in range(8)}
    assert len(canvases) == 8


@pytest.mark.mnist
def test_mnist_training_canvases_differ() -> None:
    env = canvas_env(100, dataset="cluttered100")
    env.reset(seed=5)
    canvases = {read_canvas(env, options={"image_index": 0}).tobytes() for _ in range(5)}
    assert len(canvases) == 5


@pytest.mark.mnist
def test_splits() -> None:
    train_images, train_labels = data.mnist_split("train")
    sizes = {split: GlimpseEnv(split=split).num_images for split in ("train", "validation", "test")}
    assert sizes == {"train": 50_000, "validation": 10_000, "test": 10_000}
    env = canvas_env(28, split="validation")
    all_train = data.load_mnist().train_images
    np.testing.assert_array_equal(read_canvas(env, options={"image_index": 0}), all_train[50_000])
    np.testing.assert_array_equal(train_images[0], all_train[0])
    assert len(train_labels) == 50_000
