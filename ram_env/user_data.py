"""Validation and loading of users' own greyscale image datasets.

:func:`validate_arrays` checks in-memory arrays and normalises their dtypes;
:func:`load_image_folder` reads a ``root/<class_name>/<image>`` tree with Pillow.
Every problem raises an error whose message names it and, where possible, the fix.

This module imports nothing else from ``ram_env`` so that it works standalone.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm"}
)


# --------------------------------------------------------------------------- arrays


def _check_image_shape(images: np.ndarray) -> np.ndarray:
    """Return images as (n, H, W), accepting a trailing channel of size 1; reject other shapes."""
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    elif images.ndim == 4 and images.shape[1] == 1:
        raise ValueError(
            f"images have shape {images.shape}, which looks channels-first (n, 1, H, W); "
            "pass images[:, 0] or move the channel last"
        )
    elif images.ndim == 4 and images.shape[-1] in (3, 4):
        raise ValueError(
            f"images have shape {images.shape}, which looks like RGB/RGBA colour; convert them to "
            "greyscale first (e.g. average the channels or use Pillow's convert('L'))"
        )
    elif images.ndim == 2:
        raise ValueError(
            f"images have shape {images.shape}; expected (n, H, W). If each row is a flattened "
            "image, reshape it, e.g. images.reshape(n, H, W)"
        )
    if images.ndim != 3:
        raise ValueError(f"images have shape {images.shape}; expected (n, H, W) or (n, H, W, 1)")
    if images.shape[0] == 0:
        raise ValueError("images is empty; at least one image is needed")
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"images have shape {images.shape}; height and width must be >= 1")
    return images


def _normalise_pixels(images: np.ndarray) -> np.ndarray:
    """Return uint8 images unchanged (0..255) or float images as float32 in [0, 1]."""
    kind = images.dtype.kind
    if images.dtype == np.uint8:
        return np.ascontiguousarray(images)
    if kind in "iu":
        return _within(images, int, 255, np.uint8, _INTEGER_RANGE)
    if kind == "f":
        if not np.isfinite(images).all():
            raise ValueError("images contain NaN or infinite values")
        return _within(images, float, 1.0, np.float32, _FLOAT_RANGE)
    raise ValueError(
        f"images have unsupported dtype {images.dtype}; use uint8 (0..255) or float (0..1)"
    )


_INTEGER_RANGE = (
    "integer images must lie in 0..255, got values in {low}..{high}; "
    "rescale them or pass floats in [0, 1]"
)
_FLOAT_RANGE = (
    "float images must lie in [0, 1], got values in [{low:g}, {high:g}]; "
    "divide by 255 if they are 0..255 pixel values"
)


def _within(images: np.ndarray, number: type, top: float, dtype: type, message: str) -> np.ndarray:
    """``images`` as contiguous ``dtype`` if every pixel lies in ``[0, top]``; else a
    ValueError from ``message``, formatted with the lowest and highest pixel (as ``number``)."""
    low, high = number(images.min()), number(images.max())
    if low < 0 or high > top:
        raise ValueError(message.format(low=low, high=high))
    return np.ascontiguousarray(images, dtype=dtype)


def _check_labels(labels: np.ndarray, n: int, num_classes: int | None) -> tuple[np.ndarray, int]:
    """Validate labels against the image count and class count; return (int64 labels, classes)."""
    if labels.ndim != 1:
        raise ValueError(f"labels have shape {labels.shape}; expected a 1-D array of length {n}")
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels have dtype {labels.dtype}; expected integers (e.g. labels.astype(np.int64))"
        )
    if len(labels) != n:
        raise ValueError(f"got {n} images but {len(labels)} labels; they must match")
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise ValueError(f"labels must be >= 0, found {low}")
    if high >= np.iinfo(np.int64).max:
        raise ValueError(f"label {high} is too large")
    if num_classes is None:
        num_classes = high + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise ValueError(f"num_classes must be an int, got {num_classes!r}")
    elif num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    elif high >= num_classes:
        raise ValueError(f"labels must be < num_classes={num_classes}, found {high}")
    return np.ascontiguousarray(labels, dtype=np.int64), int(num_classes)


def validate_arrays(
    images: ArrayLike, labels: ArrayLike, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Check a user dataset and return (images, labels int64, num_classes).

    ``images`` is (n, H, W) or (n, H, W, 1) greyscale, either uint8 in 0..255 (returned as uint8;
    other integer dtypes with values in 0..255 are converted to uint8) or float in [0, 1]
    (returned as float32). ``num_classes`` defaults to ``labels.max() + 1``.
    """
    try:
        images = np.asarray(images)
    except ValueError as exc:
        raise ValueError(f"images must form a rectangular (n, H, W) array: {exc}") from exc
    if images.dtype.kind not in "iuf":
        raise ValueError(
            f"images have unsupported dtype {images.dtype}; use uint8 (0..255) or float (0..1)"
        )
    images = _normalise_pixels(_check_image_shape(images))
    labels_out, classes = _check_labels(np.asarray(labels), images.shape[0], num_classes)
    return images, labels_out, classes


