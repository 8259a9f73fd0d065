"""``ram_env.evaluate`` (defined here): the benchmark's one scoring function, numpy only.

    from ram_env import evaluate
    result = evaluate(policy, "GlimpseMNIST-v0", split="test")
    result.accuracy, result.error, result.per_class_accuracy, result.glimpses

It plays every canvas of the split exactly once through the native vector env, ``num_envs``
episodes at a time. Image ``j`` starts at the first location drawn from seed
``derive_seed(seed, 0) + j``, so the first glimpses, and the score, do not depend on
``num_envs``. ``policy(observation, state) -> (action, state)`` acts on batches:
``observation`` is the vector env's dict of arrays (``glimpse``, ``location``, ``time``),
``state`` is ``None`` at each episode's first step and whatever the policy returned after,
and ``action`` is a batch in the env's action space for its ``action_type``. The env's own
verdict at the last step (its ``is_success``) is what counts.

``GlimpseCatch-v0`` is scored the same way: every game of the split once (game ``j`` is
``reset(options={"image_index": j})``), ``accuracy`` the share of balls caught, in %, and
``per_class_accuracy`` empty (Catch has no classes).

Several processes can score a split together (``shard=``): each plays every ``world_size``-th
batch, from its ``rank``-th, and their counts are summed, so the score is the one a single
process gets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, Protocol

import gymnasium
import numpy as np

from ram_env.play import Played, play
from ram_env.seeds import derive_seed

HEATMAP_CELLS = 8  # the glimpse heatmap's cells per side over [-1, 1]^2

PolicyFn = Callable[[dict[str, np.ndarray], Any], tuple[Any, Any]]


@dataclass(frozen=True)
class GlimpseSummary:
    """Where the glimpses of a whole split went.

    ``mean_location``: per glimpse ``t``, the mean ``(x, y)`` over the episodes (``(-1, -1)``
    is the top-left corner); ``mean_jump``: per move ``t -> t+1``, the mean distance
    travelled; ``heatmap``: the share of all glimpses in each of 8 x 8 equal cells of the
    canvas, rows top to bottom.
    """

    mean_location: list[list[float]]
    mean_jump: list[float]
    heatmap: list[list[float]]


@dataclass(frozen=True)
class Evaluation:
    """A policy's score on ``n`` canvases of ``split`` of ``env_id``: accuracy and error in
    %, accuracy per class (``None`` for a class with no canvas; empty for Catch, whose
    accuracy is its catch rate), where it looked."""

    env_id: str
    split: str
    n: int
    accuracy: float
    error: float
    per_class_accuracy: list[float | None]
    glimpses: GlimpseSummary

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Shard(Protocol):
    """This process's part in scoring a split with others (e.g. the ranks of
    ``torch.distributed``): it plays batches ``rank``, ``rank + world_size``, ... and
    ``sum`` adds an array element-wise over all the processes, each of them calling it."""

    rank: int
    world_size: int

    def sum(self, values: np.ndarray) -> np.ndarray: ...


def make_eval_env(env_id: str, split: str, num_envs: int, **env_kwargs: Any) -> gymnasium.Env:
    """A vector env over the fixed canvases of ``split``, reset explicitly for every batch."""
    return gymnasium.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split=split,
        **env_kwargs,
    )


PER_EPISODE = ("last_action", "returns", "labels", "predictions", "correct")


class PathBatch(NamedTuple):
    """One path's episodes on a batch of the split's images (``images``, a slice of it)."""

    images: slice
    path: int
    played: Played  # cut to the batch's valid images

    @property
    def first_locations(self) -> np.ndarray:
        return self.played.locations[0]


def path_batches(
    policy: PolicyFn,
    env: gymnasium.vector.VectorEnv,
    paths: int,
    seed: int,
    num_images: int | None = None,
    shard: Shard | None = None,
) -> Iterator[PathBatch]:
    """Every image of the env's split (its first ``num_images``) ``paths`` times, a batch of
    ``num_envs`` at a time; with ``shard``, only that shard's batches."""
    num_envs, total = env.unwrapped.num_envs, env.unwrapped.num_images
    num_images = total if num_images is None else min(num_images, total)
    first, step = (0, 1) if shard is None else (shard.rank, shard.world_size)
    for start in range(first * num_envs, num_images, step * num_envs):
        image_index = np.arange(start, start + num_envs) % total
        valid = min(num_envs, num_images - start)
        for path in range(paths):
            played = play(policy, env, derive_seed(seed, path) + start, image_index)
            kept = played._replace(
                locations=played.locations[:, :valid],
                **{name: _first_rows(getattr(played, name), valid) for name in PER_EPISODE},
            )
            yield PathBatch(slice(start, start + valid), path, kept)


