"""Catch's settings, its fixed parts and the state of N games, advanced together with numpy.

``CatchSettings`` declares the game's arguments; ``CatchTask`` holds what never changes
(spaces, retina, the splits' keys); ``CatchBatch`` holds N games as arrays. ``CatchEnv`` is
a batch of one and ``CatchVectorEnv`` a batch of N, so both play the same games by
construction (the design of ``ram_env.episodes``).

Every random number is a counter-based draw (``ram_env.counter_rng``): a game of the
training split comes from the env's own seed and episode count; game ``j`` of a split
(``reset(options={"image_index": j})``, and every game of validation and test) from the
split's fixed key and ``j`` alone, so it is the same in every env, process and machine.
The first glimpse location always comes from the env's seed, as in the glimpse tasks.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from gymnasium import spaces

from ram_env import counter_rng
from ram_env.actions import ActionDecoder
from ram_env.catch_glimpses import CatchGlimpses
from ram_env.data import SPLITS
from ram_env.episodes import FIRST_LOCATIONS, GAUSSIAN_FIRST_STD, EpisodeProperties, _box_muller
from ram_env.retina import Retina

MOVES = ("left", "stay", "right")  # action decision d moves the paddle by d - 1 columns
SPLIT_GAMES = {"train": 50_000, "validation": 10_000, "test": 10_000}
"""Indexed games per split: validation and test are scored on all of theirs; a training
epoch is 50,000 games, though a plain training reset draws a fresh game every time."""

# Streams of one reset's uniforms (ram_env.counter_rng): the game's four, then the first
# location's two (which come from the env's seed even for an indexed game).
_BALL_COLUMN, _BALL_SPEED, _BALL_DIRECTION, _PADDLE = 0, 1, 2, 3
_FIRST_LOCATION = 4
_NUM_STREAMS = 6


def _split_key(split: str) -> np.uint64:
    """The fixed key of a split's indexed games (high bit set, apart from small seeds)."""
    return counter_rng.key_from_seed((1 << 63) | zlib.crc32(f"GlimpseCatch-{split}".encode()))[0]


