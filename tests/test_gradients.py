"""The REINFORCE gradients measured against their formulas, not only seen to move.

For a rollout with location means ``mu_t``, sampled locations ``l_t ~ N(mu_t, std^2)``,
baselines ``b_t`` (from ``h_t``, the same step that chose ``l_t``) and rewards ``R``, the
hybrid loss ``CE + w * L_loc + MSE(b, R)`` with ``L_loc = -mean_i sum_t log pi(l_t) (R - b_t)``
has

* ``dLoss / dmu_t = -(w / N) (R - b_t) (l_t - mu_t) / std^2`` (the advantage is a constant);
* ``dLoss / db_t = 2 (b_t - R) / (T N)``: the baseline learns from its squared error only;
* ``dLoss / dlogits = (softmax - onehot) / N``.
"""

from __future__ import annotations

import copy
import math

import gymnasium
import numpy as np
import pytest
import torch

import ram_env  # noqa: F401  (registers the env ids)
from agents import reinforce
from agents.ram_policy import LocationNetwork, RecurrentAttentionModel

STD = 0.2
NUM_CLASSES = 3


def hand_rollout(location_weight: float):
    """Two episodes of T = 3 glimpses with every quantity chosen by hand."""
    mean = torch.tensor(
        [[[0.1, -0.2], [0.5, 0.0]], [[-0.3, 0.4], [0.2, 0.2]]], requires_grad=True
    )  # (T - 1, N, 2)
    location = torch.tensor([[[0.3, -0.1], [0.4, 0.1]], [[-0.5, 0.5], [0.0, 0.6]]])
    baselines = torch.tensor([[0.2, 0.7], [0.6, 0.1], [0.9, 0.4]], requires_grad=True)
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]], requires_grad=True)
    rewards = torch.tensor([1.0, 0.0])
    labels = torch.tensor([0, 2])
    network = LocationNetwork(hidden_size=1, std=STD)
    rollout = reinforce.Rollout(
        location_log_probs=network.log_prob(mean, location),
        baselines=baselines,
        logits=logits,
        decision_log_probs=None,
        decision_entropy=None,
        rewards=rewards,
        labels=labels,
    )
    losses = reinforce.compute_losses(rollout, location_weight)
    losses.total.backward()
    return losses, mean, location, baselines, logits, rewards, labels


@pytest.mark.parametrize("location_weight", [1.0, 0.25])
def test_location_gradient_is_the_reinforce_formula(location_weight):
    _, mean, location, baselines, _, rewards, _ = hand_rollout(location_weight)
    num_episodes = rewards.shape[0]
    advantage = rewards - baselines[:-1].detach()  # b_t: the step that chose l_t
    expected = (
        -(location_weight / num_episodes)
        * advantage[..., None]
        * (location - mean.detach())
        / STD**2
    )
    torch.testing.assert_close(mean.grad, expected)
    # A hand value: episode 0 (R = 1), step 0 (b = 0.2), x: l - mu = 0.2.
    assert mean.grad[0, 0, 0].item() == pytest.approx(-location_weight / 2 * 0.8 * 0.2 / 0.04)


def test_baseline_learns_from_its_squared_error_only():
    """The advantage is detached: the REINFORCE term sends nothing into ``b_t``."""
    for location_weight in (1.0, 0.0):
        _, _, _, baselines, _, rewards, _ = hand_rollout(location_weight)
        expected = 2.0 * (baselines.detach() - rewards) / baselines.numel()
        torch.testing.assert_close(baselines.grad, expected)


def test_classifier_gradient_is_the_cross_entropy_one():
    _, _, _, _, logits, _, labels = hand_rollout(1.0)
    onehot = torch.nn.functional.one_hot(labels, NUM_CLASSES).float()
    expected = (logits.detach().softmax(-1) - onehot) / len(labels)
    torch.testing.assert_close(logits.grad, expected)


def test_loss_parts_have_their_values():
    losses, mean, location, baselines, logits, rewards, labels = hand_rollout(0.5)
    log_prob = torch.distributions.Normal(mean.detach(), STD).log_prob(location).sum(-1)
    location_loss = -(log_prob * (rewards - baselines.detach()[:-1])).sum(0).mean()
    baseline_loss = (baselines.detach() - rewards).square().mean()
    classification = torch.nn.functional.cross_entropy(logits.detach(), labels)
    torch.testing.assert_close(losses.location, location_loss)
    torch.testing.assert_close(losses.baseline, baseline_loss)
    torch.testing.assert_close(losses.classification, classification)
    torch.testing.assert_close(losses.total, classification + 0.5 * location_loss + baseline_loss)


