"""Pictures of where a trained model looks: its glimpse paths on some digits of a split.

Frame t shows, side by side for each digit, the canvas, the path so far and the retina's
squares at glimpse t (drawn by the env's ``render_mode="rgb_array"``); the last frame adds
the prediction (green: right, red: wrong). ``.gif`` animates the frames, ``.png`` puts them
in a row. For ``GlimpseCatch-v0`` the same shows games: each frame the screen as it was
then (ball, paddle), the last one marked caught or missed.
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


class Outcome(tuple):
    """An episode's ``(label, prediction)`` pair (Catch: ``(ball column, paddle column)``),
    with the caption its last frame gets and whether it was right."""

    def __new__(cls, pair: tuple[int, int], text: str, right: bool) -> Outcome:
        outcome = super().__new__(cls, pair)
        outcome.text, outcome.right = text, right
        return outcome


def record_paths(
    policy: Policy,
    env_id: str,
    split: str,
    image_indices: list[int],
    seed: int = 0,
    **env_kwargs: Any,
) -> tuple[list[list[np.ndarray]], list[Outcome]]:
    """Frames of one episode per image (Catch: per game), and their outcomes.

    Image j starts where ``evaluate`` starts it (seed ``derive_seed(seed, 0) + j``).
    """
    index = np.asarray(image_indices, dtype=np.int64)
    env = make_eval_env(env_id, split, len(index), **env_kwargs)
    first_seeds = np.uint64(derive_seed(seed, 0)) + index.astype(np.uint64)
    task = env.unwrapped.task
    screens: list[list[np.ndarray]] = []  # Catch's screen changes every step: keep each

    def watched(observation: dict[str, np.ndarray], state: Any) -> tuple[Any, Any]:
        screens.append([env.unwrapped.canvas(i) for i in range(len(index))])
        return policy(observation, state)

    if hasattr(policy, "seed"):
        watched.seed = policy.seed  # type: ignore[attr-defined]
    played = play(watched, env, derive_seed(seed, 0), index, reset_seed=first_seeds)
    locations = played.locations
    catch = played.labels is None
    if catch:  # one frame more: the ball in the bottom row, over the paddle or not
        screens.append([env.unwrapped.canvas(i) for i in range(len(index))])
        locations = np.concatenate([locations, locations[-1:]])
    all_frames = [
        [
            render_frame(screens[t][i], locations[: t + 1, i], task.glimpse_size, task.num_scales)
            for t in range(len(locations))
        ]
        for i in range(len(index))
    ]
    if catch:
        state = env.unwrapped.game_state()
        pairs = list(zip(state["ball_column"].tolist(), state["paddle"].tolist(), strict=True))
        texts = ["caught" if caught else "missed" for caught in played.correct.tolist()]
    else:
        pairs = list(zip(played.labels.tolist(), played.predictions.tolist(), strict=True))
        texts = [f"label {label} -> {prediction}" for label, prediction in pairs]
    outcomes = [
        Outcome(pair, text, bool(right))
        for pair, text, right in zip(pairs, texts, played.correct.tolist(), strict=True)
    ]
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
        digit[-1] = _label(digit[-1], outcome.text, outcome.right)
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


def _label(frame: np.ndarray, text: str, right: bool) -> np.ndarray:
    picture = Image.fromarray(frame)
    colour = (0, 200, 0) if right else (230, 0, 0)
    ImageDraw.Draw(picture).text((4, 4), text, fill=colour)
    return np.asarray(picture)
