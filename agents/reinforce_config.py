"""Every setting of a REINFORCE training run, and the choices they take; no torch needed.

Kept apart from the trainer so that ``train.py --help`` and config checks start at once,
without importing torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from agents.cli_common import discount_factor, non_negative_float, positive_float, positive_int
from agents.precision import PRECISIONS
from agents.run_settings import RunSettings
from agents.schedules import LR_SCHEDULES
from agents.settings import setting
from agents.tracks import HYBRID, REWARD_ONLY
from ram_env.registration import CATCH_ENV_IDS

__all__ = [
    "CATCH_DEFAULTS",
    "REWARD_ONLY_DEFAULTS",
    "CORE_TYPES",
    "GLIMPSE_INPUTS",
    "DEFAULT_LOCATION_STD",
    "LOCATION_POLICIES",
    "LOSSES",
    "LR_SCHEDULES",
    "ReinforceConfig",
]

CORE_TYPES = ("rnn", "lstm", "gru")
GLIMPSE_INPUTS = ("mean", "sum")
LOCATION_POLICIES = ("learned", "random")
LOSSES = ("hybrid", "reinforce")

DEFAULT_LOCATION_STD = 0.1
"""The location policy's fixed std, in half-widths of the canvas."""


# Settings added after the first checkpoints were written, with the value those runs had:
# a resumed or evaluated old run must not silently pick up a newer default.
SETTINGS_BEFORE_THEY_EXISTED = {
    "weight_decay": 0.0,
    "precision": "fp32",
    "compile": False,
    "entropy_weight": 0.0,
    "discount": 1.0,
    "baseline_trains_core": False,
    "glimpse_input": "mean",
    "glimpse_classification_weight": 0.0,
}

CATCH_DEFAULTS: dict[str, Any] = {
    "core": "lstm",  # the paper's core for the game
    "loss": "reinforce",  # no label: moves and locations both learn from the reward alone
    # Without these two the full game stays at chance (8.5%) for 400k games; with them it
    # climbs past 30% in 340k (seed 0, 1 thread): the core learns the screen from the
    # baseline's error, and the coarse scales see the lone ball pixel.
    "baseline_trains_core": True,
    "glimpse_input": "sum",
    # Probed on scaled-down games (12x12, 8x8) only: location noise and the location term's
    # gradient in the core slowed the moves' learning, an entropy bonus kept the move
    # policy from collapsing early.
    "std": 0.05,
    "location_weight": 0.01,
    "entropy_weight": 0.01,
    "batch_size": 256,
    "lr": 2e-3,
    "weight_decay": 0.0,
}
"""The defaults ``GlimpseCatch-v0`` runs with in place of the classification ones, for every
setting not given on the command line (``ReinforceConfig.with_task_defaults``)."""

REWARD_ONLY_DEFAULTS: dict[str, Any] = {
    # Without a bonus the sampled class settles on one class within the first epoch and the
    # run stays at chance; batch 256 gets 4x the updates of 1024 from the same images.
    "entropy_weight": 0.3,
    "batch_size": 256,
}
"""The defaults a classification task runs with under ``--loss reinforce`` (the class learnt
from the reward alone), for every setting not given on the command line."""


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
    glimpse_input: str = setting(
        "mean",
        "what the glimpse network reads of each scale: the retina's block means, or their "
        "sums (scale i times 4**i, so a lone bright pixel reads the same at every scale)",
        choices=GLIMPSE_INPUTS,
    )
    baseline_trains_core: bool = setting(
        False,
        "let the baseline's squared error train the core too (a critic's auxiliary signal; "
        "the paper's baseline reads h_t without changing it)",
    )
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
    entropy_weight: float = setting(
        0.0,
        "weight of an entropy bonus on the sampled decisions (--loss reinforce: the class, or "
        "Catch's moves); keeps them exploring early on",
        type=non_negative_float,
    )
    glimpse_classification_weight: float = setting(
        0.0,
        "weight of a cross-entropy on the class read from every earlier hidden state (h_t, "
        "t < T) beside the last; 0: the paper's loss (--loss hybrid only)",
        type=non_negative_float,
    )
    discount: float = setting(
        1.0,
        "gamma: a decision or location t steps before the episode's end is credited with "
        "gamma**t times the reward (1: the whole reward, the paper's REINFORCE)",
        type=discount_factor,
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

    def with_task_defaults(self, typed: set[str]) -> ReinforceConfig:
        """This config with its task's own defaults in place of the classification ones, for
        the settings not in ``typed`` (those given): ``CATCH_DEFAULTS`` for Catch,
        ``REWARD_ONLY_DEFAULTS`` for a classification task under ``--loss reinforce``."""
        if self.is_catch():
            defaults = CATCH_DEFAULTS
        elif self.loss == "reinforce":
            defaults = REWARD_ONLY_DEFAULTS
        else:
            return self
        for name, value in defaults.items():
            if name not in typed:
                setattr(self, name, value)
        return self

    @classmethod
    def describe(cls, algo: str) -> str:
        """The task defaults, for the end of ``train.py --algo reinforce --help``."""
        catch, reward_only = (
            ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in defaults.items())
            for defaults in (CATCH_DEFAULTS, REWARD_ONLY_DEFAULTS)
        )
        return (
            f"With --env {' or '.join(CATCH_ENV_IDS)} the defaults are: {catch}. "
            f"With --loss reinforce on a classification task: {reward_only}."
        )

    def is_catch(self) -> bool:
        return self.env_id in CATCH_ENV_IDS

    def validate(self, world_size: int = 1) -> None:
        """``ValueError`` naming what cannot run, here or split over ``world_size``
        data-parallel processes (torchrun's ranks)."""
        self.rollouts_per_update()
        self.envs_per_rank(world_size)
        if self.glimpse_classification_weight and (self.loss != "hybrid" or self.is_catch()):
            raise ValueError(
                "--glimpse-classification-weight trains the classifier on the label: it needs "
                "--loss hybrid on a classification task"
            )
        if self.is_catch():
            if self.loss != "reinforce":
                raise ValueError(
                    f"{self.env_id} has no labels: its moves learn from the reward alone; use "
                    "--loss reinforce (its default)"
                )
            if self.num_glimpses is not None:
                raise ValueError(
                    f"--glimpses does not apply to {self.env_id}: a game lasts until the ball "
                    "reaches the bottom row (screen size - 1 steps)"
                )

    def envs_per_rank(self, world_size: int) -> int:
        """The envs each of ``world_size`` ranks steps: an equal share of every batch."""
        num_envs = self.num_envs or self.batch_size
        if num_envs % world_size:
            name = "num_envs" if self.num_envs else "batch_size"
            raise ValueError(
                f"{name} {num_envs} does not split evenly over the {world_size} ranks torchrun "
                f"started; each rank plays an equal share: give a multiple of {world_size}"
            )
        return num_envs // world_size

    def rollouts_per_update(self) -> int:
        num_envs = self.num_envs or self.batch_size
        if self.batch_size % num_envs:
            raise ValueError(
                f"batch_size {self.batch_size} is not a multiple of num_envs {num_envs}"
            )
        return self.batch_size // num_envs
