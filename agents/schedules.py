"""Learning-rate schedules over a run's budget, shared by every trainer (no torch needed)."""

from __future__ import annotations

import math

LR_SCHEDULES = ("constant", "cosine", "linear")


def scheduled_lr(initial: float, kind: str, progress: float) -> float:
    """The LR at ``progress`` in [0, 1] of the run: ``cosine`` and ``linear`` decay to 0."""
    if kind not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {kind!r}")
    progress = min(max(progress, 0.0), 1.0)
    if kind == "cosine":
        return initial * 0.5 * (1.0 + math.cos(math.pi * progress))
    if kind == "linear":
        return initial * (1.0 - progress)
    return initial
