"""The glimpse sensor: multi-resolution square patches around a location, batched.

Coordinate convention (the single place it is defined)
-------------------------------------------------------
A location is ``(x, y)`` in ``[-1, 1]^2``:

* ``x`` runs along the canvas **columns** (left to right), ``y`` along the **rows** (top to
  bottom), as in image coordinates;
* ``(-1, -1)`` is the top-left corner of the canvas, ``(1, 1)`` the bottom-right corner and
  ``(0, 0)`` its centre.

On an ``H x W`` canvas the location maps to the continuous pixel position
``col = (x + 1) / 2 * W``, ``row = (y + 1) / 2 * H``. Patch ``i`` (``i = 0 .. k-1``) is a
square of ``s_i = g * 2**i`` pixels whose first row/column is ``floor(pos - s_i / 2 + 1/2)``,
so a patch at the centre of a 28x28 canvas with ``s = 8`` covers rows and columns 10..17.
Each patch is reduced to ``g x g`` by exact averaging over ``2**i x 2**i`` blocks; pixels
outside the canvas read as 0.

How it is fast
--------------
All reads are single flat ``np.take`` gathers over a whole batch (no loop over envs or
scales). Scale 0 reads its ``g x g`` pixels straight from a zero-padded copy of the canvas.
Coarser scales read a summed-area table (an integral image with a zero first row and
column): the ``g x g`` block sums of a patch are the 2-D finite difference of the table
sampled on a ``(g+1) x (g+1)`` grid of block corners, and corners clamped to the border
give exactly zero padding. uint8 canvases get integer tables, so glimpses are exact: uint16
when every block sum fits in 16 bits (blocks up to 16x16, i.e. up to 5 scales), because
a table kept modulo 2**16 still gives exact block sums under wrap-around subtraction, and
half-size tables make the gathers markedly cheaper; int32 for larger blocks.
"""

from __future__ import annotations

import math

import numpy as np


