"""Every setting of a Stable-Baselines3 run, declared once; no torch or SB3 needed.

An SB3 algorithm's own hyper-parameters are the registry's (``agents.sb3_registry``),
overridden with ``--hyperparams JSON``; ``--lr`` and ``--lr-schedule`` (and, for the
recurrent algorithms, ``--core`` and ``--hidden-size``) are the common ones given a flag.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, fields
from typing import Any

from agents.cli_common import non_negative_int, positive_float, positive_int
from agents.reinforce_config import CORE_TYPES
from agents.run_settings import RunSettings
from agents.sb3_registry import ACTION_TYPES, get_spec, resolve_action_type
from agents.schedules import LR_SCHEDULES
from agents.settings import setting


def json_object(text: str) -> dict[str, Any]:
    """A JSON object given on the command line."""
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object")
    return value


# (flag's setting) -> (where in the hyper-parameters it goes, SB3's name for it)
FLAG_HYPERPARAMS = {
    "lr": (None, "learning_rate"),
    "lr_schedule": (None, "lr_schedule"),
    "core": ("policy_kwargs", "core"),
    "hidden_size": ("policy_kwargs", "hidden_size"),
}


@dataclass
class SB3Config(RunSettings):
    """An SB3 run: the algorithm (``algo``, from ``--algo``), its task, budget and overrides."""

    algo: str = "ppo"  # set from --algo; not a flag of its own
    total_timesteps: int | None = setting(
        None,
        "env steps to train (default: the algorithm's, unless --train-minutes is given; with "
        "both, the first reached stops)",
        type=positive_int,
    )
    action_type: str | None = setting(
        None, "the env's action encoding (default: the algorithm's)", choices=ACTION_TYPES
    )
    reward: str | None = setting(
        None, "the env's reward (default: sparse, the paper's)", choices=("sparse", "dense")
    )
    lr: float | None = setting(
        None, "learning rate (default: the algorithm's, below)", type=positive_float
    )
    lr_schedule: str | None = setting(
        None,
        "decay of the learning rate over the budget (default: the algorithm's, below)",
        choices=LR_SCHEDULES,
    )
    hyperparams: dict[str, Any] | None = setting(
        None,
        'override the algorithm\'s settings, e.g. \'{"n_epochs": 2, "policy_kwargs": {...}}\'',
        type=json_object,
        metavar="JSON",
    )
    val_images: int = setting(
        1000, "validation images scored at each metrics.csv row (0: none)", type=non_negative_int
    )
    log_interval: float = setting(
        30.0, "seconds between metrics.csv rows", type=positive_float, metavar="SECONDS"
    )

    def env_kwargs(self) -> dict[str, Any]:
        kwargs = super().env_kwargs()
        if self.reward is not None:
            kwargs["reward"] = self.reward
        return kwargs

    def resolved_action_type(self) -> str:
        return resolve_action_type(self.algo, self.action_type)

    def overrides(self) -> dict[str, Any]:
        """``--hyperparams`` with the flags that set hyper-parameters folded in.

        ``ValueError`` when a flag and ``--hyperparams`` set the same one.
        """
        merged = json.loads(json.dumps(self.hyperparams or {}))  # a deep copy
        for name, (where, key) in FLAG_HYPERPARAMS.items():
            value = getattr(self, name, None)
            if value is None:
                continue
            section = merged if where is None else merged.setdefault(where, {})
            if key in section:
                flag = "--" + name.replace("_", "-")
                raise ValueError(f"{flag} and --hyperparams both set {key}; give it once")
            section[key] = value
        return merged

    @classmethod
    def describe(cls, algo: str) -> str:
        """The algorithm's own settings, for the end of ``train.py --algo ALGO --help``."""
        spec = get_spec(algo)
        flags = "/".join(
            "--" + name.replace("_", "-")
            for name in FLAG_HYPERPARAMS
            if name in {field.name for field in fields(cls)}
        )
        settings = ", ".join(f"{key}={value!r}" for key, value in spec.hyperparams.items())
        policy = ", ".join(f"{key}={value!r}" for key, value in spec.policy_kwargs.items())
        tasks = "".join(
            f" On {env_id}: {', '.join(f'{key}={value!r}' for key, value in changes.items())}."
            for env_id, changes in spec.task_hyperparams.items()
        )
        return (
            f"{algo}: {spec.summary}. Its settings (change them with --hyperparams JSON, or "
            f"{flags}): {settings}; policy {spec.policy_name}({policy}); {spec.num_envs} envs, "
            f"{spec.default_timesteps:,} steps unless --total-timesteps or --train-minutes."
            f"{tasks}"
        )

    def validate(self, world_size: int = 1) -> None:
        """``ValueError`` naming what cannot run (SB3 trains in one process)."""
        if world_size > 1:
            raise ValueError(
                f"--algo {self.algo} trains in one process, not over the {world_size} ranks "
                "torchrun started; run it without torchrun (--algo reinforce runs on several)"
            )
        get_spec(self.algo)
        self.resolved_action_type()
        self.overrides()


@dataclass
class RecurrentSB3Config(SB3Config):
    """An SB3 run of a recurrent policy: the core's kind and size have flags too."""

    core: str | None = setting(
        None, "recurrent core of the policy (default: the algorithm's, below)", choices=CORE_TYPES
    )
    hidden_size: int | None = setting(
        None, "units of the core (default: the algorithm's, below)", type=positive_int
    )