def test_class_policy_gradient_uses_the_last_steps_advantage():
    """``--loss reinforce``: ``dLoss / dlog pi(class) = -(R - b_T) / N``."""
    class_log_prob = torch.tensor([-0.5, -1.5], requires_grad=True)
    baselines = torch.tensor([[0.2, 0.7], [0.6, 0.1], [0.9, 0.4]], requires_grad=True)
    rewards = torch.tensor([1.0, 0.0])
    rollout = reinforce.Rollout(
        location_log_probs=torch.zeros(2, 2, requires_grad=True),
        baselines=baselines,
        logits=torch.zeros(2, NUM_CLASSES, requires_grad=True),
        decision_log_probs=class_log_prob[None],
        decision_entropy=None,
        rewards=rewards,
        labels=torch.tensor([0, 2]),
    )
    reinforce.compute_losses(rollout, 1.0).total.backward()
    expected = -(rewards - baselines.detach()[-1]) / 2
    torch.testing.assert_close(class_log_prob.grad, expected)
    torch.testing.assert_close(baselines.grad, 2.0 * (baselines.detach() - rewards) / 6)


# --------------------------------------------------------------------------- a real rollout


def make_env(num_envs: int = 16) -> gymnasium.vector.VectorEnv:
    rng = np.random.default_rng(0)
    return gymnasium.make_vec(
        "GlimpseMNIST-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split="train",
        images=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
        labels=np.arange(40) % 10,
        num_classes=10,
        num_glimpses=4,
    )


def make_model(env) -> RecurrentAttentionModel:
    torch.manual_seed(0)
    return RecurrentAttentionModel.from_spaces(
        env.single_observation_space, env.single_action_space, location_std=STD
    )


def test_rollout_gradient_on_each_location_mean_is_the_formula(monkeypatch):
    """Through ``collect_rollout`` and the real model: each step's ``mu_t`` gets
    ``-(w / N) (R - b_t) (l_t - mu_t) / std^2``, with ``b_t`` and ``l_t`` of that step."""
    env = make_env()
    model = make_model(env)
    means, locations, baselines = [], [], []
    real_step, real_next = model.step, model.next_location

    def step(*args, **kwargs):
        out = real_step(*args, **kwargs)
        out.location_mean.retain_grad()
        means.append(out.location_mean)
        baselines.append(out.baseline.detach())
        return out

    def next_location(*args, **kwargs):
        location, log_prob = real_next(*args, **kwargs)
        locations.append(location)
        return location, log_prob

    monkeypatch.setattr(model, "step", step)
    monkeypatch.setattr(model, "next_location", next_location)
    rollout = reinforce.collect_rollout(model, env, seed=7, sample_class=False)
    weight = 0.3
    reinforce.compute_losses(rollout, weight).total.backward()
    assert len(locations) == 3 and len(means) == 4
    assert torch.equal(rollout.baselines.detach(), torch.stack(baselines))
    for t, location in enumerate(locations):
        advantage = rollout.rewards - baselines[t]
        expected = -(weight / 16) * advantage[:, None] * (location - means[t].detach()) / STD**2
        torch.testing.assert_close(means[t].grad, expected)
    assert means[-1].grad is None or not means[-1].grad.any()  # the last mean is not used


def test_log_prob_is_the_normal_density():
    network = LocationNetwork(hidden_size=1, std=STD)
    mean, location = torch.tensor([[0.1, -0.4]]), torch.tensor([[0.3, -0.1]])
    z = (location - mean) / STD
    expected = (-0.5 * z.square() - math.log(STD) - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(network.log_prob(mean, location), expected)


# --------------------------------------------------------------------------- one update


@pytest.mark.parametrize("location_weight, moves", [(1.0, True), (0.0, False)])
def test_one_update_moves_the_location_network_only_through_reinforce(location_weight, moves):
    """Weight decay off: the location network moves if and only if the REINFORCE term is on."""
    env = make_env()
    model = make_model(env)
    config = reinforce.ReinforceConfig(
        batch_size=16, seed=1, weight_decay=0.0, location_weight=location_weight
    )
    optimizer = reinforce.make_optimizer(model, config)
    before = copy.deepcopy(model.location_network.state_dict())
    reinforce.update(model, optimizer, env, config, update_index=0)
    after = model.location_network.state_dict()
    changed = any(not torch.equal(before[name], after[name]) for name in before)
    assert changed == moves
