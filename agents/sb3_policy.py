"""The Recurrent Attention Model as a Stable-Baselines3 policy (for sb3-contrib's RecurrentPPO).

The pieces map onto SB3's policy layout like this:

* features extractor = the RAM glimpse network (``GlimpseFeaturesExtractor``):
  ``g = relu(A relu(W_g glimpse) + B relu(W_l location))``, with the episode's ``time``
  appended;
* recurrent part = the RAM core: the paper's ReLU RNN (``core="rnn"``, the default) or a
  GRU, behind the ``nn.LSTM`` interface sb3-contrib expects (``CoreSequence``), or SB3's own
  ``nn.LSTM`` (``core="lstm"``);
* action heads = one linear layer on ``h_t`` giving the parameters of the env's action
  distribution: for ``"multidiscrete"`` a softmax over grid columns, one over grid rows and
  one over classes (location network on a grid + classifier); for ``"box"`` Gaussians;
* value head = one linear layer on ``h_t.detach()`` (``shared_lstm=True``), the paper's
  baseline ``b_t``: fitting it never changes the core.

What differs from the hand-written agent (``agents.ram_policy`` + ``agents.reinforce``):

* the locations are trained by PPO's clipped surrogate with a learned value function and
  GAE, not by REINFORCE with a baseline;
* a location is a categorical choice on the env's G x G grid (``"multidiscrete"``), not a
  Gaussian with fixed std around a continuous mean;
* SB3 alone would train the classifier by policy gradient on the reward (no label): the
  ``recurrent-ppo`` route adds the paper's supervised cross-entropy in
  ``agents.sb3_algorithms.HybridRecurrentPPO``, on the class logits of every step;
* one network, one sb3-contrib sequence layout: the core state is zeroed at episode starts
  through ``episode_starts``, as for any SB3 recurrent policy.

SB3 samples every part of every step's action. With ``num_glimpses`` set, the policy scores
(log-probability, entropy) only the parts the env uses: the location at steps 1..T-1 and
the class at step T (``classify_steps="last"``; ``"all"`` for the dense reward with
``gamma < 1``; ``"none"`` when the classifier is trained by cross-entropy instead). The
other parts do not change the episode, so their log-probabilities would only add noise to
the policy gradient.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.distributions import (
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from agents.ram_policy import CORE_TYPES, GlimpseNetwork, make_core

CLASSIFY_STEPS = ("last", "all", "none")


class GlimpseFeaturesExtractor(BaseFeaturesExtractor):
    """The RAM glimpse network on a glimpse env's Dict observation.

    Output: ``g`` (``glimpse_features`` values), followed by the observation's ``time``
    when ``use_time`` (so the policy knows which step must name the class).
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        glimpse_hidden: int = 128,
        location_hidden: int = 128,
        glimpse_features: int = 256,
        use_time: bool = True,
    ) -> None:
        _check_glimpse_space(observation_space)
        super().__init__(observation_space, glimpse_features + int(use_time))
        num_scales, glimpse_size, _ = observation_space["glimpse"].shape
        self.use_time = use_time
        self.glimpse_network = GlimpseNetwork(
            num_scales, glimpse_size, glimpse_hidden, location_hidden, glimpse_features
        )

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        features = self.glimpse_network(observations["glimpse"], observations["location"])
        if self.use_time:
            features = torch.cat([features, observations["time"].reshape(-1, 1)], dim=1)
        return features


def _check_glimpse_space(observation_space: spaces.Space) -> None:
    if not isinstance(observation_space, spaces.Dict) or not {"glimpse", "location"} <= set(
        observation_space.spaces
    ):
        raise ValueError(
            "GlimpseFeaturesExtractor needs a glimpse env's Dict observation space with "
            f"'glimpse', 'location' (and 'time'), got {observation_space}"
        )


