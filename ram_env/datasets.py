"""Resolve what the user asked for (a named dataset, arrays, or a folder) to a canvas source."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ram_env.canvases import DATASETS, CanvasSource, CanvasSpec
from ram_env.data import SPLITS

if TYPE_CHECKING:
    from ram_env.episodes import TaskSettings


def build_canvas_source(settings: TaskSettings) -> tuple[CanvasSource, int]:
    """Return ``(source, num_classes)`` for a task's data settings.

    With ``images``/``labels`` or ``image_folder`` the user's data is used as one split
    (``split`` then only decides whether canvases are fresh, for ``"train"``, or fixed);
    otherwise ``dataset`` names one of ``DATASETS`` built from MNIST. ``canvas_size`` and
    ``num_clutter`` override the dataset's recipe (e.g. to translate or clutter your own
    images).
    """
    dataset, split, num_classes = settings.dataset, settings.split, settings.num_classes
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {tuple(DATASETS)}")
    spec = _override(DATASETS[dataset], settings.canvas_size, settings.num_clutter)
    fixed = split != "train"
    own_data = (settings.images, settings.labels, settings.image_folder)
    if any(part is not None for part in own_data):
        images, labels, num_classes = _user_arrays(settings)
        source = CanvasSource(images, labels, spec, fixed, name=f"user-{split}")
        return source, num_classes
    from ram_env import data

    images, labels = data.mnist_split(split)
    if num_classes not in (None, 10):
        raise ValueError(f"MNIST has 10 classes; num_classes={num_classes} does not fit")
    name = f"{dataset}-{split}" if spec == DATASETS[dataset] else None
    cache_dir = data.data_dir() / "canvases" if name else None
    return CanvasSource(images, labels, spec, fixed, name=name, cache_dir=cache_dir), 10


def _override(spec: CanvasSpec, canvas_size, num_clutter) -> CanvasSpec:
    if canvas_size is not None:
        size = (canvas_size, canvas_size) if np.isscalar(canvas_size) else tuple(canvas_size)
        if len(size) != 2 or not all(_is_int(s) and s >= 1 for s in size):
            raise ValueError(f"canvas_size must be a positive int or (H, W), got {canvas_size!r}")
        spec = CanvasSpec(tuple(int(s) for s in size), spec.num_clutter, spec.clutter_size)
    if num_clutter is not None:
        if not _is_int(num_clutter) or num_clutter < 0:
            raise ValueError(f"num_clutter must be a non-negative int, got {num_clutter!r}")
        spec = CanvasSpec(spec.canvas_size, int(num_clutter), spec.clutter_size)
    return spec


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _user_arrays(settings: TaskSettings) -> tuple[np.ndarray, np.ndarray, int]:
    """The user's images, labels and class count, from arrays or a folder, checked."""
    from ram_env import user_data

    images, labels, image_folder = settings.images, settings.labels, settings.image_folder
    if image_folder is not None:
        if images is not None or labels is not None:
            raise ValueError("give either images/labels or image_folder, not both")
        images, labels, _class_names = user_data.load_image_folder(image_folder)
    elif images is None or labels is None:
        raise ValueError("user data needs both images and labels")
    return user_data.validate_arrays(images, labels, settings.num_classes)
