"""The Stable-Baselines3 algorithms ``train.py`` can run, and how: a registry without imports.

``ALGORITHMS`` maps each name to an ``AlgorithmSpec``: the SB3 class and policy (as
``"module:Class"`` paths, imported only when a model is built or loaded, so that listing the
algorithms needs neither torch nor SB3), the action types it can use (the first is its
default) and hyper-parameters chosen for ``GlimpseMNIST-v0``.

A spec may also name an ``observation_transform`` (see
``agents.sb3_algorithms.ObservationTransform``): what the model sees is then the transform of
the env's observations, in training and when scored. Adding such an algorithm is one module
and one line here (e.g. ``ppo-history``: ``agents.glimpse_history`` and its line below).
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agents.tracks import HYBRID, REWARD_ONLY

MODEL_FILE = "model.zip"  # an SB3 run folder's model
CONFIG_FILE = "config.json"  # beside it: the algorithm, the env and the settings it ran


@dataclass(frozen=True)
class AlgorithmSpec:
    """How ``train_sb3`` runs one algorithm on a glimpse env."""

    name: str
    algo_class: str  # "module:Class", imported only when the algorithm is built or loaded
    policy: str  # an SB3 policy name, or "module:Class"
    action_types: tuple[str, ...]  # the first is the default
    num_envs: int
    default_timesteps: int
    hyperparams: dict[str, Any] = field(default_factory=dict)
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    rollout_episodes: int | None = None  # on-policy: n_steps = this many episode lengths
    ram_core: bool = False  # the RAM recurrent policy: --core/--hidden-size, num_glimpses given
    summary: str = ""
    observation_transform: str | None = None  # "module:Class": what the model sees instead
    memory: str = "none"  # what the policy remembers of the episode's earlier glimpses
    label_setting: str | None = None  # the hyper-parameter that, > 0, trains on the label
    # env id -> hyper-parameters that replace the defaults above on that task (Catch)
    task_hyperparams: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def default_action_type(self) -> str:
        return self.action_types[0]

    @property
    def policy_name(self) -> str:
        return self.policy.rpartition(":")[2]

    @property
    def tracks(self) -> tuple[str, ...]:
        """The tracks its runs can be in: hybrid too if a setting makes it read the label."""
        return (REWARD_ONLY, HYBRID) if self.label_setting else (REWARD_ONLY,)

    def track(self, hyperparams: dict[str, Any] | None = None) -> str:
        """The track of a run with ``hyperparams`` over the spec's: hybrid when training
        reads the label (``label_setting`` > 0), reward only otherwise."""
        if self.label_setting is None:
            return REWARD_ONLY
        settings = {**self.hyperparams, **(hyperparams or {})}
        return HYBRID if settings.get(self.label_setting, 0) > 0 else REWARD_ONLY

    def load_algo_class(self) -> type:
        return load_object(self.algo_class)

    def load_policy(self) -> str | type:
        return load_object(self.policy) if ":" in self.policy else self.policy

    def load_observation_transform(self) -> type | None:
        """The observation transform's class (None: the model sees the env's observations)."""
        if self.observation_transform is None:
            return None
        return load_object(self.observation_transform)

    def hyperparams_for(self, env_id: str) -> dict[str, Any]:
        """The hyper-parameters on ``env_id``: the defaults with the task's own in place
        (a ``policy_kwargs`` entry holds the task's changes to ``policy_kwargs``)."""
        return {**self.hyperparams, **self.task_hyperparams.get(env_id, {})}

    def load_policy_kwargs(self) -> dict[str, Any]:
        """``policy_kwargs`` with its ``"module:Class"`` strings imported."""
        extractor = self.policy_kwargs.get("features_extractor_class")
        if not isinstance(extractor, str):
            return dict(self.policy_kwargs)
        return {**self.policy_kwargs, "features_extractor_class": load_object(extractor)}


def load_object(path: str) -> Any:
    """The object a ``"module:name"`` path names."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_GLIMPSE_EXTRACTOR = "agents.sb3_policy:GlimpseFeaturesExtractor"
_ON_POLICY = dict(gamma=1.0, ent_coef=0.01)  # episodes have a fixed length: no discounting
# Off-policy: 256 envs step together and each step of them is followed by one gradient step
# on 256 transitions, so each transition is replayed about once. That lets a run get through
# the benchmark's budget of millions of env steps in minutes (3,000-9,000 steps/s on one
# thread of a 2-core CPU); at SB3's usual one gradient step per transition it would take
# hours.
_OFF_POLICY = dict(
    buffer_size=200_000,
    learning_starts=2_000,
    batch_size=256,
    gamma=1.0,
    train_freq=1,
    gradient_steps=1,
)
_HISTORY_BUFFER = 50_000  # a history observation is T glimpses: a buffer 4x smaller in steps
_HISTORY = "agents.glimpse_history"


def _feed_forward(
    name: str,
    cls: str,
    action_types: tuple[str, ...],
    on_policy: bool,
    note: str = "",
    **settings: Any,
) -> AlgorithmSpec:
    """An SB3 algorithm with ``MultiInputPolicy`` on the glimpse network, no memory: each step
    it sees only the current glimpse; ``settings`` are its hyper-parameters beyond the on- or
    off-policy defaults."""
    net_arch = dict(pi=[256], vf=[256]) if on_policy else [256, 256]
    return AlgorithmSpec(
        name,
        f"stable_baselines3:{cls}",
        "MultiInputPolicy",
        action_types,
        num_envs=256,
        default_timesteps=10_000_000 if on_policy else 2_000_000,
        rollout_episodes=1 if on_policy else None,
        hyperparams=dict(_ON_POLICY if on_policy else _OFF_POLICY, **settings),
        policy_kwargs=dict(features_extractor_class=_GLIMPSE_EXTRACTOR, net_arch=net_arch),
        summary=f"{cls}, glimpse net + MLP, no memory{note}",
    )


def _with_history(spec: AlgorithmSpec) -> AlgorithmSpec:
    """``spec`` on the episode's glimpse history (``agents.glimpse_history``): the observation
    holds every glimpse so far, so a feed-forward algorithm remembers the episode. Off-policy
    ones keep a smaller replay buffer (each stored observation is T glimpses)."""
    hyperparams = dict(spec.hyperparams)
    if "buffer_size" in hyperparams:
        hyperparams["buffer_size"] = _HISTORY_BUFFER
    cls = spec.algo_class.rpartition(":")[2]
    return replace(
        spec,
        name=f"{spec.name}-history",
        hyperparams=hyperparams,
        policy_kwargs={
            **spec.policy_kwargs,
            "features_extractor_class": f"{_HISTORY}:HistoryFeaturesExtractor",
        },
        observation_transform=f"{_HISTORY}:GlimpseHistory",
        memory="glimpse history (frame stack of T)",
        summary=f"{cls}, glimpse net on the episode's glimpse history (frame stacking) + MLP",
    )


_DISCRETE_TOO = ("multidiscrete", "box", "discrete")
_ON_POLICY_LR = dict(learning_rate=1e-3, lr_schedule="cosine")
_PPO = dict(batch_size=384, n_epochs=4, **_ON_POLICY_LR, gae_lambda=0.95)
_RAM_CORE = "RAM core (ReLU RNN)"

_FEED_FORWARD = (
    _feed_forward("ppo", "PPO", _DISCRETE_TOO, on_policy=True, **_PPO),
    _feed_forward("a2c", "A2C", _DISCRETE_TOO, on_policy=True, **_ON_POLICY_LR, gae_lambda=1.0),
    _feed_forward("sac", "SAC", ("box",), on_policy=False, learning_rate=3e-4),
    _feed_forward("td3", "TD3", ("box",), on_policy=False, learning_rate=3e-4),
    _feed_forward(
        "dqn",
        "DQN",
        ("discrete",),
        on_policy=False,
        learning_rate=3e-4,
        # SB3 counts this interval in env steps over all envs: 64,000 is every 250 steps of
        # the 256 envs, 1,000 gradient steps; a target that moves every few gradient steps
        # lets the Q-values chase themselves and diverge.
        target_update_interval=64_000,
        gradient_steps=4,  # each transition replayed about 4 times
        # Epsilon falls to its floor over the first 5% of the budget: random actions spread
        # the data over all G * G * K outputs (810 with a 9 x 9 grid), greedy ones gather it
        # where the policy looks.
        exploration_fraction=0.05,
        exploration_final_eps=0.02,
        note="; one action per (cell, cell, class)",
    ),
)

ALGORITHMS: dict[str, AlgorithmSpec] = {
    spec.name: spec
    for spec in (
        AlgorithmSpec(
            "recurrent-ppo",
            "agents.hybrid_ppo:HybridRecurrentPPO",
            "agents.sb3_policy:RecurrentRAMPolicy",
            ("multidiscrete", "box"),
            num_envs=256,
            default_timesteps=10_000_000,
            rollout_episodes=1,
            hyperparams=dict(
                _ON_POLICY,
                batch_size=384,
                n_epochs=1,
                **_ON_POLICY_LR,
                gae_lambda=0.95,
                supervised_coef=1.0,
                supervised_epochs=2,
                supervised_steps="all",
            ),
            policy_kwargs=dict(core="rnn", hidden_size=256, classify_steps="none"),
            ram_core=True,
            memory=_RAM_CORE,
            label_setting="supervised_coef",
            # Catch has no label: the moves of every step learn by PPO, the paper's LSTM core
            task_hyperparams={
                "GlimpseCatch-v0": dict(
                    supervised_coef=0.0,
                    policy_kwargs=dict(core="lstm", classify_steps="all"),
                )
            },
            summary="RecurrentPPO, RAM policy (glimpse net + ReLU RNN core) + CE classifier",
        ),
        *_FEED_FORWARD,
        *(_with_history(spec) for spec in _FEED_FORWARD),
        AlgorithmSpec(
            "recurrent-ppo-reward",
            "sb3_contrib:RecurrentPPO",
            "agents.sb3_policy:RecurrentRAMPolicy",
            ("multidiscrete", "box"),
            num_envs=256,
            default_timesteps=10_000_000,
            rollout_episodes=1,
            # 3x the others' entropy bonus: with 0.01 some seeds' sampled class settled
            # early and stayed there (short probes on MNIST chose 0.03 over 0.01 and 0.1)
            hyperparams=dict(_ON_POLICY, **_PPO, ent_coef=0.03),
            policy_kwargs=dict(core="rnn", hidden_size=256, classify_steps="last"),
            ram_core=True,
            memory=_RAM_CORE,
            summary="RecurrentPPO, RAM policy (glimpse net + ReLU RNN core), reward only: "
            "the class too is chosen by the policy and trained by PPO",
        ),
        AlgorithmSpec(
            "recurrent-ppo-lstm",
            "sb3_contrib:RecurrentPPO",
            "MultiInputLstmPolicy",
            ("multidiscrete", "box"),
            num_envs=256,
            default_timesteps=10_000_000,
            rollout_episodes=1,
            hyperparams=dict(_ON_POLICY, **_PPO),
            memory="LSTM (sb3-contrib's own)",
            summary="sb3-contrib's RecurrentPPO with its stock MultiInputLstmPolicy (flattened "
            "glimpse, LSTM of 256, MLP heads), reward only",
        ),
    )
}

ALGORITHM_NAMES = tuple(ALGORITHMS)


def get_spec(algo: str) -> AlgorithmSpec:
    """The spec of ``algo``; ``ValueError`` listing the known names otherwise."""
    if algo not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {algo!r}; known SB3 algorithms: {', '.join(ALGORITHM_NAMES)}"
        )
    return ALGORITHMS[algo]


def resolve_action_type(algo: str, action_type: str | None) -> str:
    """``action_type`` checked against what ``algo`` can use (None: its default)."""
    spec = get_spec(algo)
    if action_type is None:
        return spec.default_action_type
    if action_type not in spec.action_types:
        raise ValueError(
            f"{algo} cannot use action type {action_type!r}; it can use: "
            f"{', '.join(spec.action_types)}"
        )
    return action_type


ACTION_TYPES = tuple(
    dict.fromkeys(kind for spec in ALGORITHMS.values() for kind in spec.action_types)
)
"""Every action type some SB3 algorithm can use."""


def resolve_model_path(path: str | os.PathLike) -> Path:
    """``path`` itself if a file, else ``path/model.zip``."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path


def is_sb3_run(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an SB3 ``model.zip`` (or a folder holding one)."""
    model_path = resolve_model_path(path)
    return model_path.suffix == ".zip" and model_path.is_file()


def read_run_config(model_path: Path) -> dict[str, Any]:
    """The ``config.json`` beside an SB3 ``model.zip``; ``CheckpointError`` if unreadable."""
    config_path = model_path.parent / CONFIG_FILE
    try:
        return json.loads(config_path.read_text())
    except (OSError, ValueError) as error:
        from agents.checkpoint import CheckpointError  # torch, only on this error path

        raise CheckpointError(
            f"{config_path} is missing or unreadable; it says which env "
            f"and algorithm {model_path} belongs to ({error})"
        ) from error
