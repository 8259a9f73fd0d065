"""The learners learn, and a broken learner does not: short trainings on synthetic tasks.

Two tiny tasks built through the env's own-data route (no MNIST; each training takes a
second or two on one CPU thread). Both use a 20x20 canvas, blank but for a 6x6 *texture*
whose kind is the class, and 4x4 glimpses that start at the centre
(``first_location="center"``):

* **Look elsewhere**: the texture sits at a random place on the canvas's outer ring, clear
  of the centre. The four textures (horizontal stripes, vertical stripes, a checkerboard,
  flat grey) all average to the same grey over 2x2 and 4x4 blocks, so the first glimpse's
  coarse scales show *where* the texture is but not *which* it is; only the fine scale of a
  second glimpse sent there reads the class. A location policy that does not learn to
  follow the coarse view leaves the classifier near chance (25%).
* **Look here**: the texture covers the centre and the first glimpse reads it, so only the
  class decision has to be learned.

Each learner is shown to reach a clear bar, and the same budget with the learning signal
removed or its sign flipped is shown to stay near chance: so a bar reached means the signal
was right, not that the task was easy.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
import torch

import ram_env  # noqa: F401  (registers the env ids)
from agents import reinforce
from agents.evaluation import evaluate
from agents.ram_policy import RAMPolicy, RecurrentAttentionModel
from ram_env.scoring import make_eval_env

SIDE = 20  # canvas side
TEXTURE = 6  # texture side
CLEAR = 4  # the look-elsewhere texture stays this far (in pixels) from the canvas centre
GLIMPSES = 2
NUM_TRAIN, NUM_VALIDATION = 1024, 500
LEARNED_BAR = 90.0  # accuracy (%) a working learner reaches within its budget
CHANCE_BAR = 50.0  # a broken one stays under this (chance is 25% with four textures)


def textures() -> np.ndarray:
    """The four class textures ``(4, 6, 6)`` uint8: equal 2x2 and 4x4 block averages."""
    row, col = np.mgrid[0:TEXTURE, 0:TEXTURE]
    return np.stack(
        [
            (row % 2 == 0) * 255,  # horizontal stripes
            (col % 2 == 0) * 255,  # vertical stripes
            ((row + col) % 2 == 0) * 255,  # checkerboard
            np.full_like(row, 128),  # flat grey
        ]
    ).astype(np.uint8)


def look_elsewhere_task(num_images: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Canvases with the texture at a random place on the outer ring, and their labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, num_images)
    images = np.zeros((num_images, SIDE, SIDE), dtype=np.uint8)
    low, high = SIDE // 2 - CLEAR, SIDE // 2 + CLEAR
    for image, label in zip(images, labels, strict=True):
        while True:
            row, col = rng.integers(0, SIDE - TEXTURE + 1, 2)
            clear = row + TEXTURE <= low or row >= high or col + TEXTURE <= low or col >= high
            if clear:
                break
        image[row : row + TEXTURE, col : col + TEXTURE] = textures()[label]
    return images, labels


def look_here_task(num_images: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Canvases with the texture over the centre, where the first glimpse reads it."""
    labels = np.random.default_rng(seed).integers(0, 4, num_images)
    images = np.zeros((num_images, SIDE, SIDE), dtype=np.uint8)
    start = (SIDE - TEXTURE) // 2
    images[:, start : start + TEXTURE, start : start + TEXTURE] = textures()[labels]
    return images, labels


def env_kwargs(task, num_images: int, seed: int, num_scales: int) -> dict[str, Any]:
    images, labels = task(num_images, seed)
    return dict(
        images=images,
        labels=labels,
        num_classes=4,
        glimpse_size=4,
        num_scales=num_scales,
        num_glimpses=GLIMPSES,
        first_location="center",
    )


def vector_env(num_envs: int, split: str, **kwargs: Any) -> gymnasium.vector.VectorEnv:
    """A vector env over the task's canvases, reset explicitly (as the trainer's are)."""
    return make_eval_env("GlimpseMNIST-v0", split, num_envs, **kwargs)


