"""Every algorithm ``train.py`` can run: one line each, nothing imported until it is used.

An algorithm is a module under ``agents/`` with::

    RUN_FILE                       the file a run folder of it holds (how runs are recognised)
    train(config, run_dir, resume=False, progress_bar=True) -> summary dict
    load(path, device="cpu", sample_paths=False, precision="auto") -> agents.policy.LoadedPolicy

and a config dataclass whose fields are declared with ``agents.settings.setting`` (the CLI
is generated from them). ``stored_config(run_dir)`` is optional: with it, ``--resume``
carries a run on. The config class lives in a torch-free module, so that ``--help`` and
flag checks start at once. See ``docs/architecture.md`` for a worked example.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from agents.sb3_registry import ALGORITHMS as SB3_SPECS
from agents.sb3_registry import is_sb3_run, load_object, read_run_config, resolve_model_path


@dataclass(frozen=True)
class Algorithm:
    """Where an algorithm lives: its module and its config class (``"module:Class"``)."""

    name: str
    module: str
    config: str
    summary: str

    def load_module(self) -> ModuleType:
        return importlib.import_module(self.module)

    def config_class(self) -> type:
        return load_object(self.config)


def _sb3(name: str) -> Algorithm:
    spec = SB3_SPECS[name]
    config = "RecurrentSB3Config" if spec.ram_core else "SB3Config"
    return Algorithm(name, "agents.sb3_algorithms", f"agents.sb3_config:{config}", spec.summary)


ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm(
            "reinforce",
            "agents.reinforce",
            "agents.reinforce_config:ReinforceConfig",
            "the paper's agent (glimpse net, RNN core, Gaussian locations) by REINFORCE",
        ),
        *(_sb3(name) for name in SB3_SPECS),
    )
}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name``; ``ValueError`` listing the known ones otherwise."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


def algorithm_of_run(path: str | Path) -> Algorithm:
    """The algorithm that wrote ``path``: an SB3 ``model.zip`` (or its folder) has it in the
    ``config.json`` beside it, a checkpoint stores it. ``CheckpointError`` if neither says."""
    from agents.checkpoint import CheckpointError, load_checkpoint

    if is_sb3_run(path):
        name = read_run_config(resolve_model_path(path)).get("algo", "")
    else:
        name = load_checkpoint(path)["algo"]
    if name not in ALGORITHMS:
        raise CheckpointError(f"{path} was written by {name!r}, which this code does not know")
    return ALGORITHMS[name]
