"""The fast ``Retina`` against a slow reference written from its docstring, and its axes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ram_env.retina import Retina

CORNERS_AND_EDGES = [
    (-1.0, -1.0),
    (1.0, 1.0),
    (-1.0, 1.0),
    (1.0, -1.0),
    (0.0, 0.0),
    (-1.0, 0.0),
    (1.0, 0.0),
    (0.0, -1.0),
    (0.0, 1.0),
]


def reference_glimpse(canvas: np.ndarray, x: float, y: float, g: int, k: int) -> np.ndarray:
    """The retina by explicit loops: ``(k, g, g)`` block averages of a zero-padded canvas.

    Follows ``ram_env.retina``'s docstring: ``col = (x + 1) / 2 * W``, ``row = (y + 1) / 2
    * H``; patch i has side ``s = g * 2**i`` and first row ``floor(row - s / 2 + 1/2)``.
    """
    height, width = canvas.shape
    value_scale = 1.0 / 255.0 if canvas.dtype == np.uint8 else 1.0
    centre_row = (y + 1.0) / 2.0 * height
    centre_col = (x + 1.0) / 2.0 * width
    out = np.zeros((k, g, g))
    for i in range(k):
        block = 2**i
        side = g * block
        top = math.floor(centre_row - side / 2 + 0.5)
        left = math.floor(centre_col - side / 2 + 0.5)
        for out_row in range(g):
            for out_col in range(g):
                total = 0.0
                for dr in range(block):
                    for dc in range(block):
                        row = top + out_row * block + dr
                        col = left + out_col * block + dc
                        if 0 <= row < height and 0 <= col < width:
                            total += float(canvas[row, col])
                out[i, out_row, out_col] = total / (block * block) * value_scale
    return out


def fast_glimpses(canvases: np.ndarray, slots: np.ndarray, locations: np.ndarray, g: int, k: int):
    """``Retina`` used as the env uses it: prepare once, then read by slot."""
    retina = Retina(canvases.shape[1:], g, k)
    padded, tables = retina.prepare(canvases)
    value_scale = 1.0 / 255.0 if canvases.dtype == np.uint8 else 1.0
    return retina(padded, tables, slots, np.asarray(locations, dtype=np.float64), value_scale)


def random_canvases(rng: np.random.Generator, n: int, shape: tuple[int, int], dtype) -> np.ndarray:
    if np.dtype(dtype) == np.uint8:
        return rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    return rng.random((n, *shape)).astype(dtype)


CASES = [
    # (g, k, canvas shape, dtype)
    (1, 1, (7, 5), np.uint8),
    (1, 4, (9, 16), np.float32),
    (2, 2, (6, 6), np.uint8),
    (3, 3, (13, 20), np.uint8),
    (3, 1, (28, 28), np.float64),
    (5, 2, (17, 11), np.float32),
    (5, 4, (28, 28), np.uint8),
    (8, 1, (28, 28), np.uint8),
    (8, 3, (31, 23), np.float32),
    (12, 3, (60, 60), np.uint8),
    (12, 4, (40, 52), np.uint8),
    (12, 2, (10, 9), np.float32),  # patches far larger than the canvas
]


@pytest.mark.parametrize(("g", "k", "shape", "dtype"), CASES)
def test_matches_reference(g: int, k: int, shape: tuple[int, int], dtype) -> None:
    rng = np.random.default_rng(1000 * g + 10 * k + shape[0])
    canvases = random_canvases(rng, 3, shape, dtype)
    grid = np.linspace(-1.0, 1.0, 5)
    locations = np.concatenate(
        [
            np.array(CORNERS_AND_EDGES),
            rng.uniform(-1.0, 1.0, (12, 2)),
            rng.choice(grid, (4, 2)),
            rng.uniform(0.9, 1.0, (3, 2)) * rng.choice([-1.0, 1.0], (3, 2)),  # near corners
        ]
    )
    slots = rng.integers(0, len(canvases), len(locations))
    glimpses = fast_glimpses(canvases, slots, locations, g, k)
    assert glimpses.shape == (len(locations), k, g, g) and glimpses.dtype == np.float32
    for glimpse, slot, (x, y) in zip(glimpses, slots, locations, strict=True):
        expected = reference_glimpse(canvases[slot], x, y, g, k)
        np.testing.assert_allclose(glimpse, expected, rtol=0, atol=1e-6, err_msg=f"at {(x, y)}")


@pytest.mark.parametrize(("g", "k", "shape", "dtype"), CASES[::2])
def test_single_canvas_path_matches_reference(g: int, k: int, shape, dtype) -> None:
    """``Retina.one`` (the single env's path) reads the same glimpses as ``__call__``."""
    rng = np.random.default_rng(7 * g + k)
    canvases = random_canvases(rng, 2, shape, dtype)
    retina = Retina(shape, g, k)
    padded, tables = retina.prepare(canvases)
    value_scale = 1.0 / 255.0 if canvases.dtype == np.uint8 else 1.0
    locations = [*CORNERS_AND_EDGES, *rng.uniform(-1.0, 1.0, (8, 2)).tolist()]
    for slot in range(2):
        table = None if tables is None else tables[slot]
        for x, y in locations:
            glimpse = retina.one(padded[slot], table, (x, y), value_scale)
            assert glimpse.shape == (k, g, g) and glimpse.dtype == np.float32
            expected = reference_glimpse(canvases[slot], x, y, g, k)
            np.testing.assert_allclose(glimpse, expected, rtol=0, atol=1e-6)


def test_full_range_values_stay_in_unit_interval() -> None:
    canvases = np.full((1, 20, 20), 255, dtype=np.uint8)
    locations = np.array([[0.0, 0.0], [0.3, -0.2]])
    glimpses = fast_glimpses(canvases, np.zeros(2, dtype=np.intp), locations, 4, 3)
    assert glimpses.max() == 1.0 and glimpses.min() >= 0.0


def test_docstring_example_patch_rows() -> None:
    """A scale-0 patch of 8 at the centre of a 28x28 canvas covers rows/columns 10..17."""
    retina = Retina((28, 28), 8, 1)
    first_row, first_col = retina.patch_origins(np.zeros((1, 2)))
    assert (first_row[0, 0], first_col[0, 0]) == (10, 10)
    canvas = np.zeros((1, 28, 28), dtype=np.uint8)
    canvas[0, 10:18, 10:18] = 255
    glimpse = fast_glimpses(canvas, np.zeros(1, dtype=np.intp), np.zeros((1, 2)), 8, 1)
    np.testing.assert_array_equal(glimpse[0, 0], np.ones((8, 8), dtype=np.float32))


def bright_pixel_canvas(shape: tuple[int, int], row: int, col: int) -> np.ndarray:
    canvas = np.zeros((1, *shape), dtype=np.uint8)
    canvas[0, row, col] = 255
    return canvas


def pixel_location(shape: tuple[int, int], row: int, col: int) -> tuple[float, float]:
    """The location ``(x, y)`` of the centre of pixel ``(row, col)``."""
    height, width = shape
    return (2 * col + 1) / width - 1, (2 * row + 1) / height - 1


def lit(canvas: np.ndarray, location: tuple[float, float], g: int) -> list[tuple[int, int]]:
    """Positions in a ``g x g`` single-scale glimpse where the bright pixel shows."""
    glimpse = fast_glimpses(canvas, np.zeros(1, dtype=np.intp), np.array([location]), g, 1)
    return [tuple(int(v) for v in p) for p in np.argwhere(glimpse[0, 0] > 0)]


def test_top_left_corner_is_minus_one_minus_one() -> None:
    """At (-1, -1) a 2x2 patch straddles the corner: pixel (0, 0) is its bottom-right."""
    canvas = bright_pixel_canvas((10, 14), 0, 0)
    assert lit(canvas, (-1.0, -1.0), 2) == [(1, 1)]
    assert lit(canvas, (1.0, 1.0), 2) == []


def test_bottom_right_corner_is_plus_one_plus_one() -> None:
    """At (1, 1) the last pixel is the top-left of a 2x2 patch."""
    canvas = bright_pixel_canvas((10, 14), 9, 13)
    assert lit(canvas, (1.0, 1.0), 2) == [(0, 0)]
    assert lit(canvas, (-1.0, -1.0), 2) == []


def test_centre_is_zero_zero() -> None:
    """On a 10x14 canvas (0, 0) is between pixels: rows 4|5, columns 6|7."""
    for (row, col), expected in {(4, 6): (0, 0), (5, 7): (1, 1), (4, 7): (0, 1)}.items():
        canvas = bright_pixel_canvas((10, 14), row, col)
        assert lit(canvas, (0.0, 0.0), 2) == [expected]


@pytest.mark.parametrize(("row", "col"), [(0, 0), (2, 11), (8, 3), (9, 13), (5, 0)])
def test_pixel_centre_location_sees_the_pixel(row: int, col: int) -> None:
    shape = (10, 14)
    canvas = bright_pixel_canvas(shape, row, col)
    assert lit(canvas, pixel_location(shape, row, col), 1) == [(0, 0)]
    assert lit(canvas, pixel_location(shape, row, col), 3) == [(1, 1)]


def test_x_runs_along_columns_and_y_along_rows() -> None:
    shape = (10, 14)  # non-square, so swapping the axes would show
    row, col = 2, 9
    canvas = bright_pixel_canvas(shape, row, col)
    x, y = pixel_location(shape, row, col)
    assert lit(canvas, (y, x), 1) == []
    # Looking one column to the right shows the pixel one column further left.
    assert lit(canvas, (x + 2 / shape[1], y), 3) == [(1, 0)]
    # Looking one row down shows it one row further up.
    assert lit(canvas, (x, y + 2 / shape[0]), 3) == [(0, 1)]
    # Increasing x moves through the columns of the canvas.
    for next_col in range(shape[1]):
        canvas = bright_pixel_canvas(shape, row, next_col)
        assert lit(canvas, pixel_location(shape, row, next_col), 1) == [(0, 0)]


def test_coarse_scale_averages_blocks() -> None:
    """A bright pixel at scale 1 shows as a quarter-intensity 2x2 block average."""
    canvas = bright_pixel_canvas((16, 16), 8, 8)
    glimpse = fast_glimpses(canvas, np.zeros(1, dtype=np.intp), np.zeros((1, 2)), 2, 2)
    np.testing.assert_allclose(glimpse[0, 1], [[0.0, 0.0], [0.0, 0.25]], atol=1e-7)


@pytest.mark.parametrize(("g", "k"), [(0, 1), (1, 0), (-2, 3)])
def test_bad_sizes_raise(g: int, k: int) -> None:
    with pytest.raises(ValueError, match="glimpse_size and num_scales"):
        Retina((28, 28), g, k)


@pytest.mark.parametrize(("num_scales", "table_dtype"), [(5, np.uint16), (6, np.int32)])
def test_integer_tables_give_exact_block_sums(num_scales: int, table_dtype) -> None:
    """uint16 tables wrap around, yet 16x16 blocks of 255 (65,280) still come out exact."""
    retina = Retina((150, 150), 3, num_scales)
    assert retina.table_dtype(np.uint8) == table_dtype
    assert retina.table_dtype(np.float32) == np.float64
    canvases = np.full((2, 150, 150), 255, dtype=np.uint8)
    padded, tables = retina.prepare(canvases)
    assert tables.dtype == table_dtype
    glimpses = retina(padded, tables, np.array([0, 1]), np.zeros((2, 2)), 1.0 / 255.0)
    np.testing.assert_array_equal(glimpses, np.ones_like(glimpses))  # every patch inside


def test_large_batches_built_in_chunks_match_reference() -> None:
    """Tables for hundreds of canvases (several chunks, row-at-a-time path) stay exact."""
    rng = np.random.default_rng(5)
    canvases = random_canvases(rng, 300, (30, 30), np.uint8)
    slots = np.array([0, 1, 127, 128, 129, 255, 256, 299])
    locations = rng.uniform(-1.0, 1.0, (len(slots), 2))
    glimpses = fast_glimpses(canvases, slots, locations, 4, 3)
    for glimpse, slot, (x, y) in zip(glimpses, slots, locations, strict=True):
        expected = reference_glimpse(canvases[slot], x, y, 4, 3)
        np.testing.assert_allclose(glimpse, expected, rtol=0, atol=1e-6)
