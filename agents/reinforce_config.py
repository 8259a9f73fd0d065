"""Every setting of a REINFORCE training run, and the choices they take; no torch needed.

Kept apart from the trainer so that ``train.py --help`` and config checks start at once,
without importing torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from agents.schedules import LR_SCHEDULES

__all__ = [
    "CORE_TYPES",
    "DEFAULT_LOCATION_STD",
    "LOCATION_POLICIES",
    "LOSSES",
    "LR_SCHEDULES",
    "ReinforceConfig",
]

CORE_TYPES = ("rnn", "lstm", "gru")
LOCATION_POLICIES = ("learned", "random")
LOSSES = ("hybrid", "reinforce")

DEFAULT_LOCATION_STD = 0.1
"""The location policy's fixed std, in half-widths of the canvas."""


# Settings added after the first checkpoints were written, with the value those runs had:
# a resumed or evaluated old run must not silently pick up a newer default.
SETTINGS_BEFORE_THEY_EXISTED = {"weight_decay": 0.0}


@dataclass
class ReinforceConfig:
    """Every setting of a training run; the defaults are the best found on GlimpseMNIST-v0."""

    env_id: str = "GlimpseMNIST-v0"
    num_glimpses: int | None = None  # None: the env's own setting
    glimpse_size: int | None = None
    num_scales: int | None = None
    first_location: str | None = None  # None: the env's own ("random", as in the paper)
    core: str = "rnn"
    hidden_size: int = 256
    std: float = DEFAULT_LOCATION_STD
    learn_std: bool = False
    locations: str = "learned"  # "random": the paper's control (locations not learned)
    loss: str = "hybrid"
    location_weight: float = 0.03  # weight of the REINFORCE term (1 = the paper's sum)
    epochs: int = 200
    train_minutes: float | None = None
    max_images: int | None = None  # a hard cap on training images (for tests / smoke runs)
    batch_size: int = 1024
    num_envs: int | None = None  # None: batch_size; fewer accumulates several rollouts
    lr: float = 4e-3
    lr_schedule: str = "cosine"
    weight_decay: float = 0.05  # decoupled (AdamW): each step shrinks the weights by lr * wd
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None
    eval_batch_size: int = 1000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ReinforceConfig:
        """The config a checkpoint stored; settings it predates get the value it trained with."""
        known = {field.name for field in fields(cls)}
        stored = {key: value for key, value in values.items() if key in known}
        return cls(**{**SETTINGS_BEFORE_THEY_EXISTED, **stored})

    def env_kwargs(self) -> dict[str, Any]:
        """The env settings this run overrides (the others stay the registered ones)."""
        overrides = {
            "num_glimpses": self.num_glimpses,
            "glimpse_size": self.glimpse_size,
            "num_scales": self.num_scales,
            "first_location": self.first_location,
        }
        return {key: value for key, value in overrides.items() if value is not None}

    def rollouts_per_update(self) -> int:
        num_envs = self.num_envs or self.batch_size
        if self.batch_size % num_envs:
            raise ValueError(
                f"batch_size {self.batch_size} is not a multiple of num_envs {num_envs}"
            )
        return self.batch_size // num_envs