def train_ram(task, num_scales: int, updates: int, **settings: Any) -> float:
    """Train the RAM with ``reinforce.update`` for ``updates`` steps; validation accuracy."""
    config = reinforce.ReinforceConfig(
        batch_size=128, hidden_size=64, std=0.2, weight_decay=0.0, seed=0, **settings
    )
    train_env = vector_env(config.batch_size, "train", **env_kwargs(task, NUM_TRAIN, 1, num_scales))
    validation_env = vector_env(
        NUM_VALIDATION, "validation", **env_kwargs(task, NUM_VALIDATION, 2, num_scales)
    )
    torch.manual_seed(config.seed)
    model = RecurrentAttentionModel.from_spaces(
        train_env.single_observation_space,
        train_env.single_action_space,
        hidden_size=config.hidden_size,
        location_std=config.std,
    )
    optimizer = reinforce.make_optimizer(model, config)
    for index in range(updates):
        reinforce.update(model, optimizer, train_env, config, index)
    return evaluate(RAMPolicy(model), validation_env, seed=0).accuracy


def flip(part: str):
    """``compute_losses`` with the sign of one policy-gradient term flipped (a planted bug)."""
    real = reinforce.compute_losses

    def flipped(
        rollout: reinforce.Rollout,
        location_weight: float = 1.0,
        entropy_weight: float = 0.0,
        discount: float = 1.0,
        early_class_weight: float = 0.0,
    ) -> reinforce.Losses:
        losses = real(rollout, location_weight, entropy_weight, discount, early_class_weight)
        weight = location_weight if part == "location" else 1.0
        total = losses.total - 2.0 * weight * getattr(losses, part)
        return losses._replace(total=total, **{part: -getattr(losses, part)})

    return flipped


# --------------------------------------------------------------------------- REINFORCE


def look_elsewhere(**settings: Any) -> float:
    return train_ram(look_elsewhere_task, num_scales=3, updates=400, lr=3e-3, **settings)


def test_reinforce_learns_where_to_look():
    assert look_elsewhere(location_weight=1.0) >= LEARNED_BAR


def test_without_the_location_term_the_classifier_stays_near_chance():
    assert look_elsewhere(location_weight=0.0) <= CHANCE_BAR


def test_with_the_location_term_reversed_the_classifier_stays_near_chance(monkeypatch):
    monkeypatch.setattr(reinforce, "compute_losses", flip("location"))
    assert look_elsewhere(location_weight=1.0) <= CHANCE_BAR


def look_here_from_reward() -> float:
    return train_ram(look_here_task, num_scales=1, updates=200, lr=1e-3, loss="reinforce")


def test_reward_alone_trains_the_class_policy():
    """``--loss reinforce``: the class is sampled and reinforced; no label is read."""
    assert look_here_from_reward() >= LEARNED_BAR


def test_reward_alone_with_the_class_gradient_reversed_does_not_learn(monkeypatch):
    monkeypatch.setattr(reinforce, "compute_losses", flip("classification"))
    assert look_here_from_reward() <= CHANCE_BAR


# --------------------------------------------------------------------------- Catch

CATCH = dict(screen_size=8, glimpse_size=8, num_scales=1, first_location="center")
"""A small Catch: 8x8, one 8x8 glimpse at the centre sees the whole screen; 7 moves a game.
A random policy catches about 26% of the balls, following the ball's column about 58%."""
CATCH_LEARNED_BAR = 50.0
CATCH_CHANCE_BAR = 35.0
CATCH_SEEDS = range(4)
"""At 200 updates whether one seed learns depends on the seed and on the machine's floating
point, so learning is asked of one seed in four and chance of all four."""


