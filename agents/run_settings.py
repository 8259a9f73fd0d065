"""The settings every algorithm's run has: which task, which seed, where and how long.

Each algorithm's config dataclass extends ``RunSettings``, so these flags are declared once
for all of them (``agents.settings``). No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.cli_common import (
    device_name,
    env_id,
    non_negative_int,
    positive_float,
    positive_int,
)
from agents.settings import setting
from ram_env.episodes import FIRST_LOCATIONS

DEFAULT_ENV_ID = "GlimpseMNIST-v0"
ENV_SETTINGS = ("num_glimpses", "glimpse_size", "num_scales", "first_location")
"""The env keyword arguments a run can override (None: the registered env's own)."""


@dataclass
class RunSettings:
    """The task (an env id and the env settings it overrides) and how the run is run."""

    env_id: str = setting(DEFAULT_ENV_ID, "env id", flag="--env", type=env_id)
    num_glimpses: int | None = setting(
        None, "glimpses per episode (default: the env's)", flag="--glimpses", type=positive_int
    )
    glimpse_size: int | None = setting(
        None, "glimpse side in pixels (default: the env's)", type=positive_int
    )
    num_scales: int | None = setting(
        None, "retina scales (default: the env's)", flag="--scales", type=positive_int
    )
    first_location: str | None = setting(
        None,
        "where the first glimpse goes: uniformly at random, as in the paper, the centre, or "
        "normal around the centre with std 0.25 (default: the env's, random)",
        choices=FIRST_LOCATIONS,
    )
    seed: int = setting(0, "seeds weights, episodes and exploration", type=non_negative_int)
    train_minutes: float | None = setting(
        None, "wall-clock budget; stop cleanly, save and validate when used", type=positive_float
    )
    num_envs: int | None = setting(
        None,
        "parallel envs (default: the algorithm's; reinforce: the batch size, which they "
        "must divide)",
        type=positive_int,
    )
    device: str = setting("cpu", "torch device of the model", type=device_name)
    threads: int | None = setting(
        None,
        "torch threads (default: the cores not busy with other work when it starts, "
        "at most 4; set it for trainings that start together)",
        type=positive_int,
    )
    eval_batch_size: int = setting(
        1000, "episodes per batch when scoring a split", type=positive_int
    )
    curve_every: int | None = setting(
        None,
        "a learning curve at fixed step counts: each time the run passes a multiple of this "
        "many env steps, score the whole validation split into curve.csv",
        type=positive_int,
        metavar="STEPS",
    )

    def with_task_defaults(self, typed: set[str]) -> RunSettings:
        """The config with its task's own defaults for the settings not typed (none here; an
        algorithm's config may have some, e.g. REINFORCE's for Catch)."""
        return self

    def env_kwargs(self) -> dict[str, Any]:
        """The env settings this run overrides (the others stay the registered ones)."""
        overrides = {name: getattr(self, name) for name in ENV_SETTINGS}
        return {key: value for key, value in overrides.items() if value is not None}
