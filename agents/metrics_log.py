"""``metrics.csv``: the one log format of every trainer, a row at a time, synced to disk.

A run killed at any moment leaves every row appended before it; a resumed run first drops
the rows its checkpoint does not cover, so the log stays the run's own history.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class MetricsLog:
    """A CSV log with the columns ``fields``; rows of an earlier file that ``keep`` accepts
    stay (a resume), any others are dropped."""

    def __init__(
        self,
        path: Path,
        fields: Sequence[str],
        keep: Callable[[dict[str, str]], bool] | None = None,
    ) -> None:
        self.path, self.fields = Path(path), tuple(fields)
        rows = []
        if keep is not None and self.path.exists():
            with self.path.open(newline="") as file:
                rows = [row for row in csv.DictReader(file) if keep(row)]
        with self.path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.fields)
            writer.writeheader()
            writer.writerows(rows)

    def append(self, row: dict[str, Any]) -> None:
        with self.path.open("a", newline="") as file:
            csv.DictWriter(file, fieldnames=self.fields).writerow(row)
            file.flush()
            os.fsync(file.fileno())


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a log (none if the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))