def _first_rows(batch: Any, count: int) -> Any:
    """The first ``count`` rows of a batch: an array, or a dict of arrays (``dict`` actions),
    or None (a Catch episode's labels)."""
    if batch is None:
        return None
    if isinstance(batch, dict):
        return {key: value[:count] for key, value in batch.items()}
    return batch[:count]


def evaluate(
    policy: PolicyFn,
    env_id: str,
    *,
    split: str = "test",
    num_envs: int = 1000,
    seed: int = 0,
    num_images: int | None = None,
    **env_kwargs: Any,
) -> Evaluation:
    """Score ``policy`` on every canvas of ``split`` (its first ``num_images``) once.

    ``env_kwargs`` go to the env (``action_type``, ``num_glimpses``, your own ``images``...).
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    env = make_eval_env(env_id, split, num_envs, **env_kwargs)
    try:
        return score(policy, env, seed=seed, num_images=num_images)
    finally:
        env.close()


def score(
    policy: PolicyFn,
    env: gymnasium.vector.VectorEnv,
    *,
    seed: int = 0,
    num_images: int | None = None,
    shard: Shard | None = None,
) -> Evaluation:
    """``evaluate`` on a glimpse vector env made by the caller (autoreset disabled); with
    ``shard``, this process's part of a split scored by several (the result is the whole
    split's, in every process)."""
    unwrapped = env.unwrapped
    if hasattr(policy, "check_observation_space"):
        policy.check_observation_space(env.single_observation_space)
    total = unwrapped.num_images
    if num_images is not None and (isinstance(num_images, bool) or num_images < 1):
        raise ValueError(f"num_images must be a positive int or None, got {num_images!r}")
    n = total if num_images is None else min(int(num_images), total)
    num_glimpses = unwrapped.num_glimpses
    num_classes = getattr(unwrapped.task, "num_classes", 0)  # Catch: no classes
    correct_by_class = np.zeros(num_classes, dtype=np.int64)
    count_by_class = np.zeros(num_classes, dtype=np.int64)
    correct = np.zeros(1, dtype=np.int64)
    location_sum = np.zeros((num_glimpses, 2))
    jump_sum = np.zeros(max(num_glimpses - 1, 0))
    heatmap = np.zeros((HEATMAP_CELLS, HEATMAP_CELLS), dtype=np.int64)
    for batch in path_batches(policy, env, 1, seed, n, shard):
        played = batch.played
        correct += int(played.correct.sum())
        if num_classes:
            count_by_class += np.bincount(played.labels, minlength=num_classes)
            correct_by_class += np.bincount(played.labels[played.correct], minlength=num_classes)
        locations = played.locations  # (T, batch, 2)
        location_sum += locations.sum(axis=1)
        jump_sum += np.linalg.norm(np.diff(locations, axis=0), axis=-1).sum(axis=1)
        cells = np.clip(((locations + 1.0) / 2.0 * HEATMAP_CELLS).astype(int), 0, HEATMAP_CELLS - 1)
        np.add.at(heatmap, (cells[..., 1].ravel(), cells[..., 0].ravel()), 1)
    if shard is not None:
        correct_by_class, count_by_class, location_sum, jump_sum, heatmap, correct = summed(
            shard, [correct_by_class, count_by_class, location_sum, jump_sum, heatmap, correct]
        )
    accuracy = round(100.0 * int(correct[0]) / n, 4)
    per_class = [
        round(100.0 * int(right) / int(count), 4) if count else None
        for right, count in zip(correct_by_class, count_by_class, strict=True)
    ]
    glimpses = GlimpseSummary(
        mean_location=(location_sum / n).round(4).tolist(),
        mean_jump=(jump_sum / n).round(4).tolist(),
        heatmap=(heatmap / heatmap.sum()).round(4).tolist(),
    )
    return Evaluation(
        env_id=env.spec.id if env.spec is not None else "",
        split=getattr(unwrapped.task, "split", ""),
        n=n,
        accuracy=accuracy,
        error=round(100.0 - accuracy, 4),
        per_class_accuracy=per_class,
        glimpses=glimpses,
    )


def summed(shard: Shard, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Each array summed over the shards, in one call of ``shard.sum`` (float64, exact for
    counts below 2**53), returned with its own shape and dtype."""
    flat = np.concatenate([np.asarray(array, dtype=np.float64).ravel() for array in arrays])
    total = np.asarray(shard.sum(flat), dtype=np.float64)
    if total.shape != flat.shape:
        raise ValueError(f"shard.sum returned shape {total.shape} for {flat.shape}")
    parts, offset = [], 0
    for array in arrays:
        part = total[offset : offset + array.size].reshape(array.shape)
        parts.append((part.round() if array.dtype.kind in "iub" else part).astype(array.dtype))
        offset += array.size
    return parts
