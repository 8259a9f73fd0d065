"""The canvases of ``ram_env.canvases`` on a torch device: the same recipe, the same draws.

A ``TorchCanvases`` holds a split's images and labels on the device, and its fixed canvases
where it has them (validation and test, or the images themselves where the canvas is the
image): those are the numpy source's own arrays, moved once, so both envs show the same
canvas for the same ``image_index``. Training canvases are composed on the device from the
same uniforms as ``CanvasSource.compose`` (``ram_env.torch_rng``), so they equal the numpy
env's too: the digit at a uniform position fully inside the canvas, then ``num_clutter``
``clutter_size``-pixel crops of other digits at uniform positions, all added and clipped to
the pixel range. The digits of the whole batch go into one ``scatter_add``, all its
clutter pieces into another; since every value is non-negative, clipping the sum once
equals the numpy source's clip after each paste. Needs PyTorch (imported only when a torch
env is made).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ram_env import torch_rng
from ram_env.canvases import (
    STREAM_CLUTTER,
    STREAM_DIGIT_POSITION,
    STREAMS_PER_CLUTTER,
    CanvasSource,
)
from ram_env.torch_retina import gather


class TorchCanvases:
    """A ``CanvasSource``'s images, labels and canvases on ``device``."""

    def __init__(self, source: CanvasSource, device: torch.device) -> None:
        self.source = source
        self.device = device
        self.images = _read_only_tensor(source.images, device)
        self.labels = _read_only_tensor(source.labels, device)
        unchanging = source.unchanging
        self.unchanging = None if unchanging is None else _read_only_tensor(unchanging, device)
        self.dtype = self.images.dtype
        image_h, image_w = source.images.shape[1:]
        size = source.spec.clutter_size
        canvas_w = source.canvas_shape[1]
        rows_h, cols_w, steps = (torch.arange(n, device=device) for n in (image_h, image_w, size))
        self._digit_on_canvas = (rows_h[:, None] * canvas_w + cols_w).reshape(-1)
        self._crop_in_image = (steps[:, None] * image_w + steps).reshape(-1)
        self._crop_on_canvas = (steps[:, None] * canvas_w + steps).reshape(-1)
        self._total: torch.Tensor | None = None  # ``compose``'s buffer, kept (see there)

    def canvases(self, u: torch.Tensor, image_index: torch.Tensor) -> torch.Tensor:
        """The ``(n, H, W)`` canvases of episodes drawn from uniforms ``u`` on these images:
        in the images' dtype, or (composed ones) in a wider one, in the pixel range."""
        if self.unchanging is not None:
            return self.unchanging[image_index]
        return self.compose(u, image_index)

    def compose(self, u: torch.Tensor, image_index: torch.Tensor) -> torch.Tensor:
        """``CanvasSource.compose`` on the device (see the module docstring), into a buffer
        kept for the next call (fresh ones cost page faults on the CPU): the result is
        good until then."""
        source = self.source
        n = len(image_index)
        height, width = source.canvas_shape
        image_h, image_w = source.images.shape[1:]
        num_images = source.num_images
        wide = torch.int32 if self.dtype == torch.uint8 else self.dtype
        if self._total is None or self._total.shape != (n, height * width):
            self._total = torch.empty((n, height * width), dtype=wide, device=self.device)
        total = self._total.zero_()
        digit_r = torch_rng.integers(u[:, STREAM_DIGIT_POSITION], height - image_h + 1)
        digit_c = torch_rng.integers(u[:, STREAM_DIGIT_POSITION + 1], width - image_w + 1)
        where = (digit_r * width + digit_c)[:, None] + self._digit_on_canvas
        total.scatter_add_(1, where, self.images[image_index].reshape(n, -1).to(wide))
        pieces = source.spec.num_clutter
        if pieces:
            size = source.spec.clutter_size
            end = STREAM_CLUTTER + STREAMS_PER_CLUTTER * pieces
            draws = u[:, STREAM_CLUTTER:end].reshape(n, pieces, STREAMS_PER_CLUTTER)
            other = torch_rng.integers(draws[..., 0], num_images - 1)
            other += (other >= image_index[:, None]).to(other.dtype)  # never its own digit
            crop_r = torch_rng.integers(draws[..., 1], image_h - size + 1)
            crop_c = torch_rng.integers(draws[..., 2], image_w - size + 1)
            paste_r = torch_rng.integers(draws[..., 3], height - size + 1)
            paste_c = torch_rng.integers(draws[..., 4], width - size + 1)
            crop_start = (other * image_h + crop_r) * image_w + crop_c
            crops = gather(self.images, crop_start[..., None] + self._crop_in_image)
            paste_start = paste_r * width + paste_c
            where = (paste_start[..., None] + self._crop_on_canvas).reshape(n, -1)
            total.scatter_add_(1, where, crops.reshape(n, -1).to(wide))
        pixel_max = 255 if self.dtype == torch.uint8 else 1.0
        return total.clamp_(max=pixel_max).reshape(n, height, width)


def _read_only_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """``array`` on ``device``; on the CPU its memory is shared, not copied. These tensors
    are only read, so torch's warning about arrays marked read-only does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(array).to(device)
