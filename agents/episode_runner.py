"""The one T-step glimpse episode loop, shared by training, evaluation, plots and benchmarks.

    episodes = run_episodes(model, EnvSource(env), seed=s, explore=True)

Each step the model takes in the glimpse and where it was taken; before the last step it
picks the next location (a sample around the location network's mean when ``explore``, else
the mean; uniform for the random-locations control), and at the last step it names the
class (drawn from the softmax when ``sample_class``, else the argmax), which the source
scores. What the loss, the scorer and the plots need comes back as one ``Episodes``.

A source is where glimpses come from: ``EnvSource`` wraps a glimpse vector env (the numpy
env; its observations reach torch without a copy). The speed benchmark plugs in a torch
retina over tensor canvases instead, to time the model alone through the same loop.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import gymnasium
import numpy as np
import torch

from agents.ram_policy import RecurrentAttentionModel
from agents.rollout import observation_to_tensors, scores_action


class GlimpseSource(Protocol):
    """N episodes' glimpses, seen through the model's actions."""

    num_episodes: int
    num_glimpses: int

    def begin(
        self, seed: int | np.ndarray, image_index: np.ndarray | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Start N episodes; the first ``(glimpse (N, k, g, g), location (N, 2))``."""

    def look(self, locations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Move to ``locations`` (N, 2); the glimpse there and the location (clipped)."""

    def decide(self, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Name the classes (N,); ``(rewards (N,) float32, true labels (N,))``."""


class Episodes(NamedTuple):
    """N episodes of T glimpses, as the loss, the scorer and the plots read them."""

    location_log_probs: torch.Tensor  # (T-1, N): log pi(l_t), under the non-detached mean
    baselines: torch.Tensor  # (T, N): b_t, from h_t.detach()
    logits: torch.Tensor  # (N, K): the classifier on h_T
    class_log_prob: torch.Tensor | None  # (N,): log pi(class), when the class was sampled
    classes: torch.Tensor  # (N,): the classes named
    rewards: torch.Tensor  # (N,): the episode return (1 correct, 0 wrong)
    labels: torch.Tensor  # (N,): the true classes, revealed by the source at the end
    locations: torch.Tensor  # (T, N, 2): where each glimpse was taken


class EnvSource:
    """A glimpse vector env (``reset`` by the runner, no autoreset) as a ``GlimpseSource``."""

    def __init__(self, env: gymnasium.vector.VectorEnv, device: torch.device | str = "cpu"):
        self.env = env
        self.device = device
        self.num_episodes = env.unwrapped.num_envs
        self.num_glimpses = env.unwrapped.num_glimpses
        self.num_classes = env.unwrapped.num_classes
        self.returns = np.zeros(self.num_episodes)

    def begin(self, seed, image_index):
        options = None if image_index is None else {"image_index": image_index}
        observation, _ = self.env.reset(seed=seed, options=options)
        self.returns = np.zeros(self.num_episodes)
        return observation_to_tensors(observation, self.device)

    def look(self, locations):
        observation, reward, *_ = self.env.step(scores_action(locations, None, self.num_classes))
        self.returns += reward
        return observation_to_tensors(observation, self.device)

    def decide(self, classes):
        _, reward, _, _, infos = self.env.step(scores_action(None, classes, self.num_classes))
        self.returns += reward
        rewards = torch.as_tensor(self.returns, dtype=torch.float32, device=self.device)
        return rewards, torch.as_tensor(infos["label"], device=self.device)


def run_episodes(
    model: RecurrentAttentionModel,
    source: GlimpseSource,
    seed: int,
    *,
    explore: bool,
    sample_class: bool = False,
    image_index: np.ndarray | None = None,
    reset_seed: int | np.ndarray | None = None,
) -> Episodes:
    """Play one episode per env of ``source`` with ``model``; see the module docstring.

    ``seed`` seeds the draws of locations and classes (and the source's ``begin``, unless
    ``reset_seed`` is given); ``image_index`` picks the images (random when None).
    Gradients flow as the caller's grad mode allows.
    """
    device = model.classifier.weight.device
    generator = torch.Generator(device=device).manual_seed(seed)
    glimpse, location = source.begin(seed if reset_seed is None else reset_seed, image_index)
    state = model.initial_state(source.num_episodes)
    log_probs, baselines, locations = [], [], [location]
    class_log_prob = None
    for t in range(source.num_glimpses):
        out = model.step(glimpse, location, state)
        state = out.state
        baselines.append(out.baseline)
        if t < source.num_glimpses - 1:
            next_location, log_prob = model.next_location(out, generator, explore=explore)
            if log_prob is not None:  # None: the mean, or random locations
                log_probs.append(log_prob)
            glimpse, location = source.look(next_location)
            locations.append(location)
            continue
        logits = model.classify(out.hidden)
        if sample_class:
            drawn = torch.multinomial(logits.detach().softmax(-1), 1, generator=generator)
            class_log_prob = logits.log_softmax(-1).gather(1, drawn).squeeze(1)
            classes = drawn.squeeze(1)
        else:
            classes = logits.detach().argmax(-1)
        rewards, labels = source.decide(classes)
    empty = torch.zeros(0, source.num_episodes, device=device)
    return Episodes(
        location_log_probs=torch.stack(log_probs) if log_probs else empty,
        baselines=torch.stack(baselines),
        logits=logits,
        class_log_prob=class_log_prob,
        classes=classes,
        rewards=rewards,
        labels=labels,
        locations=torch.stack(locations),
    )