# --------------------------------------------------------------------------- image folders


def _check_size(size: Sequence[int] | None) -> tuple[int, int] | None:
    """Validate the optional (H, W) target size."""
    if size is None:
        return None
    if len(size) != 2 or not all(isinstance(s, int | np.integer) and s >= 1 for s in size):
        raise ValueError(f"size must be (height, width) with positive ints, got {size!r}")
    return int(size[0]), int(size[1])


def _class_dirs(root: pathlib.Path) -> list[pathlib.Path]:
    """Return the non-hidden class sub-folders of ``root``, sorted by name."""
    if not root.exists():
        raise FileNotFoundError(f"image folder {root} does not exist")
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory; expected root/<class_name>/<images>")
    classes = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    if not classes:
        raise ValueError(
            f"{root} has no class sub-folders; expected root/<class_name>/<images>, "
            "one folder per class"
        )
    return classes


def _image_files(class_dir: pathlib.Path) -> list[pathlib.Path]:
    """Return the non-hidden image files in a class folder, sorted by name."""
    files = sorted(
        p
        for p in class_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise ValueError(
            f"class folder {class_dir} contains no images "
            f"(recognised extensions: {', '.join(sorted(IMAGE_EXTENSIONS))})"
        )
    return files


def _read_image(path: pathlib.Path, size: tuple[int, int] | None) -> np.ndarray:
    """Read one image as greyscale uint8 (H, W), resized to ``size`` (H, W) if given."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            grey = image.convert("L")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"cannot read image {path}: {exc}") from exc
    if size is not None and grey.size != (size[1], size[0]):
        grey = grey.resize((size[1], size[0]), Image.Resampling.LANCZOS)
    return np.asarray(grey, dtype=np.uint8)


def load_image_folder(
    root: str | os.PathLike[str], size: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load ``root/<class_name>/<image>`` as (images uint8 (n, H, W), labels int64, class names).

    Classes are the sub-folder names sorted; images are converted to greyscale. If ``size``
    (H, W) is given every image is resized to it, otherwise all images must share one size.
    """
    target = _check_size(size)
    classes = _class_dirs(pathlib.Path(root))
    images: list[np.ndarray] = []
    labels: list[int] = []
    first: pathlib.Path | None = None
    for label, class_dir in enumerate(classes):
        for path in _image_files(class_dir):
            pixels = _read_image(path, target)
            if first is None:
                first = path
            elif pixels.shape != images[0].shape:
                raise ValueError(
                    f"image {path} is {pixels.shape[0]}x{pixels.shape[1]} (HxW) but {first} is "
                    f"{images[0].shape[0]}x{images[0].shape[1]}; pass size=(H, W) to resize all "
                    "images to one size"
                )
            images.append(pixels)
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64), [c.name for c in classes]
