"""The one T-step glimpse episode loop, shared by training, evaluation, plots and benchmarks.

    played = play(policy, env, seed)

``policy`` is an ``agents.policy.Policy``: each step it reads the batch of observations and
returns the batch of actions and its state, which it gets back next step. ``env`` is a
glimpse vector env reset by the loop (no autoreset): one episode per env. Scoring plays a
trained policy; training plays ``agents.reinforce.RAMLearner``, a policy whose state records
what the loss needs (log-probabilities, baselines, logits) with their gradients; the speed
benchmark plays the same learner on tensor canvases instead of the env.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium
import numpy as np

from agents.policy import Policy


class Played(NamedTuple):
    """One episode per env of a batch."""

    locations: np.ndarray  # (T, N, 2): where each glimpse was taken
    last_action: np.ndarray  # (N, ...): the action of the last step (it names the class)
    returns: np.ndarray  # (N,) float64: the sum of each episode's rewards
    labels: np.ndarray  # (N,): the true classes, revealed at the end
    predictions: np.ndarray  # (N,): the classes named
    correct: np.ndarray  # (N,) bool
    state: Any  # the policy's state after the last step

    @property
    def class_scores(self) -> np.ndarray:
        """The last ``"box"`` action's class scores (a posterior, for ``RAMPolicy``)."""
        return self.last_action[:, 2:]


def play(
    policy: Policy,
    env: gymnasium.vector.VectorEnv,
    seed: int,
    image_index: np.ndarray | None = None,
    reset_seed: int | np.ndarray | None = None,
) -> Played:
    """One episode per env: on the images ``image_index`` (random ones when None); ``seed``
    seeds the policy's draws and the env's reset (unless ``reset_seed`` is given: say one
    seed per env). Gradients flow as the caller's grad mode allows."""
    policy.seed(seed)
    options = None if image_index is None else {"image_index": image_index}
    observation, _ = env.reset(seed=seed if reset_seed is None else reset_seed, options=options)
    num_glimpses = env.unwrapped.num_glimpses
    locations, state = [observation["location"]], None
    returns = np.zeros(env.unwrapped.num_envs)
    for t in range(num_glimpses):
        action, state = policy(observation, state)
        observation, reward, _, _, infos = env.step(action)
        returns += reward
        if t < num_glimpses - 1:
            locations.append(observation["location"])
    return Played(
        np.stack(locations),
        action,
        returns,
        np.asarray(infos["label"]),
        np.asarray(infos["prediction"]),
        np.asarray(infos["is_success"], dtype=bool),
        state,
    )