def train_catch(seed: int, updates: int = 200) -> float:
    """REINFORCE on the small Catch, moves from the reward alone; validation catch rate."""
    config = reinforce.ReinforceConfig(
        env_id="GlimpseCatch-v0", core="lstm", loss="reinforce", hidden_size=64,
        batch_size=128, lr=3e-3, std=0.02, location_weight=0.0, entropy_weight=0.0,
        weight_decay=0.0, seed=seed,
    )  # fmt: skip
    config.validate()
    train_env = make_eval_env("GlimpseCatch-v0", "train", config.batch_size, **CATCH)
    validation_env = make_eval_env("GlimpseCatch-v0", "validation", 1000, **CATCH)
    torch.manual_seed(config.seed)
    model = RecurrentAttentionModel.from_spaces(
        train_env.single_observation_space,
        train_env.single_action_space,
        core="lstm",
        hidden_size=config.hidden_size,
        location_std=config.std,
    )
    optimizer = reinforce.make_optimizer(model, config)
    for index in range(updates):
        reinforce.update(model, optimizer, train_env, config, index)
    return evaluate(RAMPolicy(model), validation_env, seed=0, num_images=1000).accuracy


def test_reward_alone_trains_catchs_moves():
    """A move every step, one reward at the end: the moves learn to catch."""
    assert any(train_catch(seed) >= CATCH_LEARNED_BAR for seed in CATCH_SEEDS)


def test_catch_with_the_move_gradient_reversed_does_not_learn(monkeypatch):
    monkeypatch.setattr(reinforce, "compute_losses", flip("classification"))
    assert all(train_catch(seed) <= CATCH_CHANCE_BAR for seed in CATCH_SEEDS)


# --------------------------------------------------------------------------- SB3 route


def random_textures(num_classes: int = 10) -> np.ndarray:
    """``num_classes`` random binary 6x6 patterns: with ten classes, an untrained
    classifier's fixed guess for each pattern is right about one time in ten."""
    return (np.random.default_rng(123).random((num_classes, TEXTURE, TEXTURE)) < 0.5) * 255


@pytest.mark.parametrize("supervised_coef, bar", [(1.0, LEARNED_BAR), (0.0, None)])
def test_hybrid_ppo_cross_entropy_step_trains_the_classifier(supervised_coef, bar):
    """The class head gets no policy gradient (``classify_steps="none"``): the hybrid
    cross-entropy step alone must take it from chance (10%) to the bar."""
    from agents.sb3_algorithms import HybridRecurrentPPO, SB3Policy
    from agents.sb3_policy import RecurrentRAMPolicy
    from ram_env.sb3 import make_sb3_vec_env

    patterns = random_textures().astype(np.uint8)
    start = (SIDE - TEXTURE) // 2

    def canvases(seed: int, num_images: int) -> dict[str, Any]:
        labels = np.random.default_rng(seed).integers(0, len(patterns), num_images)
        images = np.zeros((num_images, SIDE, SIDE), dtype=np.uint8)
        images[:, start : start + TEXTURE, start : start + TEXTURE] = patterns[labels]
        return dict(
            images=images,
            labels=labels,
            num_classes=len(patterns),
            glimpse_size=4,
            num_scales=1,
            num_glimpses=GLIMPSES,
            first_location="center",
            action_type="multidiscrete",
        )

    env = make_sb3_vec_env("GlimpseMNIST-v0", 32, seed=0, split="train", **canvases(1, 512))
    model = HybridRecurrentPPO(
        RecurrentRAMPolicy,
        env,
        n_steps=GLIMPSES,
        batch_size=64,
        n_epochs=1,
        learning_rate=3e-3,
        gamma=1.0,
        supervised_coef=supervised_coef,
        supervised_steps="last",
        policy_kwargs=dict(num_glimpses=GLIMPSES, hidden_size=64, classify_steps="none"),
        seed=0,
    )
    model.learn(3_200)
    policy = SB3Policy(model, "multidiscrete")
    accuracy = evaluate(policy, vector_env(500, "validation", **canvases(2, 500)), seed=0).accuracy
    if bar is None:
        assert accuracy <= CHANCE_BAR  # chance is 10%: nothing else trains the class head
    else:
        assert accuracy >= bar
