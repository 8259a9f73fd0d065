"""The glimpse sensor of ``ram_env.retina`` in torch, for canvases kept on a device.

Same geometry, taken from a numpy ``Retina`` (its docstring defines the coordinates): patch
``i`` starts at ``floor(pos - g * 2**i / 2 + 1/2)``, computed in float64 exactly as there, so
both read the same pixels. Scale 0 reads ``g x g`` pixels of a zero-padded canvas; coarser
scales take the 2-D finite difference of a summed-area table on the ``(g+1) x (g+1)`` grid of
block corners, corners clamped to the border (zero padding). Tables of uint8 canvases are
int32 (exact: float32 sums would round on large canvases); of float canvases, float64. Each
read is one flat gather over the whole batch. Needs PyTorch (imported only when a
torch env is made).
"""

from __future__ import annotations

import torch

from ram_env.retina import Retina


class TorchRetina:
    """Reads ``(N, k, g, g)`` float32 glimpses from canvases prepared on ``device``.

    Env ``i`` of a batch reads row ``i`` of the padded canvases and tables (one canvas per
    env, rebuilt at each reset). ``value_scale`` maps stored values to [0, 1] (1/255 for
    uint8); it is applied in the float32 steps the numpy retina takes, so values match it.
    """

    def __init__(self, retina: Retina, value_scale: float, device: torch.device) -> None:
        self.device = device
        g, k = retina.glimpse_size, retina.num_scales
        self.glimpse_size, self.num_scales, self.pad = g, k, retina.pad
        self.canvas_shape, self.padded_shape = retina.canvas_shape, retina.padded_shape
        half_sides = [g * 2.0**scale / 2.0 for scale in range(k)]
        self._half_side = torch.tensor(half_sides, dtype=torch.float64, device=device)
        height, width = self.canvas_shape  # x runs along the width, y along the height
        self._half_extent = torch.tensor(
            [[width / 2.0], [height / 2.0]], dtype=torch.float64, device=device
        )
        steps = torch.arange(g, device=device)
        self._pixel_offsets = steps[:, None] * self.padded_shape[1] + steps  # (g, g)
        block = 2 ** torch.arange(1, k, device=device)
        self._corner_steps = block[:, None] * torch.arange(g + 1, device=device)  # (k-1, g+1)
        # float32 factors, as the numpy retina's; products taken in float64 round once
        scale = torch.tensor(value_scale, dtype=torch.float32, device=device)
        self._pixel_scale = scale
        area = (block * block).to(torch.float32)[:, None, None]
        self._block_scale = (scale / area).to(torch.float64)  # (k-1, 1, 1)
        self._sums: torch.Tensor | None = None  # ``prepare``'s buffer for some rows' tables
        self._env_starts: tuple[torch.Tensor, torch.Tensor] | None = None  # (see ``_starts``)

    def blank(self, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Zeroed padded canvases ``(n, H+2p, W+2p)`` and tables ``(n, H+1, W+1)`` (or None)."""
        padded = torch.zeros((n, *self.padded_shape), dtype=dtype, device=self.device)
        if self.num_scales == 1:
            return padded, None
        height, width = self.canvas_shape
        table_dtype = torch.int32 if dtype == torch.uint8 else torch.float64
        tables = torch.zeros((n, height + 1, width + 1), dtype=table_dtype, device=self.device)
        return padded, tables

    def prepare(
        self,
        canvases: torch.Tensor,
        padded: torch.Tensor,
        tables: torch.Tensor | None,
        rows: torch.Tensor | None = None,
    ) -> None:
        """Write ``canvases`` ``(n, H, W)`` into rows ``rows`` (None: all) of ``padded`` and
        their summed-area tables into ``tables``; the zero borders stay.

        The sums run in place, in the tables themselves (all rows) or in a buffer kept for
        the next time: fresh multi-megabyte results would cost more in page faults on the
        CPU than the sums themselves.
        """
        p = self.pad
        height, width = self.canvas_shape
        if rows is None:
            padded[:, p : p + height, p : p + width] = canvases
        else:  # an indexed write takes only its own dtype
            padded[rows, p : p + height, p : p + width] = canvases.to(padded.dtype)
        if tables is None:
            return
        if rows is None:
            sums = tables[:, 1:, 1:]  # row and column 0 stay zero
        else:
            if self._sums is None or self._sums.shape != canvases.shape:
                self._sums = torch.empty(canvases.shape, dtype=tables.dtype, device=self.device)
            sums = self._sums
        sums.copy_(canvases)
        sums.cumsum_(1)
        sums.cumsum_(2)
        if rows is not None:
            tables[rows, 1:, 1:] = sums

    def __call__(
        self, padded: torch.Tensor, tables: torch.Tensor | None, locations: torch.Tensor
    ) -> torch.Tensor:
        """Glimpses ``(N, k, g, g)`` float32 at ``locations`` ``(N, 2)`` float64 in [-1, 1]."""
        n, g, k = len(locations), self.glimpse_size, self.num_scales
        height, width = self.canvas_shape
        pixel_start, table_start = self._starts(n)
        # (N, 2, k): the first column (x) and row (y) of every patch, as the numpy retina's
        origins = torch.floor(
            (locations[:, :, None] + 1.0) * self._half_extent - self._half_side + 0.5
        ).to(torch.int64)
        first_col, first_row = origins[:, 0], origins[:, 1]
        start = pixel_start + first_row[:, 0] * self.padded_shape[1] + first_col[:, 0]
        pixels = gather(padded, start[:, None, None] + self._pixel_offsets)
        out = torch.empty((n, k, g, g), dtype=torch.float32, device=self.device)
        out[:, 0] = pixels.to(torch.float32) * self._pixel_scale
        if k > 1:
            rows = torch.clamp(first_row[:, 1:, None] + self._corner_steps, 0, height)
            cols = torch.clamp(first_col[:, 1:, None] + self._corner_steps, 0, width)
            rows = rows * (width + 1) + table_start
            corners = gather(tables, rows[:, :, :, None] + cols[:, :, None, :])
            sums = corners[:, :, 1:, 1:] - corners[:, :, :-1, 1:]
            sums = sums - corners[:, :, 1:, :-1] + corners[:, :, :-1, :-1]
            out[:, 1:] = sums.to(torch.float64) * self._block_scale
        return out

    def _starts(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat offsets of env ``i``'s canvas interior (``(N,)``) and of its table
        (``(N, 1, 1)``), made once for a batch size: fewer small ops per step."""
        if self._env_starts is None or len(self._env_starts[0]) != n:
            padded_h, padded_w = self.padded_shape
            height, width = self.canvas_shape
            envs = torch.arange(n, device=self.device)
            pixel = envs * (padded_h * padded_w) + self.pad * padded_w + self.pad
            table = (envs * ((height + 1) * (width + 1)))[:, None, None]
            self._env_starts = (pixel, table)
        return self._env_starts


def gather(source: torch.Tensor, flat_index: torch.Tensor) -> torch.Tensor:
    """``source.flatten()[flat_index]``, shaped like ``flat_index``: ``torch.take``'s result
    through ``index_select``, several times quicker on the CPU and as quick on a GPU."""
    picked = source.reshape(-1).index_select(0, flat_index.reshape(-1))
    return picked.reshape(flat_index.shape)
