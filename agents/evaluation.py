"""Scoring any ``Policy`` on a whole split: every image exactly once, in batches, through the env.

Path p of image j starts at a first location drawn from seed ``derive_seed(seed, p) + j``
(env i of a batch is seeded with seed + i), so the first glimpses, and a mean-path score, do
not depend on the batch size. With ``mc=1`` the policy plays one path per image through
``ram_env.evaluate``'s scoring, and the env's verdict counts; with ``mc=N > 1`` a policy that
samples its paths plays N of them per image and the class scores of its last actions
(``"box"``: a posterior over classes) are averaged before the argmax. Catch is scored with
``mc=1`` only (accuracy: the catch rate). With ``shard`` several processes score the split
together, each its share of the batches (``ram_env.scoring.Shard``); each of them gets the
whole split's result.

``score_run`` is ``train.py --eval``: a run's checkpoint loaded by the algorithm that wrote it
and scored this way; ``agents.pretrained`` scores the agents it packs through it too.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from agents.policy import LoadedPolicy, Policy
from ram_env.scoring import Shard, make_eval_env, path_batches, score, summed


@dataclass(frozen=True)
class EvalResult:
    """Accuracy and error (both in %) over ``n`` images of ``split``."""

    split: str
    n: int
    mc: int
    accuracy: float
    error: float
    per_class_accuracy: list[float | None] | None = None  # one path only (ram_env.evaluate)
    glimpses: dict[str, Any] | None = None  # where they went; one path only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    policy: Policy,
    env: gymnasium.vector.VectorEnv,
    mc: int = 1,
    seed: int = 0,
    split: str = "",
    num_images: int | None = None,
    shard: Shard | None = None,
) -> EvalResult:
    """Score ``policy`` on every image of the env's split (its first ``num_images``) once;
    ``mc`` paths per image; ``shard``: this process's part of a split scored by several."""
    if mc < 1:
        raise ValueError(f"mc must be >= 1, got {mc}")
    if mc > 1 and getattr(env.unwrapped.task, "decision_every_step", False):
        raise ValueError(
            f"--mc {mc} averages the class posteriors of sampled paths; Catch decides a move "
            "at every step, so there is nothing to average (score it with --mc 1)"
        )
    if mc > 1 and policy.action_type != "box":
        raise ValueError(
            f"--mc {mc} averages the class posteriors of sampled paths; a policy acting with "
            f"{policy.action_type!r} actions gives none (score it with --mc 1)"
        )
    if mc == 1:  # the benchmark's own scoring function
        scored = score(policy, env, seed=seed, num_images=num_images, shard=shard)
        return EvalResult(
            split=split or scored.split,
            n=scored.n,
            mc=1,
            accuracy=scored.accuracy,
            error=scored.error,
            per_class_accuracy=scored.per_class_accuracy,
            glimpses=asdict(scored.glimpses),
        )
    policy.check_observation_space(env.single_observation_space)
    unwrapped = env.unwrapped
    num_images = (
        unwrapped.num_images if num_images is None else min(num_images, unwrapped.num_images)
    )
    posteriors = np.zeros((num_images, unwrapped.num_classes), dtype=np.float32)
    labels = np.zeros(num_images, dtype=np.int64)
    for batch in path_batches(policy, env, mc, seed, num_images, shard):
        posteriors[batch.images] += batch.played.class_scores
        labels[batch.images] = batch.played.labels
    if shard is not None:  # each image was played by one shard, zeros elsewhere
        posteriors, labels = summed(shard, [posteriors, labels])
    correct = int((posteriors.argmax(-1) == labels).sum())
    accuracy = round(100.0 * correct / num_images, 4)
    split = split or getattr(getattr(unwrapped, "task", None), "split", "")
    return EvalResult(
        split=split, n=num_images, mc=mc, accuracy=accuracy, error=round(100.0 - accuracy, 4)
    )


@dataclass(frozen=True)
class ScoredRun:
    """A run's score on a split, with the policy and the task it was scored on."""

    result: EvalResult
    loaded: LoadedPolicy
    env_id: str
    env_kwargs: dict[str, Any]
    seed: int

    def report(self) -> dict[str, Any]:
        """What ``--eval`` writes to ``eval-SPLIT.json``."""
        return {
            **self.result.to_dict(),
            "checkpoint": str(self.loaded.checkpoint),
            "algo": self.loaded.algo,
            "env": self.env_id,
            "env_kwargs": self.env_kwargs,
            "seed": self.seed,
            **self.loaded.details,
        }


def score_run(
    path: str | os.PathLike,
    split: str,
    *,
    mc: int = 1,
    device: str = "cpu",
    precision: str = "auto",
    overrides: dict[str, Any] | None = None,
) -> ScoredRun:
    """Load the run at ``path`` with the algorithm that wrote it and score it on every image
    of ``split`` (``mc`` paths each). ``overrides`` replace settings of the task it trained on
    (``env_id``, ``seed``, ``eval_batch_size`` or an env keyword such as ``num_glimpses``).
    ``CheckpointError`` if the run cannot be read or does not fit the env it is scored on."""
    from agents.checkpoint import CheckpointError
    from agents.registry import algorithm_of_run

    path = Path(path)
    module = algorithm_of_run(path).load_module()
    loaded = module.load(path, device, sample_paths=mc > 1, precision=precision)
    task = {"env_id": loaded.env_id, "seed": loaded.seed, "eval_batch_size": loaded.eval_batch_size}
    env_kwargs = dict(loaded.env_kwargs)
    for name, value in (overrides or {}).items():
        (task if name in task else env_kwargs)[name] = value
    env = make_eval_env(task["env_id"], split, task["eval_batch_size"], **env_kwargs)
    try:
        loaded.policy.check_observation_space(env.single_observation_space)
        result = evaluate(loaded.policy, env, mc=mc, seed=task["seed"], split=split)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from error
    finally:
        env.close()
    return ScoredRun(result, loaded, task["env_id"], env_kwargs, task["seed"])
