"""Tests for ram_env.user_data: array validation and image-folder loading."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from PIL import Image

from ram_env.user_data import load_image_folder, validate_arrays

# --------------------------------------------------------------------------- validate_arrays


def test_uint8_images_stay_uint8() -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out, labels, classes = validate_arrays(images, [0, 2])
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, images)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 2]
    assert classes == 3


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_images_become_float32(dtype: type) -> None:
    images = np.linspace(0, 1, 2 * 5 * 5, dtype=dtype).reshape(2, 5, 5)
    out, _, _ = validate_arrays(images, np.array([1, 0], dtype=np.uint8))
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, images.astype(np.float32))


def test_trailing_channel_and_non_contiguous_input() -> None:
    images = np.zeros((3, 6, 4, 1), dtype=np.uint8)
    out, _, _ = validate_arrays(images, [0, 0, 0])
    assert out.shape == (3, 6, 4)
    strided = np.zeros((3, 8, 8), dtype=np.float64)[:, ::2, ::2]
    out, _, _ = validate_arrays(strided, [0, 1, 2])
    assert out.shape == (3, 4, 4) and out.flags.c_contiguous


def test_nested_lists_and_other_integer_dtypes() -> None:
    out, labels, classes = validate_arrays([[[0, 255]], [[7, 8]]], [1, 1])
    assert out.dtype == np.uint8 and out.shape == (2, 1, 2)
    assert classes == 2 and labels.tolist() == [1, 1]
    with pytest.raises(ValueError, match=r"0\.\.255"):
        validate_arrays(np.full((1, 2, 2), 256, dtype=np.int32), [0])


def test_num_classes_given() -> None:
    images = np.zeros((2, 2, 2), np.uint8)
    assert validate_arrays(images, [0, 1], num_classes=10)[2] == 10
    with pytest.raises(ValueError, match="num_classes=2"):
        validate_arrays(images, [0, 2], num_classes=2)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        validate_arrays(images, [0, 0], num_classes=0)


@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (np.zeros((2, 4, 4, 3), np.uint8), [0, 1], "greyscale"),
        (np.zeros((2, 4, 4, 4), np.uint8), [0, 1], "greyscale"),
        (np.zeros((2, 16), np.uint8), [0, 1], "reshape"),
        (np.zeros((1, 1, 5, 5), np.uint8), [0], "channels-first"),
        (np.zeros((2, 4, 4, 2), np.uint8), [0, 1], r"\(n, H, W\)"),
        (np.zeros(5, np.uint8), [0], r"\(n, H, W\)"),
        (np.zeros((0, 4, 4), np.uint8), [], "empty"),
        (np.zeros((2, 0, 4), np.uint8), [0, 1], "height and width"),
        (np.full((1, 2, 2), np.nan), [0], "NaN"),
        (np.full((1, 2, 2), np.inf, np.float32), [0], "infinite"),
        (np.full((1, 2, 2), 1.5), [0], r"\[0, 1\]"),
        (np.full((1, 2, 2), -0.1), [0], r"\[0, 1\]"),
        (np.zeros((1, 2, 2), bool), [0], "dtype bool"),
        (np.zeros((1, 2, 2), complex), [0], "dtype complex"),
        (np.zeros((1, 2, 2), object), [0], "dtype object"),
        (np.zeros((2, 2, 2), np.uint8), [[0, 1]], "1-D"),
        (np.zeros((2, 2, 2), np.uint8), [0.0, 1.0], "integers"),
        (np.zeros((2, 2, 2), np.uint8), [True, False], "integers"),
        (np.zeros((2, 2, 2), np.uint8), [0, 1, 2], "2 images but 3 labels"),
        (np.zeros((2, 2, 2), np.uint8), [0, -1], ">= 0"),
    ],
)
def test_bad_arrays_are_rejected(images: np.ndarray, labels: list[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_arrays(images, labels)


def test_ragged_images_are_rejected() -> None:
    with pytest.raises(ValueError, match="rectangular"):
        validate_arrays([np.zeros((2, 2)), np.zeros((3, 3))], [0, 1])


# --------------------------------------------------------------------------- load_image_folder


def save_png(path: pathlib.Path, height: int, width: int, value: int, mode: str = "L") -> None:
    """Write a constant image of the given size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, value, value)
    Image.new(mode, (width, height), colour).save(path)


def test_two_classes_of_pngs(tmp_path: pathlib.Path) -> None:
    save_png(tmp_path / "zebra" / "a.png", 5, 7, 10)
    save_png(tmp_path / "ant" / "b.png", 5, 7, 200, mode="RGB")
    save_png(tmp_path / "ant" / "c.PNG", 5, 7, 30)
    (tmp_path / "ant" / ".hidden.png").write_bytes(b"junk")
    (tmp_path / "ant" / "notes.txt").write_text("ignored")
    (tmp_path / ".git").mkdir()
    images, labels, classes = load_image_folder(tmp_path)
    assert classes == ["ant", "zebra"]
    assert images.dtype == np.uint8 and images.shape == (3, 5, 7)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 0, 1]
    assert images[:, 0, 0].tolist() == [200, 30, 10]


def test_mixed_sizes_need_size(tmp_path: pathlib.Path) -> None:
    save_png(tmp_path / "a" / "1.png", 8, 8, 0)
    save_png(tmp_path / "b" / "2.png", 6, 9, 0)
    with pytest.raises(ValueError, match=r"2\.png.*size=") as info:
        load_image_folder(tmp_path)
    assert "1.png" in str(info.value)
    images, labels, _ = load_image_folder(tmp_path, size=(4, 5))
    assert images.shape == (2, 4, 5) and labels.tolist() == [0, 1]


def test_bad_size_argument(tmp_path: pathlib.Path) -> None:
    save_png(tmp_path / "a" / "1.png", 8, 8, 0)
    with pytest.raises(ValueError, match="size"):
        load_image_folder(tmp_path, size=(0, 4))


def test_missing_root_and_file_root(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    file_root = tmp_path / "file.png"
    file_root.write_bytes(b"")
    with pytest.raises(ValueError, match="not a directory"):
        load_image_folder(file_root)


def test_empty_root_and_empty_class(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    save_png(tmp_path / "a" / "1.png", 4, 4, 0)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"class folder .*b contains no images"):
        load_image_folder(tmp_path)


def test_corrupt_image_is_named(tmp_path: pathlib.Path) -> None:
    save_png(tmp_path / "a" / "good.png", 4, 4, 0)
    (tmp_path / "a" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ValueError, match=r"cannot read image .*bad\.png"):
        load_image_folder(tmp_path)


def test_truncated_image_is_named(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a" / "cut.png"
    save_png(path, 32, 32, 0)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match=r"cut\.png"):
        load_image_folder(tmp_path)
