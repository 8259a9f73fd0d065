"""Where torchrun placed this process: its rank among the run's processes, read from the
environment variables torchrun sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``LOCAL_WORLD_SIZE``). No torch here, so ``train.py`` checks a launch before importing it.

A process started without torchrun is rank 0 of 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")


class LaunchError(RuntimeError):
    """A data-parallel launch that cannot run as started (a batch that does not split over
    the ranks, a rank without a GPU, ranks given different settings)."""


class RankLost(RuntimeError):
    """Another process of a data-parallel run stopped answering (it died or was killed)."""


@dataclass(frozen=True)
class Launch:
    """This process's place in a run: ``rank`` of ``world_size`` processes, ``local_rank``
    of the ``local_world_size`` on its own machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank {self.rank} of world size {self.world_size} is no place")
        if self.local_world_size < 1 or not 0 <= self.local_rank < self.local_world_size:
            raise ValueError(
                f"local rank {self.local_rank} of {self.local_world_size} local processes is "
                "no place"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Launch:
        """The launch torchrun describes in ``environ`` (default: ``os.environ``); rank 0 of
        1 where it set nothing. ``ValueError`` naming a variable that is missing or not a
        whole number."""
        environ = os.environ if environ is None else environ
        given = [name for name in LAUNCH_VARIABLES if name in environ]
        if not given:
            return cls()
        missing = [name for name in LAUNCH_VARIABLES if name not in environ]
        if missing:
            raise ValueError(
                f"{', '.join(given)} set but not {', '.join(missing)}: start data-parallel "
                "runs with torchrun, which sets them all"
            )
        values = {}
        for name in LAUNCH_VARIABLES:
            try:
                values[name.lower()] = int(environ[name])
            except ValueError:
                raise ValueError(f"{name}={environ[name]!r} is not a whole number") from None
        return cls(**values)

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run's files and prints its progress."""
        return self.rank == 0

    def default_threads(self, cpu_count: int | None = None, busy_cores: float = 0.0) -> int:
        """Torch threads per process: this machine's cores less those ``busy_cores`` other
        work keeps busy, shared among its processes, at least 1 and at most 4 (the model's
        matrices are too small to gain from more)."""
        cores = cpu_count if cpu_count is not None else self.cpu_count()
        free = cores - round(busy_cores)
        return max(1, min(4, free // self.local_world_size))

    @staticmethod
    def cpu_count() -> int:
        """The cores this process may run on (its CPU affinity where the OS has one)."""
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0)) or 1
        return os.cpu_count() or 1
