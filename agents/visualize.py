"""Pictures of where a trained model looks: its glimpse paths on some digits of a split.

Frame t shows, side by side for each digit, the canvas, the path so far and the retina's
squares at glimpse t (drawn by the env's ``render_mode="rgb_array"``); the last frame adds
the prediction (green: right, red: wrong). ``.gif`` animates the frames, ``.png`` puts them
in a row.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

import ram_env  # noqa: F401  (registers the env ids)
from agents.policy import Policy
from ram_env.play import play
from ram_env.render import render_frame, save_episode
from ram_env.scoring import make_eval_env
from ram_env.seeds import derive_seed


def record_paths(
    policy: Policy,
    env_id: str,
    split: str,
    image_indices: list[int],
    seed: int = 0,
    **env_kwargs: Any,
) -> tuple[list[list[np.ndarray]], list[tuple[int, int]]]:
    """Frames of one episode per image, and ``(label, prediction)`` pairs.

    Image j starts where ``evaluate`` starts it (seed ``derive_seed(seed, 0) + j``).
    """
    index = np.asarray(image_indices, dtype=np.int64)
    env = make_eval_env(env_id, split, len(index), **env_kwargs)
    first_seeds = np.uint64(derive_seed(seed, 0)) + index.astype(np.uint64)
    played = play(policy, env, derive_seed(seed, 0), index, reset_seed=first_seeds)
    task = env.unwrapped.task
    all_frames = [
        [
            render_frame(
                env.unwrapped.canvas(i),
                played.locations[: t + 1, i],
                task.glimpse_size,
                task.num_scales,
            )
            for t in range(len(played.locations))
        ]
        for i in range(len(index))
    ]
    outcomes = list(zip(played.labels.tolist(), played.predictions.tolist(), strict=True))
    env.close()
    return all_frames, outcomes


def plot_glimpse_paths(
    policy: Policy,
    env_id: str,
    split: str,
    path: str | os.PathLike,
    count: int = 8,
    seed: int = 0,
    **env_kwargs: Any,
) -> Path:
    """Write the glimpse paths of the first ``count`` images of ``split`` to ``path``."""
    frames, outcomes = record_paths(policy, env_id, split, list(range(count)), seed, **env_kwargs)
    for digit, outcome in zip(frames, outcomes, strict=True):
        digit[-1] = _label(digit[-1], *outcome)
    if Path(path).suffix.lower() == ".png":  # one picture: a row of glimpses per digit
        grid = _stacked([_side_by_side(digit) for digit in frames])
        return save_episode([grid], path)
    steps = len(frames[0])
    return save_episode(
        [_side_by_side([digit[t] for digit in frames]) for t in range(steps)], path, fps=1.5
    )


def _side_by_side(images: list[np.ndarray], gap: int = 4) -> np.ndarray:
    height = max(image.shape[0] for image in images)
    width = sum(image.shape[1] for image in images) + gap * (len(images) - 1)
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    x = 0
    for image in images:
        out[: image.shape[0], x : x + image.shape[1]] = image
        x += image.shape[1] + gap
    return out


def _stacked(images: list[np.ndarray], gap: int = 4) -> np.ndarray:
    return np.rot90(_side_by_side([np.rot90(image, 1) for image in images], gap), -1).copy()


def _label(frame: np.ndarray, label: int, prediction: int) -> np.ndarray:
    picture = Image.fromarray(frame)
    colour = (0, 200, 0) if label == prediction else (230, 0, 0)
    ImageDraw.Draw(picture).text((4, 4), f"label {label} -> {prediction}", fill=colour)
    return np.asarray(picture)
