"""The one T-step glimpse episode loop, shared by scoring, training, plots and benchmarks.

    played = play(policy, env, seed)

``policy`` acts on batches: ``action, state = policy(observation, state)`` reads the vector
env's dict of arrays and returns a batch of actions and its state, which it gets back next
step (``None`` at the first). A ``policy.seed(s)``, where it has one, seeds its own draws.
``env`` is a glimpse vector env reset by the loop (no autoreset): one episode per env. It
plays a classification task and Catch alike (Catch has no labels: ``labels`` and
``predictions`` are None there, ``correct`` is whether the ball was caught).
``ram_env.evaluate`` plays a trained policy; the agents' trainer plays a learner whose state
records what its loss needs, with gradients. With a torch env (``device=``) everything
``Played`` holds stays a tensor on the env's device: the loop never copies to the host.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium
import numpy as np


class Played(NamedTuple):
    """One episode per env of a batch: numpy arrays, or tensors from a torch env."""

    locations: np.ndarray  # (T, N, 2): where each glimpse was taken
    last_action: np.ndarray  # (N, ...): the action of the last step (it names the class)
    returns: np.ndarray  # (N,) float64: the sum of each episode's rewards
    labels: np.ndarray | None  # (N,): the true classes, revealed at the end (None: Catch)
    predictions: np.ndarray | None  # (N,): the classes named (None: Catch)
    correct: np.ndarray  # (N,) bool: the env's verdict (its ``is_success``)
    state: Any  # the policy's state after the last step

    @property
    def class_scores(self) -> np.ndarray:
        """The last ``"box"`` action's class scores (a posterior, for ``RAMPolicy``)."""
        return self.last_action[:, 2:]


def play(
    policy: Callable[[dict[str, np.ndarray], Any], tuple[Any, Any]],
    env: gymnasium.vector.VectorEnv,
    seed: int,
    image_index: np.ndarray | None = None,
    reset_seed: int | np.ndarray | None = None,
) -> Played:
    """One episode per env: on the images ``image_index`` (random ones when None); ``seed``
    seeds the policy's draws and the env's reset (unless ``reset_seed`` is given: say one
    seed per env). Gradients flow as the caller's grad mode allows."""
    if hasattr(policy, "seed"):
        policy.seed(seed)
    options = None if image_index is None else {"image_index": image_index}
    observation, _ = env.reset(seed=seed if reset_seed is None else reset_seed, options=options)
    num_glimpses = env.unwrapped.num_glimpses
    locations, state = [observation["location"]], None
    returns = 0.0
    for t in range(num_glimpses):
        action, state = policy(observation, state)
        observation, reward, _, _, infos = env.step(action)
        returns = returns + reward  # a fresh array (or tensor) each step
        if t < num_glimpses - 1:
            locations.append(observation["location"])
    if _is_tensor(returns):  # a torch env: torch is loaded
        torch = sys.modules["torch"]
        stacked, correct = torch.stack(locations), infos["is_success"]
        labels, predictions = infos.get("label"), infos.get("prediction")
    else:
        stacked = np.stack(locations)
        labels, predictions = _optional(infos, "label"), _optional(infos, "prediction")
        correct = np.asarray(infos["is_success"], dtype=bool)
        returns = np.asarray(returns, dtype=np.float64)
    return Played(stacked, action, returns, labels, predictions, correct, state)


def _optional(infos: dict[str, Any], key: str) -> np.ndarray | None:
    """An end info as an array; None where the env has none (Catch has no labels)."""
    return np.asarray(infos[key]) if key in infos else None


def _is_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor (without importing torch where nothing has)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)
