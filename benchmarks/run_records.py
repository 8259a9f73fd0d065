"""The record of one benchmark run: one JSON file per (task, algorithm, seed, budget), in git.

Run folders are scratch space; the records (``docs/benchmark/runs/*.json``) are what the page
and plots are rebuilt from, on any machine. A record holds what the run was (task, entry,
track, seed, budget, the exact ``train.py`` commands and the settings they resolved to), what
it did (env steps, minutes, wall seconds, times resumed), what it scored (the final weights'
test accuracy on the 10,000 fixed test canvases, and the validation accuracy at each curve
point) and where (machine, threads, runs side by side, versions, git commit).

Records are written atomically and read back before they count (``write_record``); a file
that is not a valid record is an error naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agents.tracks import check_track
from benchmarks.protocol import steps_label, task_protocol
from ram_env.atomic import write_json_atomic

RECORD_FORMAT = "ram-env-benchmark-run/1"


class RecordError(ValueError):
    """A file that is not a valid benchmark record."""


@dataclass(frozen=True)
class CurvePoint:
    """Validation accuracy (whole split) when the run had trained ``steps`` env steps."""

    steps: int
    minutes: float
    val_accuracy: float

    def __post_init__(self) -> None:
        numbers = (self.minutes, self.val_accuracy)
        if not isinstance(self.steps, int) or not all(
            isinstance(value, (int, float)) and not isinstance(value, bool) for value in numbers
        ):
            raise ValueError(f"a curve point is (int steps, minutes, accuracy), got {self}")
        if not 0.0 <= self.val_accuracy <= 100.0:
            raise ValueError(f"val_accuracy {self.val_accuracy} is not a percentage")


@dataclass(frozen=True)
class RunRecord:
    """One finished, scored benchmark run."""

    task: str  # env id
    entry: str  # the benchmark's algorithm (benchmarks.lineup)
    algo: str  # train.py --algo
    track: str  # reward-only or hybrid, as the run recorded it
    seed: int
    budget_steps: int  # the protocol's budget for this run
    reduced_budget: bool  # below the protocol's full budget
    steps: int  # env steps trained
    minutes: float  # training wall-clock minutes (curve scoring included)
    wall_seconds: float  # training and test scoring, process start-up included
    test_accuracy: float  # final weights, the fixed test canvases, one path each
    test_images: int
    curve: tuple[CurvePoint, ...]
    command: tuple[str, ...]  # train.py ... as run (relative to the repository)
    eval_command: tuple[str, ...]
    settings: dict[str, Any]  # what the run resolved its settings to (action type, ...)
    hardware: dict[str, Any]  # machine, cpus, threads, runs side by side, device
    versions: dict[str, str]
    commit: str  # git commit of the code that ran ("" if unknown)
    date: str  # YYYY-MM-DD
    resumed: int = 0  # times the training was carried on after a stop
    format: str = field(default=RECORD_FORMAT)

    def __post_init__(self) -> None:
        _check_types(self)
        task_protocol(self.task)  # a task of the benchmark
        check_track(self.track)
        if self.format != RECORD_FORMAT:
            raise ValueError(f"format {self.format!r} is not {RECORD_FORMAT!r}")
        if self.seed < 0 or self.budget_steps < 1 or self.steps < 0 or self.test_images < 1:
            raise ValueError("seed, budget, steps and test images must be non-negative/positive")
        if not 0.0 <= self.test_accuracy <= 100.0:
            raise ValueError(f"test_accuracy {self.test_accuracy} is not a percentage")

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.task, self.entry, self.seed, self.budget_steps)

    @property
    def file_name(self) -> str:
        return record_name(self.task, self.entry, self.seed, self.budget_steps)

    @property
    def steps_per_second(self) -> float:
        return self.steps / max(60.0 * self.minutes, 1e-9)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """A record from its JSON object; ``RecordError`` naming what is wrong."""
        if not isinstance(data, dict):
            raise RecordError("a record is a JSON object")
        names = {item.name for item in fields(cls)}
        required = {item.name for item in fields(cls) if item.name not in ("resumed", "format")}
        missing, unknown = sorted(required - set(data)), sorted(set(data) - names)
        if missing or unknown:
            raise RecordError(f"missing fields {missing}, unknown fields {unknown}")
        values = dict(data)
        try:
            values["curve"] = tuple(CurvePoint(**point) for point in data["curve"])
            values["command"] = tuple(data["command"])
            values["eval_command"] = tuple(data["eval_command"])
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise RecordError(str(error)) from error


_TYPES = {
    "task": str, "entry": str, "algo": str, "track": str, "seed": int, "budget_steps": int,
    "reduced_budget": bool, "steps": int, "minutes": (int, float), "wall_seconds": (int, float),
    "test_accuracy": (int, float), "test_images": int, "settings": dict, "hardware": dict,
    "versions": dict, "commit": str, "date": str, "resumed": int,
}  # fmt: skip


def _check_types(record: RunRecord) -> None:
    for name, kind in _TYPES.items():
        value = getattr(record, name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise RecordError(f"{name} is {value!r}, not of type {kind}")


def record_name(task: str, entry: str, seed: int, budget_steps: int) -> str:
    """``<task>-<entry>-seed<S>-<budget>.json``, e.g. ``mnist-ppo-seed0-3M.json``."""
    return f"{task_protocol(task).name}-{entry}-seed{seed}-{steps_label(budget_steps)}.json"


def write_record(record: RunRecord, records_dir: Path) -> Path:
    """Write ``record`` atomically into ``records_dir`` and check it reads back the same."""
    path = write_json_atomic(Path(records_dir) / record.file_name, record.to_dict())
    if read_record(path) != record:
        raise RecordError(f"{path} does not read back as the record written")
    return path


def read_record(path: Path) -> RunRecord:
    """The record in ``path``; ``RecordError`` naming the file otherwise."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise RecordError(f"{path}: unreadable ({error})") from error
    try:
        record = RunRecord.from_dict(data)
    except RecordError as error:
        raise RecordError(f"{path}: not a benchmark record: {error}") from error
    if Path(path).name != record.file_name:
        raise RecordError(f"{path}: holds the record of {record.file_name}")
    return record


def read_records(records_dir: Path) -> list[RunRecord]:
    """Every record in ``records_dir`` (none if it does not exist), sorted by key."""
    records_dir = Path(records_dir)
    if not records_dir.exists():
        return []
    return sorted((read_record(path) for path in records_dir.glob("*.json")), key=_sort_key)


def _sort_key(record: RunRecord) -> tuple:
    return (record.task, record.entry, record.budget_steps, record.seed)
