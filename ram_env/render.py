"""Pictures of an episode: the canvas, the glimpse squares and the path, as RGB arrays."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ram_env.atomic import write_atomic
from ram_env.retina import Retina

MIN_SIDE = 240  # frames are scaled up to at least this many pixels a side
_SCALE_COLOURS = [(255, 64, 64), (255, 176, 0), (64, 200, 64), (64, 160, 255)]
_PATH_COLOUR = (0, 220, 220)


def check_render_mode(render_mode: str | None, render_modes: Sequence[str]) -> None:
    """Refuse a ``render_mode`` an env does not draw, naming the ones it does."""
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(
            f"render_mode must be one of {list(render_modes)} or None, got {render_mode!r}"
        )


def render_frame(
    canvas: np.ndarray, path: Sequence[np.ndarray], glimpse_size: int, num_scales: int
) -> np.ndarray:
    """An ``(H', W', 3)`` uint8 picture: the canvas, the path so far, the current squares."""
    height, width = canvas.shape
    zoom = max(1, -(-MIN_SIDE // min(height, width)))
    grey = canvas if canvas.dtype == np.uint8 else np.rint(np.clip(canvas, 0, 1) * 255)
    picture = Image.fromarray(grey.astype(np.uint8), "L").convert("RGB")
    picture = picture.resize((width * zoom, height * zoom), Image.NEAREST)
    draw = ImageDraw.Draw(picture)

    def to_pixels(location: np.ndarray) -> tuple[float, float]:
        return ((location[0] + 1) / 2 * width * zoom, (location[1] + 1) / 2 * height * zoom)

    points = [to_pixels(location) for location in path]
    if len(points) > 1:
        draw.line(points, fill=_PATH_COLOUR, width=2)
    for x, y in points:
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), outline=_PATH_COLOUR)
    retina = Retina((height, width), glimpse_size, num_scales)
    rows, cols = retina.patch_origins(np.asarray(path[-1], dtype=np.float64)[None, :])
    for scale in range(num_scales):
        side = glimpse_size * 2**scale
        top, left = rows[0, scale] * zoom, cols[0, scale] * zoom
        colour = _SCALE_COLOURS[scale % len(_SCALE_COLOURS)]
        draw.rectangle(
            (left, top, left + side * zoom - 1, top + side * zoom - 1), outline=colour, width=2
        )
    return np.asarray(picture)


def save_episode(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 2.0) -> Path:
    """Write RGB frames as an animated GIF (``.gif``) or a side-by-side strip (``.png``).

    The file is written atomically (temporary sibling, then rename).
    """
    path = Path(path)
    if not frames:
        raise ValueError("save_episode needs at least one frame")
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".png"):
        raise ValueError(f"save_episode writes .gif or .png files, got {path.name!r}")
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]

    def write(file) -> None:
        if suffix == ".gif":
            duration = int(1000 / fps)
            images[0].save(
                file, "GIF", save_all=True, append_images=images[1:], duration=duration, loop=0
            )
            return
        strip = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)))
        x = 0
        for image in images:
            strip.paste(image, (x, 0))
            x += image.width
        strip.save(file, "PNG")

    write_atomic(path, write)
    return path


def record_episode(env, policy=None, seed: int | None = None) -> list[np.ndarray]:
    """Run one episode of a ``render_mode="rgb_array"`` env and return its frames.

    ``policy(observation) -> action``; random actions when None.
    """
    observation, _ = env.reset(seed=seed)
    if seed is not None:
        env.action_space.seed(seed)
    frames = [env.render()]
    terminated = truncated = False
    while not (terminated or truncated):
        action = env.action_space.sample() if policy is None else policy(observation)
        observation, _, terminated, truncated, _ = env.step(action)
        frames.append(env.render())
    return frames