@dataclass(frozen=True)
class CatchSettings:
    """Catch's arguments (``CatchEnv``'s keyword arguments but ``render_mode``); the
    defaults are the paper's game (Mnih et al., 2014, section 4.2)."""

    split: str = "train"
    screen_size: int = 24
    glimpse_size: int = 6
    num_scales: int = 3
    paddle_width: int = 2
    ball_speed: tuple[float, float] = (0.0, 1.0)
    action_type: str = "box"
    grid_size: int = 9
    first_location: str = "random"

    @classmethod
    def from_kwargs(cls, owner: str, **kwargs: Any) -> CatchSettings:
        """The settings ``owner`` was given; a ``TypeError`` naming any it does not take."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"{owner} got unexpected keyword arguments {unknown}; it takes "
                f"{', '.join(sorted(known))} (and render_mode)"
            )
        return cls(**kwargs)


def _check_settings(settings: CatchSettings) -> tuple[float, float]:
    """Refuse bad settings by name; return the ball's speed range as floats."""
    for name in ("screen_size", "glimpse_size", "num_scales", "paddle_width", "grid_size"):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if settings.screen_size < 3:
        raise ValueError(f"screen_size must be at least 3, got {settings.screen_size}")
    if settings.paddle_width > settings.screen_size:
        raise ValueError(
            f"paddle_width {settings.paddle_width} is wider than the screen "
            f"({settings.screen_size})"
        )
    if settings.split not in SPLITS:
        raise ValueError(f"unknown split {settings.split!r}; choose one of {SPLITS}")
    if settings.first_location not in FIRST_LOCATIONS:
        raise ValueError(
            f"first_location must be one of {FIRST_LOCATIONS}, got {settings.first_location!r}"
        )
    speed = settings.ball_speed
    try:
        low, high = (float(value) for value in speed)
    except (TypeError, ValueError):
        raise ValueError(
            f"ball_speed must be a pair (low, high) of numbers, got {speed!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
        raise ValueError(f"ball_speed must be finite with 0 <= low <= high, got {speed!r}")
    return low, high


class CatchTask:
    """Everything fixed about a Catch game, built from its settings."""

    decision_every_step = True  # the move of every action counts, not only the last one

    def __init__(self, settings: CatchSettings) -> None:
        self.ball_speed = _check_settings(settings)
        self.settings = settings
        self.split = settings.split
        self.screen_size = size = int(settings.screen_size)
        self.canvas_shape = (size, size)
        self.glimpse_size = g = int(settings.glimpse_size)
        self.num_scales = k = int(settings.num_scales)
        self.paddle_width = int(settings.paddle_width)
        self.num_glimpses = size - 1  # the ball falls a row per step, top row to bottom
        self.num_images = SPLIT_GAMES[self.split]
        self.first_location = settings.first_location
        self.retina = Retina(self.canvas_shape, g, k)
        self.glimpses = CatchGlimpses(self.retina, self.paddle_width)
        self.action_type = settings.action_type
        self.decoder = ActionDecoder(settings.action_type, len(MOVES), settings.grid_size, "move")
        self.action_space = self.decoder.space
        self.observation_space = spaces.Dict(
            glimpse=spaces.Box(0.0, 1.0, (k, g, g), np.float32),
            location=spaces.Box(-1.0, 1.0, (2,), np.float32),
            time=spaces.Box(0.0, 1.0, (1,), np.float32),
        )
        self.split_key = _split_key(self.split)

    @property
    def num_moves(self) -> int:
        return len(MOVES)


class CatchProperties(EpisodeProperties):
    """``num_glimpses`` (steps per game), ``num_images`` (indexed games of the split) and
    ``num_moves`` of an env's ``task``."""

    task: CatchTask

    @property
    def num_moves(self) -> int:
        return self.task.num_moves


class CatchBatch:
    """N Catch games as arrays: where each ball goes, each paddle, each glimpse location.

    A game's ball path is fixed at reset (``ball_path[i, t]``: its column at step t, row t),
    so a step only moves the paddles and reads the paths.
    """

    def __init__(self, task: CatchTask, num_envs: int) -> None:
        self.task = task
        self.num_envs = num_envs
        self.keys = counter_rng.key_from_seed(np.zeros(num_envs, dtype=np.uint64))
        self.episodes = np.zeros(num_envs, dtype=np.uint64)
        self.seeded = False
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.ball_path = np.zeros((num_envs, task.screen_size), dtype=np.int64)
        self.paddles = np.zeros(num_envs, dtype=np.int64)  # the paddle's leftmost column
        self.locations = np.zeros((num_envs, 2), dtype=np.float64)
        self.game_index = np.full(num_envs, -1, dtype=np.int64)  # -1: a fresh training game
        self._rows = np.arange(num_envs)

    def seed(self, seeds: np.ndarray | int | None) -> None:
        """Restart every env's random stream: from ``seeds`` (N ints, or one int for a batch
        of one) or from OS entropy."""
        if seeds is None:
            entropy = np.random.SeedSequence().generate_state(self.num_envs, dtype=np.uint64)
            self.keys = counter_rng.key_from_seed(entropy)
        else:
            self.keys = counter_rng.key_from_seed(seeds)
        self.episodes[:] = 0
        self.seeded = True

    def reset(self, envs: np.ndarray | None = None, image_index: np.ndarray | None = None) -> None:
        """Start new games in ``envs`` (an index array; None = all): indexed game
        ``image_index[i]`` of the split, or else a fresh game (training) or a random
        indexed one (validation, test)."""
        if not self.seeded:
            self.seed(None)
        task = self.task
        envs = slice(None) if envs is None else envs
        u = counter_rng.uniforms(self.keys[envs], self.episodes[envs], _NUM_STREAMS)
        self.episodes[envs] += 1
        if image_index is None and task.split != "train":
            image_index = counter_rng.integers(u[:, _BALL_COLUMN], task.num_images)
        if image_index is None:
            game = u
            self.game_index[envs] = -1
        else:
            image_index = np.asarray(image_index, dtype=np.int64)
            keys = np.full(len(image_index), task.split_key, dtype=np.uint64)
            game = counter_rng.uniforms(keys, image_index.astype(np.uint64), _NUM_STREAMS)
            self.game_index[envs] = image_index
        self.ball_path[envs] = self._ball_paths(game)
        self.paddles[envs] = counter_rng.integers(
            game[:, _PADDLE], task.screen_size - task.paddle_width + 1
        )
        pair = u[:, _FIRST_LOCATION : _FIRST_LOCATION + 2]
        if task.first_location == "random":
            self.locations[envs] = pair * 2 - 1
        elif task.first_location == "gaussian":
            self.locations[envs] = np.clip(GAUSSIAN_FIRST_STD * _box_muller(pair), -1.0, 1.0)
        else:
            self.locations[envs] = 0.0
        self.steps[envs] = 0

    def _ball_paths(self, game: np.ndarray) -> np.ndarray:
        """The ball's column in every row ``(n, H)``: a random start column in the top row,
        a random horizontal speed (columns per row, either way), bouncing off the walls."""
        size = self.task.screen_size
        low, high = self.task.ball_speed
        start = counter_rng.integers(game[:, _BALL_COLUMN], size).astype(np.float64)
        speed = low + (high - low) * game[:, _BALL_SPEED]
        speed = np.where(game[:, _BALL_DIRECTION] < 0.5, -speed, speed)
        position = start[:, None] + speed[:, None] * np.arange(size)
        # Bouncing off walls at columns 0 and size - 1 is the free path folded into that
        # range: a triangle wave of period 2 (size - 1).
        period = 2.0 * (size - 1)
        folded = np.mod(position, period)
        folded = np.where(folded > size - 1, period - folded, folded)
        return np.floor(folded + 0.5).astype(np.int64)

    def advance(
        self, locations: np.ndarray, moves: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Move every paddle, drop every ball a row and look at ``locations``; return
        ``(rewards, terminated, caught)``."""
        task = self.task
        self.paddles += moves - 1
        np.clip(self.paddles, 0, task.screen_size - task.paddle_width, out=self.paddles)
        self.steps += 1
        self.locations[:] = locations
        terminated = self.steps >= task.num_glimpses
        ball = self.ball_columns()
        caught = (ball >= self.paddles) & (ball < self.paddles + task.paddle_width) & terminated
        return caught.astype(np.float64), terminated, caught

    def ball_columns(self) -> np.ndarray:
        """Each ball's current column (its row is the step count)."""
        return self.ball_path[self._rows, np.minimum(self.steps, self.task.screen_size - 1)]

    def landing_columns(self) -> np.ndarray:
        """Where each ball will reach the bottom row (what a full-state oracle knows)."""
        return self.ball_path[:, -1].copy()

    def end_infos(self, terminated: np.ndarray, caught: np.ndarray) -> dict[str, np.ndarray]:
        """What the vector env's ``infos`` report at a game's end, with Gymnasium's masks."""
        return {
            "ball_column": np.where(terminated, self.ball_columns(), 0),
            "_ball_column": terminated,
            "paddle_column": np.where(terminated, self.paddles, 0),
            "_paddle_column": terminated,
            "is_success": caught & terminated,
            "_is_success": terminated,
        }

    def observe(self) -> dict[str, np.ndarray]:
        """The batched observation of every env at its current location."""
        rows = np.minimum(self.steps, self.task.screen_size - 1)
        glimpse = self.task.glimpses(rows, self.ball_columns(), self.paddles, self.locations)
        return {
            "glimpse": glimpse,
            "location": self.locations.astype(np.float32),
            "time": (self.steps / self.task.num_glimpses).astype(np.float32)[:, None],
        }

    def screen(self, env: int) -> np.ndarray:
        """Env ``env``'s screen ``(H, W)`` float32: 1 at the ball and the paddle, else 0."""
        size, task = self.task.screen_size, self.task
        screen = np.zeros((size, size), dtype=np.float32)
        left = int(self.paddles[env])
        screen[size - 1, left : left + task.paddle_width] = 1.0
        row = min(int(self.steps[env]), size - 1)
        screen[row, int(self.ball_path[env, row])] = 1.0
        return screen
