"""Pictures of where a trained model looks: its glimpse paths on some digits of a split.

Frame t shows, side by side for each digit, the canvas, the path so far and the retina's
squares at glimpse t (drawn by the env's ``render_mode="rgb_array"``); the last frame adds
the prediction (green: right, red: wrong). ``.gif`` animates the frames, ``.png`` puts them
in a row.
"""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium
import numpy as np
import torch
from PIL import Image, ImageDraw

import ram_env  # noqa: F401  (registers the env ids)
from agents.ram_policy import RecurrentAttentionModel
from agents.rollout import derive_seed, observation_to_tensors, scores_action
from ram_env.render import save_episode


@torch.no_grad()
def record_paths(
    model: RecurrentAttentionModel,
    env_id: str,
    split: str,
    image_indices: list[int],
    seed: int = 0,
    **env_kwargs,
) -> tuple[list[list[np.ndarray]], list[tuple[int, int]]]:
    """Frames of one mean-path episode per image, and ``(label, prediction)`` pairs."""
    model.eval()
    env = gymnasium.make(env_id, split=split, render_mode="rgb_array", **env_kwargs).unwrapped
    num_classes = model.config.num_classes
    all_frames, outcomes = [], []
    for index in image_indices:
        # The same first location as in `evaluate` (image j: seed derive_seed(seed, 0) + j).
        first_seed = derive_seed(seed, 0) + index
        observation, _ = env.reset(seed=first_seed, options={"image_index": index})
        state = model.initial_state(1)
        generator = torch.Generator().manual_seed(first_seed)  # used by random locations only
        frames = []
        for t in range(env.num_glimpses):
            frames.append(env.render())
            batch = {key: value[None] for key, value in observation.items()}
            glimpse, location = observation_to_tensors(batch, model.classifier.weight.device)
            out = model.step(glimpse, location, state)
            state = out.state
            if t < env.num_glimpses - 1:
                next_location, _ = model.next_location(out, generator, explore=False)
                action = scores_action(next_location, None, num_classes)
            else:
                prediction = model.classify(out.hidden).argmax(-1)
                action = scores_action(None, prediction, num_classes)
            observation, _, _, _, info = env.step(action[0])
        all_frames.append(frames)
        outcomes.append((int(info["label"]), int(info["prediction"])))
    env.close()
    return all_frames, outcomes


def plot_glimpse_paths(
    model: RecurrentAttentionModel,
    config,
    split: str,
    path: str | os.PathLike,
    count: int = 8,
    seed: int = 0,
) -> Path:
    """Write the glimpse paths of the first ``count`` images of ``split`` to ``path``."""
    frames, outcomes = record_paths(
        model, config.env_id, split, list(range(count)), seed, **config.env_kwargs()
    )
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