class CoreSequence(nn.Module):
    """A RAM core (``"rnn"`` or ``"gru"``) behind the ``nn.LSTM`` calling convention.

    sb3-contrib calls its recurrent module as ``lstm(x, (h, c))`` with ``x`` of shape
    ``(L, N, input)`` and states ``(1, N, hidden)``, and reads ``input_size``,
    ``hidden_size`` and ``num_layers``. The cell state ``c`` is passed through untouched
    (it stays zero), so the rollout buffer can store it as for an LSTM.
    """

    num_layers = 1

    def __init__(self, core: str, input_size: int, hidden_size: int) -> None:
        super().__init__()
        if core not in ("rnn", "gru"):
            raise ValueError(f"CoreSequence wraps 'rnn' or 'gru' cores, got {core!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.core = make_core(core, input_size, hidden_size)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        hidden, cell = state
        core_state = (hidden[0],)
        outputs = []
        for step in x:
            h, core_state = self.core(step, core_state)
            outputs.append(h)
        return torch.stack(outputs), (core_state[0].unsqueeze(0), cell)


class StepMaskedMultiCategorical(MultiCategoricalDistribution):
    """``MultiCategoricalDistribution`` whose log-prob and entropy weigh each component
    (``weights`` ``(B, n_components)`` of 0/1; ``None``: all count)."""

    weights: torch.Tensor | None = None

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        parts = [
            dist.log_prob(action)
            for dist, action in zip(self.distribution, torch.unbind(actions, dim=1), strict=True)
        ]
        return _weighted_sum(torch.stack(parts, dim=1), self.weights)

    def entropy(self) -> torch.Tensor:
        parts = torch.stack([dist.entropy() for dist in self.distribution], dim=1)
        return _weighted_sum(parts, self.weights)


class StepMaskedDiagGaussian(DiagGaussianDistribution):
    """``DiagGaussianDistribution`` whose log-prob and entropy weigh each action dimension."""

    weights: torch.Tensor | None = None

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return _weighted_sum(self.distribution.log_prob(actions), self.weights)

    def entropy(self) -> torch.Tensor:
        return _weighted_sum(self.distribution.entropy(), self.weights)


def _weighted_sum(parts: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    return parts.sum(dim=1) if weights is None else (parts * weights).sum(dim=1)


class RecurrentRAMPolicy(RecurrentActorCriticPolicy):
    """RecurrentPPO policy: glimpse network -> core -> linear action and value heads.

    :param core: ``"rnn"`` (the paper's ReLU RNN), ``"gru"`` or ``"lstm"`` (SB3's ``nn.LSTM``).
    :param hidden_size: the core's state size.
    :param num_glimpses: the env's T; when given, log-probs and entropies count only the
        action parts the env uses (see the module docstring). ``None``: all parts count.
    :param classify_steps: the steps whose class choice counts in the policy gradient:
        ``"last"`` (the sparse reward), ``"all"`` (the dense reward) or ``"none"`` (the
        classifier is trained another way, e.g. by ``HybridRecurrentPPO``'s cross-entropy).
    :param glimpse_hidden, location_hidden, glimpse_features, use_time: the glimpse network.
    Other keyword arguments go to ``RecurrentActorCriticPolicy``; the defaults here are
    ``net_arch=dict(pi=[], vf=[])`` (linear heads on ``h_t``), ``shared_lstm=True`` and
    ``enable_critic_lstm=False`` (the value reads the actor's ``h_t``, detached).
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        *,
        core: str = "rnn",
        hidden_size: int = 256,
        num_glimpses: int | None = None,
        classify_steps: str = "last",
        glimpse_hidden: int = 128,
        location_hidden: int = 128,
        glimpse_features: int = 256,
        use_time: bool = True,
        **kwargs: Any,
    ) -> None:
        if core not in CORE_TYPES:
            raise ValueError(f"core must be one of {CORE_TYPES}, got {core!r}")
        if classify_steps not in CLASSIFY_STEPS:
            raise ValueError(
                f"classify_steps must be one of {CLASSIFY_STEPS}, got {classify_steps!r}"
            )
        self.core_type = core
        self.num_glimpses = num_glimpses
        self.classify_steps = classify_steps
        kwargs.setdefault("net_arch", dict(pi=[], vf=[]))
        kwargs.setdefault("shared_lstm", True)
        kwargs.setdefault("enable_critic_lstm", False)
        kwargs.setdefault("features_extractor_class", GlimpseFeaturesExtractor)
        extractor_kwargs = dict(
            glimpse_hidden=glimpse_hidden,
            location_hidden=location_hidden,
            glimpse_features=glimpse_features,
            use_time=use_time,
        )
        extractor_kwargs.update(kwargs.pop("features_extractor_kwargs", None) or {})
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            lstm_hidden_size=hidden_size,
            features_extractor_kwargs=extractor_kwargs,
            **kwargs,
        )
        if core != "lstm":
            self.lstm_actor = CoreSequence(core, self.features_dim, hidden_size)
            self.optimizer = self.optimizer_class(
                self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
            )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            core=self.core_type,
            num_glimpses=self.num_glimpses,
            classify_steps=self.classify_steps,
            hidden_size=self.lstm_output_dim,
            shared_lstm=self.shared_lstm,
            enable_critic_lstm=self.enable_critic_lstm,
        )
        return data

    def _build(self, lr_schedule: Schedule) -> None:
        """Swap in the step-masked distributions before SB3 builds the action head."""
        if isinstance(self.action_dist, MultiCategoricalDistribution):
            self.action_dist = StepMaskedMultiCategorical(self.action_dist.action_dims)
        elif isinstance(self.action_dist, DiagGaussianDistribution):
            self.action_dist = StepMaskedDiagGaussian(self.action_dist.action_dim)
        super()._build(lr_schedule)

    def episode_class_logits(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """Class logits ``(T, E, K)`` after each step of whole episodes: ``observations``
        hold ``(T, E, ...)`` tensors (every step of E episodes, from their start); the core
        starts from zeros."""
        length, episodes = observations["glimpse"].shape[:2]
        flat = {
            key: value.reshape(length * episodes, *value.shape[2:])
            for key, value in observations.items()
        }
        features = self.extract_features(flat)
        if isinstance(features, tuple):  # separate actor/critic extractors: take the actor's
            features = features[0]
        zeros = torch.zeros(
            self.lstm_actor.num_layers, episodes, self.lstm_output_dim, device=features.device
        )
        output, _ = self.lstm_actor(features.reshape(length, episodes, -1), (zeros, zeros))
        latent = self.mlp_extractor.forward_actor(output.reshape(length * episodes, -1))
        return self.class_logits(self.action_net(latent)).reshape(length, episodes, -1)

    def class_logits(self, action_parameters: torch.Tensor) -> torch.Tensor:
        """The class part of the action head's output: the label logits (``"multidiscrete"``)
        or the class scores' means (``"box"``, whose argmax is the prediction)."""
        if isinstance(self.action_dist, MultiCategoricalDistribution):
            return action_parameters[:, -self.action_dist.action_dims[-1] :]
        if isinstance(self.action_dist, DiagGaussianDistribution):
            return action_parameters[:, 2:]
        raise ValueError(
            f"class logits need a 'multidiscrete' or 'box' action space, got {self.action_space}"
        )

    @staticmethod
    def _process_sequence(
        features: torch.Tensor,
        lstm_states: tuple[torch.Tensor, torch.Tensor],
        episode_starts: torch.Tensor,
        lstm: nn.Module,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """sb3-contrib's sequence pass, with a fast path for whole-episode sequences.

        Glimpse episodes all have length T and start together, so with ``n_steps`` a
        multiple of T every training sequence is one episode: its only start is at its
        first step. Then the state is reset once and the core runs over the whole sequence
        in one call, instead of sb3-contrib's step-by-step loop. Other cases use that loop.
        """
        n_seq = lstm_states[0].shape[1]
        starts = episode_starts.reshape((n_seq, -1)).swapaxes(0, 1)
        if starts.shape[0] < 2 or torch.any(starts[1:] != 0.0):
            return RecurrentActorCriticPolicy._process_sequence(
                features, lstm_states, episode_starts, lstm
            )
        keep = (1.0 - starts[0]).view(1, n_seq, 1)
        sequence = features.reshape((n_seq, -1, lstm.input_size)).swapaxes(0, 1)
        output, states = lstm(sequence, (keep * lstm_states[0], keep * lstm_states[1]))
        return torch.flatten(output.transpose(0, 1), start_dim=0, end_dim=1), states

    # Each entry point that builds a distribution first records which parts of the action
    # the env will use at each observation's step.

    def forward(self, obs, lstm_states, episode_starts, deterministic: bool = False):
        self._set_step_weights(obs)
        return super().forward(obs, lstm_states, episode_starts, deterministic)

    def get_distribution(self, obs, lstm_states, episode_starts):
        self._set_step_weights(obs)
        return super().get_distribution(obs, lstm_states, episode_starts)

    def evaluate_actions(self, obs, actions, lstm_states, episode_starts):
        self._set_step_weights(obs)
        return super().evaluate_actions(obs, actions, lstm_states, episode_starts)

    def action_weights(self, obs: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """``(B, n_parts)`` 0/1 weights of the action parts the env uses at each step."""
        if self.num_glimpses is None or not hasattr(self.action_dist, "weights"):
            return None
        steps = obs["time"].reshape(-1) * self.num_glimpses
        last = (steps > self.num_glimpses - 1.5).float().unsqueeze(1)  # step T: the decision
        location = 1.0 - last
        label = {"last": last, "all": torch.ones_like(last), "none": torch.zeros_like(last)}[
            self.classify_steps
        ]
        if isinstance(self.action_dist, StepMaskedMultiCategorical):
            num_parts = len(self.action_dist.action_dims)  # column, row, class
            return torch.cat([location, location, label.expand(-1, num_parts - 2)], dim=1)
        num_scores = self.action_dist.action_dim - 2  # x, y, class scores
        return torch.cat([location, location, label.expand(-1, num_scores)], dim=1)

    def _set_step_weights(self, obs: Any) -> None:
        if isinstance(obs, dict) and hasattr(self.action_dist, "weights"):
            self.action_dist.weights = self.action_weights(obs)


__all__ = [
    "CoreSequence",
    "GlimpseFeaturesExtractor",
    "RecurrentRAMPolicy",
    "StepMaskedDiagGaussian",
    "StepMaskedMultiCategorical",
]
