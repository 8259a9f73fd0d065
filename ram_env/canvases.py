"""Canvases: the images the retina looks at, built from digits as the paper defines them.

``mnist`` shows the digit as given; ``translated`` puts it at a uniformly random position
on a larger blank canvas; ``cluttered60`` / ``cluttered100`` first paste 8x8 crops of other
digits from the same split at random positions, then the digit, add everything and clip to
the pixel range. Training canvases are drawn fresh for every episode; validation and test
canvases are a pure function of the image index (``fixed_canvases``), cached on disk, and
identical on every machine.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ram_env import counter_rng
from ram_env.atomic import write_atomic

STREAM_IMAGE = 0
STREAM_FIRST_LOCATION = 1  # two streams: x, y
STREAM_DIGIT_POSITION = 3  # two streams: row, col
STREAM_CLUTTER = 5  # five streams per clutter piece: source, crop row/col, paste row/col
STREAMS_PER_CLUTTER = 5
CANVAS_VERSION = 1  # part of the cache file names: bump it when canvases change


@dataclass(frozen=True)
class CanvasSpec:
    """How a canvas is made: its size (None = the image's own size) and its clutter."""

    canvas_size: tuple[int, int] | None = None
    num_clutter: int = 0
    clutter_size: int = 8

    def num_streams(self) -> int:
        return STREAM_CLUTTER + STREAMS_PER_CLUTTER * self.num_clutter


DATASETS: dict[str, CanvasSpec] = {
    "mnist": CanvasSpec(),
    "translated": CanvasSpec((60, 60)),
    "cluttered60": CanvasSpec((60, 60), num_clutter=4),
    "cluttered100": CanvasSpec((100, 100), num_clutter=8),
}


class CanvasSource:
    """Draws canvases and labels for batches of episodes from one split of images.

    Args:
        images: ``(n, h, w)`` uint8 (0..255) or float32 (0..1) greyscale images.
        labels: ``(n,)`` int64 class labels.
        spec: the canvas recipe.
        fixed: True for validation/test (canvas ``i`` is always the same), False for
            training (a fresh canvas every episode).
        name: identifies the split for the fixed canvases' seed and disk cache, e.g.
            ``"cluttered60-test"``; None disables the disk cache.
        cache_dir: where fixed canvases are cached (None: keep them in memory only).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        spec: CanvasSpec,
        fixed: bool,
        name: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.images = images
        self.labels = labels
        self.spec = spec
        self.name = name
        # Built-in splits (those with a disk cache) are the same in every env of a process.
        self.shared_name = name if cache_dir is not None else None
        self.num_images = len(images)
        image_h, image_w = images.shape[1:]
        self.canvas_shape = spec.canvas_size or (image_h, image_w)
        if self.canvas_shape[0] < image_h or self.canvas_shape[1] < image_w:
            raise ValueError(
                f"canvas {self.canvas_shape} is smaller than the images ({image_h}, {image_w})"
            )
        if spec.num_clutter and (spec.clutter_size > min(image_h, image_w, *self.canvas_shape)):
            raise ValueError(f"clutter pieces of {spec.clutter_size} px do not fit the images")
        if spec.num_clutter and self.num_images < 2:
            raise ValueError("clutter needs at least two images to crop other digits from")
        self.pixel_max = 255 if images.dtype == np.uint8 else 1.0
        self.is_identity = self.canvas_shape == (image_h, image_w) and spec.num_clutter == 0
        self._fixed: np.ndarray | None = None
        if fixed and not self.is_identity:
            self._fixed = self._load_or_make_fixed(name, cache_dir)

    @property
    def unchanging(self) -> np.ndarray | None:
        """Every image's canvas when canvases don't change between episodes (the images
        themselves, or the fixed validation/test canvases), else None (not copied)."""
        return self.images if self.is_identity else self._fixed

    def fixed_or_identity(self, image_index: np.ndarray) -> np.ndarray | None:
        """The canvases of these images when they don't change between episodes, else None."""
        unchanging = self.unchanging
        return None if unchanging is None else unchanging[image_index]

    def compose(
        self, u: np.ndarray, image_index: np.ndarray, out: np.ndarray | None = None, margin: int = 0
    ) -> np.ndarray:
        """Put the digit and the clutter pieces on blank canvases; add and clip.

        ``out``: a C-contiguous, zeroed ``(N, H + 2 * margin, W + 2 * margin)`` array of the
        images' dtype to draw into (the canvas sits ``margin`` pixels from each edge), so a
        caller can compose straight into its padded buffer. The digit is one flat scatter
        over the whole batch, each clutter piece one flat gather, add, clip and scatter: only
        pasted pixels are touched, and since all values are non-negative, clipping after
        every paste equals clipping the sum, in any order.
        """
        n = len(image_index)
        height, width = self.canvas_shape
        if out is None:
            out = np.zeros((n, height + 2 * margin, width + 2 * margin), dtype=self.images.dtype)
        out_h, out_w = out.shape[1:]
        flat_out = out.reshape(-1)
        canvas_base = np.arange(n) * (out_h * out_w) + margin * out_w + margin
        image_h, image_w = self.images.shape[1:]
        flat_images = self.images.reshape(-1)
        digit_r = counter_rng.integers(u[:, STREAM_DIGIT_POSITION], height - image_h + 1)
        digit_c = counter_rng.integers(u[:, STREAM_DIGIT_POSITION + 1], width - image_w + 1)
        digit_offsets = (np.arange(image_h) * out_w)[:, None] + np.arange(image_w)
        digit_start = canvas_base + digit_r * out_w + digit_c
        flat_out[digit_start[:, None, None] + digit_offsets] = self.images[image_index]
        size = self.spec.clutter_size
        crop_offsets = (np.arange(size) * image_w)[:, None] + np.arange(size)
        paste_offsets = (np.arange(size) * out_w)[:, None] + np.arange(size)
        for piece in range(self.spec.num_clutter):
            s = STREAM_CLUTTER + STREAMS_PER_CLUTTER * piece
            other = counter_rng.integers(u[:, s], self.num_images - 1)
            other += other >= image_index  # never the episode's own digit
            crop_r = counter_rng.integers(u[:, s + 1], image_h - size + 1)
            crop_c = counter_rng.integers(u[:, s + 2], image_w - size + 1)
            paste_r = counter_rng.integers(u[:, s + 3], height - size + 1)
            paste_c = counter_rng.integers(u[:, s + 4], width - size + 1)
            crop_start = (other * image_h + crop_r) * image_w + crop_c
            crop = np.take(flat_images, crop_start[:, None, None] + crop_offsets)
            paste_start = canvas_base + paste_r * out_w + paste_c
            self._add_clipped(flat_out, paste_start[:, None, None] + paste_offsets, crop)
        return out

    def _add_clipped(self, flat: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
        """``flat[index] = min(flat[index] + values, pixel_max)`` (no duplicate indices)."""
        wide = np.int16 if flat.dtype == np.uint8 else flat.dtype
        total = np.take(flat, index).astype(wide) + values
        flat[index] = np.minimum(total, self.pixel_max)

    def fixed_canvases(self, indices: np.ndarray, name: str | None) -> np.ndarray:
        """The fixed canvases of the given image indices (seeded by the split's name)."""
        indices = np.asarray(indices, dtype=np.int64)
        key = counter_rng.key_from_seed(zlib.crc32((name or "user-data").encode()))
        keys = np.full(len(indices), key, dtype=np.uint64)
        u = counter_rng.uniforms(keys, indices.astype(np.uint64), self.spec.num_streams())
        return self.compose(u, indices)

    def _load_or_make_fixed(self, name: str | None, cache_dir: Path | None) -> np.ndarray:
        everything = np.arange(self.num_images)
        if name is None or cache_dir is None:
            return self.fixed_canvases(everything, name)
        path = cache_dir / f"{name}-v{CANVAS_VERSION}.npy"
        digest_path = path.with_suffix(".sha256")
        if path.exists() and digest_path.exists():
            try:
                canvases = np.load(path)
                if _sha256(canvases) == digest_path.read_text().strip():
                    return canvases
            except (OSError, ValueError, EOFError):  # truncated or garbage: rebuild below
                pass
            print(
                f"ram_env: cached canvases {path} failed verification; rebuilding", file=sys.stderr
            )
        canvases = self.fixed_canvases(everything, name)
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(digest_path, lambda f: f.write(_sha256(canvases).encode()))
        write_atomic(path, lambda f: np.save(f, canvases))
        return canvases


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
