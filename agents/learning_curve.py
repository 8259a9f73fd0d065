"""``curve.csv``: validation accuracy at fixed env-step counts (``--curve-every STEPS``).

A trainer asks ``due(steps)`` after each update (REINFORCE) or env step (SB3); when the run
has passed the next multiple of ``every`` env steps, it scores the whole validation split
and ``record``s it. Every algorithm so gets its curve at the same step counts (the first
update at or past each one), which is what the benchmark compares and aggregates. A resumed
run keeps the rows its checkpoint covers (``agents.metrics_log``) and carries on from there.
"""

from __future__ import annotations

from pathlib import Path

from agents.metrics_log import MetricsLog, read_rows

CURVE_FILE = "curve.csv"
CURVE_FIELDS = ("steps", "minutes", "val_accuracy")


class LearningCurve:
    """The curve of one run: a row each time it passes a multiple of ``every`` env steps."""

    def __init__(
        self, out_dir: str | Path, every: int, steps_done: int = 0, write: bool = True
    ) -> None:
        """``write=False``: the same points, nothing written (a data-parallel run's other
        ranks, which score their share of each point)."""
        if every < 1:
            raise ValueError(f"curve_every must be a positive number of env steps, got {every}")
        self.every = every
        self.log = None
        if write:
            self.log = MetricsLog(
                Path(out_dir) / CURVE_FILE,
                CURVE_FIELDS,
                keep=lambda row: int(row["steps"]) <= steps_done,
            )
        self.next_steps = self._after(steps_done)

    def _after(self, steps: int) -> int:
        return (steps // self.every + 1) * self.every

    def due(self, steps: int) -> bool:
        """Whether ``steps`` env steps reach the next point of the curve."""
        return steps >= self.next_steps

    def record(self, steps: int, minutes: float, val_accuracy: float) -> None:
        """Append the point scored at ``steps``; the next is the next multiple past it."""
        if self.log is not None:
            row = {"steps": steps, "minutes": round(minutes, 4)}
            self.log.append({**row, "val_accuracy": round(val_accuracy, 3)})
        self.next_steps = self._after(steps)


def read_curve(run_dir: str | Path) -> list[dict[str, float]]:
    """The rows of a run's ``curve.csv`` as numbers (none if it has no curve)."""
    return [
        {"steps": int(row["steps"]), **{key: float(row[key]) for key in CURVE_FIELDS[1:]}}
        for row in read_rows(Path(run_dir) / CURVE_FILE)
    ]
