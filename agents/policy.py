"""``Policy``: the one interface through which every trained agent is scored and drawn.

A policy acts on a batch of episodes of a glimpse vector env::

    action, state = policy(observation, state)

``observation`` is the vector env's dict of arrays (``glimpse``, ``location``, ``time``),
``state`` is ``None`` at the episodes' first step and whatever the policy returned after,
and ``action`` is a batch in the env's action space (``policy.action_type``). Evaluation
(``agents.evaluation``), ``--mc``, ``--plot-glimpses`` and the benchmarks play policies only,
so an algorithm becomes scorable by giving its ``load`` a ``Policy``.

No torch here: a policy of another framework needs none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from gymnasium import spaces


class Policy(Protocol):
    """A trained agent acting on batches of glimpse-env observations."""

    action_type: str
    """The env action type its actions are in (``"box"``, ``"multidiscrete"``, ...)."""

    def __call__(
        self, observation: dict[str, np.ndarray], state: Any | None
    ) -> tuple[np.ndarray, Any]:
        """The actions for a batch of observations, and the state to pass back next step."""

    def seed(self, seed: int) -> None:
        """Seed the policy's own draws for the episodes that start next (sampled paths)."""

    def check_observation_space(self, space: spaces.Space) -> None:
        """``ValueError`` saying why observations of ``space`` do not fit this policy."""


@dataclass
class LoadedPolicy:
    """A policy loaded from a run, with the task it was trained on."""

    policy: Policy
    algo: str
    env_id: str
    env_kwargs: dict[str, Any]
    seed: int
    checkpoint: Path
    eval_batch_size: int = 1000
    details: dict[str, Any] = field(default_factory=dict)  # recorded beside scores
