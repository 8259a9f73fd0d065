"""Scoring a model on a whole split: every image exactly once, in batches, through the env.

With ``mc=1`` the agent looks where its location network's mean points (deterministic, as
the paper does at test time). With ``mc=N > 1`` it follows N sampled glimpse paths per image
and averages the N class posteriors before taking the argmax.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch

import ram_env  # noqa: F401  (registers the env ids)
from agents.episode_runner import EnvSource, run_episodes
from agents.ram_policy import RecurrentAttentionModel
from agents.rollout import derive_seed


@dataclass(frozen=True)
class EvalResult:
    """Accuracy and error (both in %) over ``n`` images of ``split``."""

    split: str
    n: int
    mc: int
    accuracy: float
    error: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


@torch.no_grad()
def evaluate(
    model: RecurrentAttentionModel,
    env: gymnasium.vector.VectorEnv,
    mc: int = 1,
    seed: int = 0,
    split: str = "",
) -> EvalResult:
    """Score ``model`` on every image of the env's split once; ``mc`` paths per image.

    The first (random) location of image j depends only on ``seed`` and j, so a score does
    not depend on the batch size; with ``mc > 1`` the sampled paths also depend on it.
    """
    if mc < 1:
        raise ValueError(f"mc must be >= 1, got {mc}")
    was_training = model.training
    model.eval()
    unwrapped = env.unwrapped
    num_images = unwrapped.num_images
    probabilities = torch.zeros(num_images, unwrapped.num_classes)
    labels = np.zeros(num_images, dtype=np.int64)
    for batch in path_batches(model, env, mc, seed, sample=mc > 1):
        probabilities[batch.images] += batch.logits.softmax(-1).cpu()
        labels[batch.images] = batch.labels
    correct = int((probabilities.argmax(-1).numpy() == labels).sum())
    model.train(was_training)
    accuracy = round(100.0 * correct / num_images, 4)
    split = split or getattr(getattr(unwrapped, "task", None), "split", "")
    return EvalResult(
        split=split, n=num_images, mc=mc, accuracy=accuracy, error=round(100.0 - accuracy, 4)
    )


class PathBatch(NamedTuple):
    """One path's episodes on a batch of the split's images (``images``, a slice of it)."""

    images: slice
    path: int
    logits: torch.Tensor  # (n, K): the classifier at the last glimpse
    labels: np.ndarray  # (n,)
    first_locations: np.ndarray  # (n, 2): where the (random) first glimpse was


def path_batches(
    model: RecurrentAttentionModel,
    env: gymnasium.vector.VectorEnv,
    paths: int,
    seed: int,
    sample: bool,
) -> Iterator[PathBatch]:
    """Every image of the env's split ``paths`` times, a batch of ``num_envs`` at a time.

    Path p of image j starts at a first location drawn from ``derive_seed(seed, p) + j``
    (env i is seeded with seed + i), so the first locations do not depend on the batch
    size; the sampled locations after them (``sample``) do. With ``sample=False`` every
    later glimpse follows the mean, and paths differ only in their first location.
    """
    num_envs, num_images = env.unwrapped.num_envs, env.unwrapped.num_images
    for start in range(0, num_images, num_envs):
        image_index = np.arange(start, start + num_envs) % num_images
        valid = min(num_envs, num_images - start)
        for path in range(paths):
            path_seed = derive_seed(seed, path) + start
            with torch.no_grad():
                logits, labels, first = _classify_batch(model, env, image_index, path_seed, sample)
            yield PathBatch(
                slice(start, start + valid), path, logits[:valid], labels[:valid], first[:valid]
            )


def _classify_batch(
    model: RecurrentAttentionModel,
    env: gymnasium.vector.VectorEnv,
    image_index: np.ndarray,
    seed: int,
    sample: bool,
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """One episode per env on the given images: final logits, true labels, first locations."""
    source = EnvSource(env, model.classifier.weight.device)
    episodes = run_episodes(model, source, seed, explore=sample, image_index=image_index)
    return episodes.logits, episodes.labels.cpu().numpy(), episodes.locations[0].cpu().numpy()
