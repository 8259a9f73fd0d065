"""Retina glimpses of Catch screens, computed from where the ball and paddle are.

A Catch screen is black but for one ball pixel and a paddle of ``w`` pixels in the bottom
row. The retina (``ram_env.retina``) averages each patch over ``2**i x 2**i`` blocks, so a
cell of a glimpse is simply the number of lit pixels in its block over the block's area:
1 for the block holding the ball, the overlap of the block's columns with the paddle's in
the paddle's row of blocks, 0 elsewhere. Counting overlaps instead of building a
summed-area table of every screen on every step is what lets the vector env run over a
million steps a second; the result is exactly ``Retina`` applied to the rendered screen
(``tests/test_catch.py`` checks it), patch origins included, as they come from the same
``Retina.patch_origins``.
"""

from __future__ import annotations

import numpy as np

from ram_env.retina import Retina


class CatchGlimpses:
    """``Retina``'s glimpses of ball-and-paddle screens, for batches of envs.

    Args:
        retina: the retina (its screen shape, glimpse size and scales).
        paddle_width: the paddle's width in pixels; it lies in the screen's bottom row.
    """

    def __init__(self, retina: Retina, paddle_width: int) -> None:
        self.retina = retina
        self.paddle_width = w = int(paddle_width)
        height, width = retina.canvas_shape
        self.bottom_row = height - 1
        k, g = retina.num_scales, retina.glimpse_size
        self.shift = np.arange(k, dtype=np.intp)  # pixel offset >> shift = cell offset
        self.patch_side = (g << self.shift).astype(np.uintp)
        self.cell_value = (1.0 / 4.0**self.shift).astype(np.float32)  # one lit pixel
        # The paddle's row of cells depends only on the paddle's offset from the patch's
        # first column: tabulate it for every offset that can occur (and one all-zero row).
        lowest = -(width + 1)  # paddle at 0, patch reaching past the right edge
        offsets = np.arange(lowest, width + 1 + int(self.patch_side[-1]))
        cell_left = (np.arange(g)[None, :] << self.shift[:, None])[:, None, :]  # (k, 1, g)
        cell_right = cell_left + (1 << self.shift)[:, None, None]
        paddle_left = offsets[None, :, None]
        overlap = np.minimum(cell_right, paddle_left + w) - np.maximum(cell_left, paddle_left)
        rows = np.maximum(overlap, 0) * self.cell_value[:, None, None]  # (k, offsets, g)
        self._offset_base = -lowest
        self._offsets = len(offsets) + 1  # per scale, the last row all zeros
        self._paddle_rows = np.zeros((k, self._offsets, g), dtype=np.float32)
        self._paddle_rows[:, :-1] = rows
        self._paddle_rows = self._paddle_rows.reshape(-1, g)
        self._scale_rows = (np.arange(k) * self._offsets)[None, :]
        self._arange = np.arange(0, dtype=np.intp)

    def __call__(
        self,
        ball_rows: np.ndarray,
        ball_cols: np.ndarray,
        paddle_lefts: np.ndarray,
        locations: np.ndarray,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Glimpses ``(N, k, g, g)`` float32 of N screens at ``locations`` ``(N, 2)``.

        Screen i has its ball at ``(ball_rows[i], ball_cols[i])`` and its paddle over columns
        ``paddle_lefts[i] .. paddle_lefts[i] + w - 1`` of the bottom row (a ball on the
        paddle lights one pixel, not two).
        """
        n, k, g = len(locations), self.retina.num_scales, self.retina.glimpse_size
        if out is None:
            out = np.empty((n, k, g, g), dtype=np.float32)
        out.fill(0.0)
        first_row, first_col = self.retina.patch_origins(locations)  # (N, k) each

        # The paddle: one row of cells per patch, looked up by the paddle's offset (patches
        # that miss the bottom row get the all-zero row, written over their first row).
        below = self.bottom_row - first_row  # the paddle's row inside each patch
        missed = below.view(np.uintp) >= self.patch_side  # below < 0 wraps to a huge value
        table_row = paddle_lefts[:, None] - first_col
        table_row += self._offset_base
        table_row[missed] = self._offsets - 1
        table_row += self._scale_rows
        below[missed] = 0
        patches = out.reshape(n * k, g, g)
        patches[self._patch_index(n * k), (below >> self.shift).reshape(-1)] = np.take(
            self._paddle_rows, table_row.reshape(-1), axis=0
        )

        # The ball: one cell of each patch that holds it, unless it lies on the paddle.
        on_paddle = (ball_rows == self.bottom_row) & (ball_cols >= paddle_lefts)
        on_paddle &= ball_cols < paddle_lefts + self.paddle_width
        row_in = ball_rows[:, None] - first_row
        col_in = ball_cols[:, None] - first_col
        seen = row_in.view(np.uintp) < self.patch_side
        seen &= col_in.view(np.uintp) < self.patch_side
        seen &= ~on_paddle[:, None]
        row_in >>= self.shift
        col_in >>= self.shift
        row_in *= g
        row_in += col_in
        row_in += self._patch_index(n * k).reshape(n, k) * (g * g)
        out.reshape(-1)[row_in[seen]] += np.broadcast_to(self.cell_value, (n, k))[seen]
        return out

    def _patch_index(self, count: int) -> np.ndarray:
        """``arange(count)``, kept between calls."""
        if len(self._arange) != count:
            self._arange = np.arange(count, dtype=np.intp)
        return self._arange
