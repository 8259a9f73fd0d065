"""The task definition and the batched episode state shared by the single and vector envs.

``TaskSettings`` declares a task's arguments; ``GlimpseTask`` holds what never changes
(data, retina, spaces); ``EpisodeBatch`` holds the state of N episodes as arrays and
advances them together. ``GlimpseEnv`` is an ``EpisodeBatch`` of one, ``GlimpseVectorEnv``
one of N, so both produce the same trajectories by construction.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from gymnasium import spaces

from ram_env import counter_rng
from ram_env.actions import ActionDecoder
from ram_env.canvases import STREAM_FIRST_LOCATION, STREAM_IMAGE
from ram_env.datasets import build_canvas_source
from ram_env.retina import Retina

ENV_THREADS = "RAM_ENV_THREADS"  # threads a large batch's resets and glimpses use
MIN_ENVS_PER_THREAD = 128  # smaller shares cost more in hand-offs than the thread saves
_pool: ThreadPoolExecutor | None = None
_pool_size = 0

FIRST_LOCATIONS = ("random", "center", "gaussian")
GAUSSIAN_FIRST_STD = 0.25  # "gaussian" first locations: N(0, std^2) per coordinate, clipped
REWARDS = ("sparse", "dense")


@dataclass(frozen=True)
class TaskSettings:
    """A glimpse task's settings: ``GlimpseEnv``'s keyword arguments but ``render_mode``
    (see there). Declared once here, so the single env, the vector env and the canvas source
    take the same names and defaults."""

    dataset: str = "mnist"
    split: str = "train"
    num_glimpses: int = 6
    glimpse_size: int = 8
    num_scales: int = 1
    action_type: str = "box"
    grid_size: int = 9
    first_location: str = "random"
    reward: str = "sparse"
    images: np.ndarray | None = None
    labels: np.ndarray | None = None
    image_folder: str | os.PathLike | None = None
    num_classes: int | None = None
    canvas_size: int | tuple[int, int] | None = None
    num_clutter: int | None = None

    @classmethod
    def from_kwargs(cls, owner: str, **kwargs: Any) -> TaskSettings:
        """The settings ``owner`` (an env class) was given; a ``TypeError`` naming any it
        does not take."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"{owner} got unexpected keyword arguments {unknown}; it takes "
                f"{', '.join(sorted(known))} (and render_mode)"
            )
        return cls(**kwargs)


