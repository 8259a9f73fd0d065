"""Every setting of a REINFORCE training run, and the choices they take; no torch needed.

Kept apart from the trainer so that ``train.py --help`` and config checks start at once,
without importing torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from agents.cli_common import non_negative_float, positive_float, positive_int
from agents.precision import PRECISIONS
from agents.run_settings import RunSettings
from agents.schedules import LR_SCHEDULES
from agents.settings import setting
from agents.tracks import HYBRID, REWARD_ONLY

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
SETTINGS_BEFORE_THEY_EXISTED = {"weight_decay": 0.0, "precision": "fp32", "compile": False}


@dataclass
class ReinforceConfig(RunSettings):
    """Every setting of a training run; the defaults are the best found on GlimpseMNIST-v0."""

    core: str = setting(
        "rnn", "recurrent core: the paper's relu RNN, an LSTM or a GRU", choices=CORE_TYPES
    )
    hidden_size: int = setting(256, "units of the core", type=positive_int)
    std: float = setting(
        DEFAULT_LOCATION_STD, "std of the Gaussian location policy", type=positive_float
    )
    learn_std: bool = setting(False, "learn the location std")
    locations: str = setting(
        "learned",
        "learned: the Gaussian location policy; random: the paper's control, glimpses at "
        "uniformly random places (nothing learns where to look)",
        choices=LOCATION_POLICIES,
    )
    loss: str = setting(
        "hybrid",
        "hybrid: cross-entropy classifier + REINFORCE locations; "
        "reinforce: the classifier by policy gradient too",
        choices=LOSSES,
    )
    location_weight: float = setting(
        0.03, "weight of the REINFORCE term of the loss (1: the paper's sum)", type=positive_float
    )
    epochs: int = setting(200, "epochs of 50,000 training images", type=positive_int)
    max_images: int | None = setting(
        None, "a hard cap on training images (tests, smoke runs)", type=positive_int, hidden=True
    )
    batch_size: int = setting(1024, "episodes per update", type=positive_int)
    lr: float = setting(
        4e-3, "Adam learning rate (at the start of the schedule)", type=positive_float
    )
    lr_schedule: str = setting(
        "cosine",
        "decay over the run (epochs or --train-minutes, what ends first)",
        choices=LR_SCHEDULES,
    )
    weight_decay: float = setting(
        0.05,
        "decoupled (AdamW) weight decay; each step shrinks the weights by LR x this",
        type=non_negative_float,
    )

    precision: str = setting(
        "auto",
        "bf16: the glimpse network and core in bfloat16 (weights, heads, losses stay fp32); "
        "auto: bf16 for the LSTM core where the CPU or GPU runs bf16 natively, else fp32",
        choices=PRECISIONS,
    )

    compile: bool = setting(
        False,
        "run the model's step through torch.compile (fused kernels; the first updates wait "
        "for the compiler, a C++ one on the CPU)",
    )

    # Settings a --resume may change (the run's length and where it runs); any other
    # setting must stay the run's.
    RESUME_OVERRIDABLE: ClassVar[tuple[str, ...]] = (
        "epochs",
        "train_minutes",
        "max_images",
        "device",
        "threads",
        "precision",
        "compile",
    )

    @property
    def track(self) -> str:
        """``hybrid`` when the classifier trains on the label (``--loss hybrid``), else
        ``reward-only`` (``agents.tracks``)."""
        return HYBRID if self.loss == "hybrid" else REWARD_ONLY

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ReinforceConfig:
        """The config a checkpoint stored; settings it predates get the value it trained with."""
        known = {field.name for field in fields(cls)}
        stored = {key: value for key, value in values.items() if key in known}
        return cls(**{**SETTINGS_BEFORE_THEY_EXISTED, **stored})

    def validate(self) -> None:
        """``ValueError`` naming what cannot run."""
        self.rollouts_per_update()

    def rollouts_per_update(self) -> int:
        num_envs = self.num_envs or self.batch_size
        if self.batch_size % num_envs:
            raise ValueError(
                f"batch_size {self.batch_size} is not a multiple of num_envs {num_envs}"
            )
        return self.batch_size // num_envs