class Retina:
    """Extracts ``k`` scales of ``g x g`` glimpses for batches of ``H x W`` canvases.

    Canvases are prepared once per episode (``prepare``) into a zero-padded pixel array and,
    for ``k > 1``, a summed-area table; ``__call__`` then reads glimpses from them.

    Args:
        canvas_shape: ``(H, W)`` of the canvases.
        glimpse_size: ``g``, the side of every glimpse in output pixels.
        num_scales: ``k``; patch ``i`` covers ``g * 2**i`` canvas pixels a side.
    """

    def __init__(self, canvas_shape: tuple[int, int], glimpse_size: int, num_scales: int) -> None:
        if glimpse_size < 1 or num_scales < 1:
            raise ValueError(
                f"glimpse_size and num_scales must be >= 1, got {glimpse_size}, {num_scales}"
            )
        self.canvas_shape = (int(canvas_shape[0]), int(canvas_shape[1]))
        self.glimpse_size = g = int(glimpse_size)
        self.num_scales = k = int(num_scales)
        self.pad = g // 2 + 1  # a scale-0 patch never reaches further outside the canvas
        height, width = self.canvas_shape
        self.padded_shape = (height + 2 * self.pad, width + 2 * self.pad)
        self.table_shape = (height + 1, width + 1)
        self._half_side = (g * 2.0 ** np.arange(k)) / 2.0  # (k,)
        self._pixel_offsets = (np.arange(g) * self.padded_shape[1])[:, None] + np.arange(g)
        block = 2 ** np.arange(1, k)
        self._corner_steps = block[:, None] * np.arange(g + 1)  # (k-1, g+1)
        self._block_area = (block * block).astype(np.float32)[:, None, None]
        self._half_side_0 = float(self._half_side[0])  # scale 0, as a Python float
        self._largest_block_area = int(block[-1]) ** 2 if k > 1 else 1

    def table_dtype(self, canvas_dtype: np.dtype) -> np.dtype:
        """The summed-area table dtype for canvases of ``canvas_dtype`` (see the module doc)."""
        if np.dtype(canvas_dtype) != np.uint8:
            return np.dtype(np.float64)
        if self._largest_block_area * 255 < 1 << 16:
            return np.dtype(np.uint16)  # kept modulo 2**16; block sums stay exact
        return np.dtype(np.int32)

    def blank(self, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
        """Zeroed buffers for ``n`` canvases of ``dtype``: padded pixels and tables (or None)."""
        padded = np.zeros((n, *self.padded_shape), dtype=dtype)
        if self.num_scales == 1:
            return padded, None
        return padded, np.zeros((n, *self.table_shape), dtype=self.table_dtype(dtype))

    def interior(self, padded: np.ndarray) -> np.ndarray:
        """The canvas part of padded pixels (a view)."""
        p = self.pad
        height, width = self.canvas_shape
        return padded[:, p : p + height, p : p + width]

    def prepare(
        self,
        canvases: np.ndarray,
        padded: np.ndarray | None = None,
        tables: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Zero-padded pixels ``(N, H+2p, W+2p)`` and summed-area tables ``(N, H+1, W+1)``.

        The tables have ``table_dtype`` (exact for uint8 canvases) and are None when there
        is only one scale. ``padded``/``tables`` may be buffers from ``blank`` to fill
        in place (their zero borders are kept), which saves allocating.
        """
        if padded is None:
            padded, tables = self.blank(len(canvases), canvases.dtype)
        self.interior(padded)[...] = canvases
        self.build_tables(padded, tables)
        return padded, tables

    def build_tables(self, padded: np.ndarray, tables: np.ndarray | None) -> None:
        """Fill ``tables`` (unless None) with the summed-area tables of the padded canvases.

        Works through the batch in chunks small enough to stay in cache, accumulating in
        int32 or float64 (numpy's 16-bit accumulate is slow) and storing in the table dtype.
        """
        if tables is None:
            return
        canvases = self.interior(padded)
        wide = np.int32 if tables.dtype.kind in "iu" else np.float64
        work = np.empty((min(len(canvases), _TABLE_CHUNK), *self.canvas_shape), dtype=wide)
        for start in range(0, len(canvases), _TABLE_CHUNK):
            chunk = canvases[start : start + _TABLE_CHUNK]
            sums = work[: len(chunk)]
            if len(chunk) < 16:  # few canvases: numpy's own row accumulation is quickest
                np.cumsum(chunk, axis=1, dtype=wide, out=sums)
            else:  # many: a row at a time, each add spanning the whole chunk
                sums[:, 0] = chunk[:, 0]
                for row in range(1, self.canvas_shape[0]):
                    np.add(sums[:, row - 1], chunk[:, row], out=sums[:, row])
            np.add.accumulate(sums, axis=2, out=sums)
            np.copyto(tables[start : start + len(chunk), 1:, 1:], sums, casting="unsafe")

    def patch_origins(self, locations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First canvas row and column of every patch: two ``(N, k)`` int arrays."""
        height, width = self.canvas_shape
        first_col = np.floor((locations[:, 0:1] + 1.0) * (width / 2.0) - self._half_side + 0.5)
        first_row = np.floor((locations[:, 1:2] + 1.0) * (height / 2.0) - self._half_side + 0.5)
        return first_row.astype(np.intp), first_col.astype(np.intp)

    def __call__(
        self,
        padded: np.ndarray,
        tables: np.ndarray | None,
        slots: np.ndarray,
        locations: np.ndarray,
        value_scale: float,
        out: np.ndarray | None = None,
        scratch: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Glimpses ``(N, k, g, g)`` float32 at ``locations`` ``(N, 2)`` (into ``out``).

        Env ``i`` reads canvas ``slots[i]`` of ``padded``/``tables`` (as made by
        ``prepare``); ``value_scale`` maps stored values to [0, 1] (1/255 for uint8).
        ``scratch``: a dict the caller keeps between calls (one per thread) in which the
        large temporaries are reused; fresh multi-megabyte arrays on every call would cost
        as much in page faults as the arithmetic itself.
        """
        n, g, k = len(slots), self.glimpse_size, self.num_scales
        work = _Scratch({} if scratch is None else scratch)
        first_row, first_col = self.patch_origins(locations)
        if out is None:
            out = np.empty((n, k, g, g), dtype=np.float32)
        padded_h, padded_w = self.padded_shape
        start = (
            (slots * padded_h + first_row[:, 0] + self.pad) * padded_w + first_col[:, 0] + self.pad
        )
        index = np.add(
            start[:, None, None], self._pixel_offsets, out=work("pixel_index", (n, g, g))
        )
        pixels = np.take(padded.reshape(-1), index, out=work("pixels", (n, g, g), padded.dtype))
        np.multiply(pixels, np.float32(value_scale), out=out[:, 0], casting="unsafe")
        if k > 1:
            height, width = self.canvas_shape
            rows = np.clip(first_row[:, 1:, None] + self._corner_steps, 0, height)
            cols = np.clip(first_col[:, 1:, None] + self._corner_steps, 0, width)
            rows += (slots * (height + 1))[:, None, None]
            rows *= width + 1
            shape = (n, k - 1, g + 1, g + 1)
            index = np.add(
                rows[:, :, :, None], cols[:, :, None, :], out=work("corner_index", shape)
            )
            corners = np.take(tables.reshape(-1), index, out=work("corners", shape, tables.dtype))
            sums = work("sums", (n, k - 1, g, g), tables.dtype)
            np.subtract(corners[:, :, 1:, 1:], corners[:, :, :-1, 1:], out=sums)
            np.subtract(sums, corners[:, :, 1:, :-1], out=sums)
            np.add(sums, corners[:, :, :-1, :-1], out=sums)
            np.multiply(
                sums, np.float32(value_scale) / self._block_area, out=out[:, 1:], casting="unsafe"
            )
        return out

    def one(
        self,
        padded: np.ndarray,
        table: np.ndarray | None,
        location: tuple[float, float],
        value_scale: float,
    ) -> np.ndarray:
        """The ``(k, g, g)`` glimpse of one prepared canvas (``padded[i]``, ``tables[i]``).

        Same result as ``__call__`` with a batch of one, with less per-call overhead: the
        single env's step is dominated by such overhead, not by arithmetic.
        """
        g, p = self.glimpse_size, self.pad
        height, width = self.canvas_shape
        col = (location[0] + 1.0) * (width / 2.0)
        row = (location[1] + 1.0) * (height / 2.0)
        out = np.empty((self.num_scales, g, g), dtype=np.float32)
        top = math.floor(row - self._half_side_0 + 0.5) + p
        left = math.floor(col - self._half_side_0 + 0.5) + p
        np.multiply(
            padded[top : top + g, left : left + g], np.float32(value_scale), out=out[0],
            casting="unsafe",
        )  # fmt: skip
        if self.num_scales > 1:  # all coarse scales in one gather, as in ``__call__``
            tops = np.floor(row - self._half_side[1:] + 0.5).astype(np.intp)
            lefts = np.floor(col - self._half_side[1:] + 0.5).astype(np.intp)
            rows = np.minimum(np.maximum(tops[:, None] + self._corner_steps, 0), height)
            cols = np.minimum(np.maximum(lefts[:, None] + self._corner_steps, 0), width)
            corners = table[rows[:, :, None], cols[:, None, :]]
            sums = corners[:, 1:, 1:] - corners[:, :-1, 1:]
            sums -= corners[:, 1:, :-1]
            sums += corners[:, :-1, :-1]
            np.multiply(
                sums, np.float32(value_scale) / self._block_area, out=out[1:], casting="unsafe"
            )
        return out


_TABLE_CHUNK = 128  # canvases per pass of ``build_tables``: the int32 work buffer stays in cache


class _Scratch:
    """Hands out reusable arrays from a dict, by name, shape and dtype."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def __call__(self, name: str, shape: tuple[int, ...], dtype=np.intp) -> np.ndarray:
        array = self.arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self.arrays[name] = np.empty(shape, dtype=dtype)
        return array