class GlimpseTask:
    """Everything fixed about a glimpse-classification task, built from its settings."""

    decision_every_step = False  # only the last action's class is scored (Catch: every move)

    def __init__(self, settings: TaskSettings) -> None:
        _check_settings(settings)
        self.settings = settings
        self.source, self.num_classes = build_canvas_source(settings)
        self.dataset, self.split = settings.dataset, settings.split
        glimpse_size, num_scales = settings.glimpse_size, settings.num_scales
        self.num_glimpses = int(settings.num_glimpses)
        self.glimpse_size = int(glimpse_size)
        self.num_scales = int(num_scales)
        self.first_location = settings.first_location
        self.reward = settings.reward
        self.canvas_shape = self.source.canvas_shape
        self.num_images = self.source.num_images
        self.retina = Retina(self.canvas_shape, glimpse_size, num_scales)
        self.value_scale = 1.0 / 255.0 if self.source.images.dtype == np.uint8 else 1.0
        self.decoder = ActionDecoder(settings.action_type, self.num_classes, settings.grid_size)
        self.action_type = settings.action_type
        self.action_space = self.decoder.space
        self._cache_key = self.source.shared_name and (
            self.source.shared_name,
            glimpse_size,
            num_scales,
        )
        self.observation_space = spaces.Dict(
            glimpse=spaces.Box(0.0, 1.0, (num_scales, glimpse_size, glimpse_size), np.float32),
            location=spaces.Box(-1.0, 1.0, (2,), np.float32),
            time=spaces.Box(0.0, 1.0, (1,), np.float32),
        )

    def prepared_images(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Every image of the split prepared for the retina, shared process-wide by name."""
        if self._cache_key in _PREPARED:
            return _PREPARED[self._cache_key]
        prepared = self.retina.prepare(self.source.images)
        if self._cache_key:
            _PREPARED[self._cache_key] = prepared
        return prepared


_PREPARED: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray | None]] = {}


def _check_settings(settings: TaskSettings) -> None:
    """Refuse bad glimpse settings by name (the data's are checked where the data is built)."""
    for name in ("num_glimpses", "glimpse_size", "num_scales", "grid_size"):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if settings.first_location not in FIRST_LOCATIONS:
        raise ValueError(
            f"first_location must be one of {FIRST_LOCATIONS}, got {settings.first_location!r}"
        )
    if settings.reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}, got {settings.reward!r}")


class EpisodeProperties:
    """``num_glimpses`` (steps per episode) and ``num_images`` (indexed episodes of the
    split) of an env's ``task``, for every task of the package."""

    task: Any

    @property
    def num_glimpses(self) -> int:
        return self.task.num_glimpses

    @property
    def num_images(self) -> int:
        return self.task.num_images


class TaskProperties(EpisodeProperties):
    """``num_glimpses``, ``num_classes`` and ``num_images`` of an env's ``task``."""

    task: GlimpseTask

    @property
    def num_classes(self) -> int:
        return self.task.num_classes


class EpisodeBatch:
    """The state of N episodes of a ``GlimpseTask`` as arrays, advanced together.

    Where the canvas is the image itself (``mnist``, or your own images unchanged), every
    image of the split is prepared for the retina once and shared by all envs in the
    process, so a reset only picks indices. Otherwise each env owns a prepared canvas
    that ``reset`` rebuilds.
    """

    def __init__(self, task: GlimpseTask, num_envs: int) -> None:
        self.task = task
        self.num_envs = num_envs
        self.keys = counter_rng.key_from_seed(np.zeros(num_envs, dtype=np.uint64))
        self.episodes = np.zeros(num_envs, dtype=np.uint64)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.labels = np.zeros(num_envs, dtype=np.int64)
        self.image_index = np.zeros(num_envs, dtype=np.int64)
        self.locations = np.zeros((num_envs, 2), dtype=np.float64)
        self.was_correct = np.zeros(num_envs, dtype=bool)
        self.seeded = False
        self.shares_bank = task.source.is_identity
        if self.shares_bank:
            self.padded, self.tables = task.prepared_images()
            self.slots = self.image_index
        else:
            self.padded, self.tables = task.retina.blank(num_envs, task.source.images.dtype)
            self.slots = np.arange(num_envs)
        self.thread_rows = thread_shares(num_envs, env_threads())
        self._scratch: dict[int, dict[str, np.ndarray]] = defaultdict(dict)  # per first row

    def canvas(self, env: int) -> np.ndarray:
        """The canvas env ``env`` is looking at (for rendering)."""
        if self.shares_bank:
            return self.task.source.images[self.image_index[env]]
        return self.task.retina.interior(self.padded[env : env + 1])[0]

    def seed(self, seeds: np.ndarray | int | None) -> None:
        """Restart every env's random stream: from ``seeds`` (N ints, or one int for a batch of
        one) or from OS entropy."""
        if seeds is None:
            entropy = np.random.SeedSequence().generate_state(self.num_envs, dtype=np.uint64)
            self.keys = counter_rng.key_from_seed(entropy)
        else:
            self.keys = counter_rng.key_from_seed(seeds)
        self.episodes[:] = 0
        self.seeded = True

    def reset(self, envs: np.ndarray | None = None, image_index: np.ndarray | None = None) -> None:
        """Start new episodes in ``envs`` (an index array; None = all) on random or given images."""
        if not self.seeded:
            self.seed(None)
        task = self.task
        every = envs is None
        envs = slice(None) if every else envs
        u = counter_rng.uniforms(
            self.keys[envs], self.episodes[envs], task.source.spec.num_streams()
        )
        self.episodes[envs] += 1
        if image_index is None:
            image_index = counter_rng.integers(u[:, STREAM_IMAGE], task.num_images)
        self.image_index[envs] = image_index
        self.labels[envs] = task.source.labels[image_index]
        if not self.shares_bank:
            self._draw(u, image_index, None if every else envs)
        pair = u[:, STREAM_FIRST_LOCATION : STREAM_FIRST_LOCATION + 2]
        if task.first_location == "random":
            self.locations[envs] = pair * 2 - 1
        elif task.first_location == "gaussian":
            self.locations[envs] = np.clip(GAUSSIAN_FIRST_STD * _box_muller(pair), -1.0, 1.0)
        else:
            self.locations[envs] = 0.0
        self.steps[envs] = 0
        self.was_correct[envs] = False

    def _draw(self, u: np.ndarray, image_index: np.ndarray, envs: np.ndarray | None) -> None:
        """Put the episodes' canvases, prepared for the retina, into the envs' buffers."""
        source, retina = self.task.source, self.task.retina

        def fill(rows: slice, padded: np.ndarray, tables: np.ndarray | None) -> None:
            canvases = source.fixed_or_identity(image_index[rows])
            if canvases is None:
                retina.interior(padded)[...] = 0
                source.compose(u[rows], image_index[rows], out=padded, margin=retina.pad)
                retina.build_tables(padded, tables)
            else:
                retina.prepare(canvases, padded, tables)

        if envs is None:  # all envs: fill the buffers in place, in two halves if large
            self._split(lambda rows: fill(rows, self.padded[rows], _rows(self.tables, rows)))
        else:
            padded, tables = retina.blank(len(envs), source.images.dtype)
            fill(slice(None), padded, tables)
            self.padded[envs] = padded
            if tables is not None:
                self.tables[envs] = tables

    def _split(self, work: Callable[[slice], None]) -> None:
        """Run ``work`` over all envs, one share of rows per thread (numpy frees the GIL)."""
        if len(self.thread_rows) == 1:
            work(slice(None))
            return
        pool = _thread_pool(len(self.thread_rows) - 1)
        others = [pool.submit(work, rows) for rows in self.thread_rows[:-1]]
        work(self.thread_rows[-1])
        for other in others:
            other.result()

    def advance(
        self, locations: np.ndarray, predictions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Move every env to its next location; return ``(rewards, terminated, correct)``."""
        self.steps += 1
        correct = predictions == self.labels
        terminated = self.steps >= self.task.num_glimpses
        if self.task.reward == "sparse":
            rewards = (correct & terminated).astype(np.float64)
        else:  # potential-based shaping: the returns still sum to the final correctness
            rewards = correct.astype(np.float64) - self.was_correct
            self.was_correct = correct
        self.locations[:] = locations
        return rewards, terminated, correct

    def advance_one(
        self, location: tuple[float, float], prediction: int
    ) -> tuple[float, bool, bool]:
        """``advance`` for a batch of one, on Python scalars: ``(reward, terminated, correct)``."""
        steps = int(self.steps[0]) + 1
        self.steps[0] = steps
        correct = prediction == self.labels[0]
        terminated = steps >= self.task.num_glimpses
        if self.task.reward == "sparse":
            reward = float(correct and terminated)
        else:
            reward = float(correct) - float(self.was_correct[0])
            self.was_correct[0] = correct
        self.locations[0] = location
        return reward, terminated, bool(correct)

    def observe(self) -> dict[str, np.ndarray]:
        """The batched observation of every env at its current location."""
        task = self.task
        glimpse = np.empty((self.num_envs, *task.observation_space["glimpse"].shape), np.float32)

        def look(rows: slice) -> None:
            task.retina(
                self.padded, self.tables, self.slots[rows], self.locations[rows],
                task.value_scale, out=glimpse[rows], scratch=self._scratch[rows.start or 0],
            )  # fmt: skip

        self._split(look)
        return {
            "glimpse": glimpse,
            "location": self.locations.astype(np.float32),
            "time": (self.steps / task.num_glimpses).astype(np.float32)[:, None],
        }


def env_threads() -> int:
    """How many threads a large batch may use: ``$RAM_ENV_THREADS``, else 2 (1 on one core).

    Set it to the cores each process may have, e.g. when several trainings share a machine.
    """
    text = os.environ.get(ENV_THREADS, "").strip()
    if not text:
        return min(2, os.cpu_count() or 1)
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"${ENV_THREADS} must be a whole number >= 1, got {text!r}")
    return threads


def thread_shares(num_envs: int, threads: int) -> list[slice]:
    """Contiguous row ranges, one per thread, each at least ``MIN_ENVS_PER_THREAD`` envs."""
    parts = max(1, min(threads, num_envs // MIN_ENVS_PER_THREAD))
    bounds = [num_envs * part // parts for part in range(parts + 1)]
    return [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def _thread_pool(workers: int) -> ThreadPoolExecutor:
    """The process's helper threads, at least ``workers`` of them (shared by all envs)."""
    global _pool, _pool_size
    if _pool is None or _pool_size < workers:  # a smaller pool's idle threads end when it goes
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ram_env")
        _pool_size = workers
    return _pool


def _rows(array: np.ndarray | None, rows: slice) -> np.ndarray | None:
    return None if array is None else array[rows]


def _box_muller(pair: np.ndarray) -> np.ndarray:
    """Two independent standard normals per row from two uniforms in [0, 1) (Box-Muller)."""
    radius = np.sqrt(-2.0 * np.log1p(-pair[:, 0]))  # log(1 - u) is finite for u in [0, 1)
    angle = 2.0 * np.pi * pair[:, 1]
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
