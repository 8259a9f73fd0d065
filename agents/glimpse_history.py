"""``ppo-history``: PPO whose policy sees every glimpse of the episode so far (frame stacking).

The feed-forward SB3 algorithms (``ppo``, ``a2c``, ...) see one glimpse per step: they
cannot combine what they saw at different places, which is the point of the task. The
recurrent route (``recurrent-ppo``) remembers through an RNN core; this is the memory
baseline that needs no recurrent algorithm (issue "baselines with memory"): the observation
itself is made to hold the episode's history, so any feed-forward SB3 algorithm can use it.

* ``GlimpseHistory`` (an ``agents.sb3_algorithms.ObservationTransform``) stacks the last T
  glimpses and their locations, T being the episode's length, so a window holds a whole
  episode. Slot 0 is the current step, slot j the step j steps before; slots the episode
  has not reached are zeros and ``seen`` marks the filled ones. ``time`` is passed on.
* ``HistoryFeaturesExtractor`` runs the RAM glimpse network
  (``agents.sb3_policy.GlimpseFeaturesExtractor``, shared by all slots) on every slot and
  concatenates the slots' features, zeroed where not seen, with the time.

Registered in ``agents.sb3_registry`` as ``ppo-history``: PPO with ``ppo``'s settings, this
extractor and this transform; ``agents.sb3_algorithms`` applies the transform in training
and when the run is scored.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from agents.sb3_policy import GlimpseFeaturesExtractor

STACKED = ("glimpse", "location")
"""The observation keys whose history is kept; the others (``time``) are passed on."""


def _stacked(space: spaces.Box, slots: int) -> spaces.Box:
    """``slots`` copies of ``space`` along a new first axis."""
    shape = (slots, *space.shape)
    return spaces.Box(
        np.broadcast_to(space.low, shape), np.broadcast_to(space.high, shape), dtype=space.dtype
    )


def _slot(space: spaces.Box) -> spaces.Box:
    """One slot of a stacked space (``_stacked``'s inverse)."""
    return spaces.Box(space.low[0], space.high[0], dtype=space.dtype)


def _require(observation_space: spaces.Space, keys: set[str], what: str) -> None:
    """``ValueError`` unless ``observation_space`` is a Dict space holding ``keys``."""
    if not isinstance(observation_space, spaces.Dict) or not keys <= set(observation_space.spaces):
        raise ValueError(
            f"{what} needs a Dict observation space with {sorted(keys)}, got {observation_space}"
        )


class GlimpseHistory:
    """The glimpse env's observation with the episode's past glimpses and locations stacked.

    Out of ``Dict(glimpse=(k, g, g), location=(2,), time=(1,))`` it makes
    ``Dict(glimpse=(T, k, g, g), location=(T, 2), time=(1,), seen=(T,))``: slot 0 is the
    current step, slot j the step j steps before (zeros, with ``seen`` 0, before the
    episode's start). An episode longer than T keeps its last T steps. Vectorised over the
    batch; the memory is the last observation returned (never changed afterwards).
    """

    def __init__(self, observation_space: spaces.Dict, num_glimpses: int) -> None:
        _require(observation_space, set(STACKED), "GlimpseHistory")
        if num_glimpses < 1:
            raise ValueError(f"num_glimpses must be >= 1, got {num_glimpses}")
        self.input_space = observation_space
        self.num_glimpses = num_glimpses
        self.observation_space = spaces.Dict(
            {
                **{
                    key: _stacked(space, num_glimpses) if key in STACKED else space
                    for key, space in observation_space.spaces.items()
                },
                "seen": spaces.Box(0.0, 1.0, (num_glimpses,), dtype=np.float32),
            }
        )

    def __call__(
        self,
        observation: dict[str, np.ndarray],
        memory: dict[str, np.ndarray] | None,
        episode_start: np.ndarray,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The batch with its history; the history (the result itself) is the next memory."""
        episode_start = np.asarray(episode_start, dtype=bool)
        batch = len(observation["location"])
        current = {key: observation[key] for key in STACKED}
        current["seen"] = np.ones(batch, dtype=np.float32)
        history = dict(observation)
        for key, now in current.items():
            space = self.observation_space[key]
            stacked = np.empty((batch, *space.shape), dtype=space.dtype)
            stacked[:, 0] = now
            if memory is None:
                stacked[:, 1:] = 0.0
            else:
                stacked[:, 1:] = memory[key][:, :-1]
                stacked[episode_start, 1:] = 0.0
            history[key] = stacked
        return history, history


class HistoryFeaturesExtractor(BaseFeaturesExtractor):
    """The RAM glimpse network on every slot of a ``GlimpseHistory`` observation.

    Output: the ``T`` slots' glimpse features (``glimpse_features`` each, zero for slots not
    seen) side by side, followed by the observation's ``time`` when ``use_time``.
    """

    def __init__(
        self, observation_space: spaces.Dict, use_time: bool = True, **glimpse_network: int
    ) -> None:
        """``glimpse_network``: the sizes ``GlimpseFeaturesExtractor`` takes."""
        _require(observation_space, {*STACKED, "seen"}, "HistoryFeaturesExtractor")
        slots = observation_space["seen"].shape[0]
        step_space = spaces.Dict({key: _slot(observation_space[key]) for key in STACKED})
        step_features = GlimpseFeaturesExtractor(step_space, use_time=False, **glimpse_network)
        super().__init__(observation_space, slots * step_features.features_dim + int(use_time))
        self.step_features = step_features
        self.use_time = use_time

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        seen = observations["seen"]
        steps = {key: observations[key].flatten(0, 1) for key in STACKED}  # (B * T, ...)
        features = self.step_features(steps).view(*seen.shape, -1) * seen.unsqueeze(-1)
        features = features.flatten(1)
        if self.use_time:
            features = torch.cat([features, observations["time"].reshape(-1, 1)], dim=1)
        return features


__all__ = ["GlimpseHistory", "HistoryFeaturesExtractor"]
