"""The scored runs' records, and the settings they group into.

Every scored run leaves a record (``row.json`` in its run folder, and a copy in
``docs/results/rows/``, tracked by git, from which the report is written). The runs of one
training command, up to seed and hardware, form a setting; ``choices`` picks, per paper row,
the best paper-faithful setting and the best of any kind.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.paper_rows import SEED_TABLE_SEEDS, TASKS, TRAIN_DEFAULTS, Row, Task, all_rows
from ram_env.atomic import write_json_atomic

ROW_FILE = "row.json"
RECORDS_DIR = Path(__file__).resolve().parents[1] / "docs" / "results" / "rows"


def budget_minutes(record: dict[str, Any]) -> float:
    """A scored run's ``--minutes``: infinity where its budget was ``--epochs`` alone."""
    minutes = record["budget_minutes"]
    return math.inf if minutes is None else minutes


def budget_text(minutes: float, epochs: int) -> str:
    """A budget as the page and the log name it: ``--train-minutes`` (infinity: none) and
    the ``--epochs`` cap."""
    return f"{epochs} epochs" if math.isinf(minutes) else f"{minutes:g} min or {epochs} epochs"


def record_name(record: dict[str, Any]) -> str:
    """A scored run's file in the store: its run folder, budget and a digest of its command
    (one folder may hold runs of several settings over time, and an extended run has one
    record per budget it was scored at)."""
    flags = record["command"].split()
    folder = Path(flags[flags.index("--out") + 1]).name if "--out" in flags else record["row"]
    digest = hashlib.sha256(record["command"].encode()).hexdigest()[:8]
    minutes = record["budget_minutes"]
    budget = f"{minutes:g}min" if minutes is not None else f"{command_flags(flags)['--epochs']}ep"
    return f"{folder}-{budget}-{digest}.json"


def extended_budgets(record: dict[str, Any]) -> list[float]:
    """The budgets a run was extended from, oldest first (none: it never was)."""
    return record.get("extended_from_minutes", [])


def earlier_devices(record: dict[str, Any]) -> list[str]:
    """The devices a run trained on before its last one, oldest first (none: only one)."""
    return record.get("earlier_device", [])


def keep_records(runs_dir: Path, records_dir: Path) -> int:
    """Copy every scored run under ``runs_dir`` into the store; how many were new."""
    paths = sorted(runs_dir.glob(f"*/{ROW_FILE}"))
    return sum(keep_record(json.loads(path.read_text()), records_dir) for path in paths)


def keep_record(record: dict[str, Any], records_dir: Path) -> bool:
    """Copy one scored run's record into the store; whether it was new there."""
    target = records_dir / record_name(record)
    if target.exists() and json.loads(target.read_text()) == record:
        return False
    records_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(target, record)
    return True


def read_records(records_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stored run by row name: shortest budget first, then seed, then the order they
    were scored in (so of two runs with the same budget the newer comes last, whatever
    seconds their clocks ran over it)."""
    scored: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(records_dir.glob("*.json")):
        record = json.loads(path.read_text())
        scored.setdefault(record["row"], []).append(record)
    for runs in scored.values():
        runs.sort(key=lambda run: (budget_minutes(run), run["seed"], run["scored_at"]))
    return scored


# --------------------------------------------------------------------------- settings

RUN_FLAGS = ("--seed", "--out", "--threads", "--device", "--no-progress", "--resume")
"""Flags in which the runs of one setting may differ: seed, run folder and hardware."""
BUDGET_FLAGS = ("--train-minutes", "--epochs")
FORMER_DEFAULTS = {"--weight-decay": "0", "--std": "0.15", "--precision": "fp32"}
"""The value a recorded command that leaves one of these flags out was trained with. The
recorded command stays as it was typed (its digest names its record file); the report fills
these in, so that every command shown trains the same run with the current train.py, and
so that runs trained alike group into one setting whether or not they name the flag."""


def command_tokens(record: dict[str, Any]) -> list[str]:
    """A record's training command, with the flags of ``FORMER_DEFAULTS`` that it leaves out
    filled in (before ``--seed``), so that it trains the same run with the current train.py."""
    tokens = record["command"].split()
    missing = [
        token
        for flag, value in FORMER_DEFAULTS.items()
        if flag not in tokens
        for token in (flag, value)
    ]
    at = tokens.index("--seed") if "--seed" in tokens else len(tokens)
    return tokens[:at] + missing + tokens[at:]


def command_flags(tokens: list[str]) -> dict[str, str]:
    """A command's ``--flag value`` pairs (a switch's value: ``""``), numbers written alike
    (``4e-3`` and ``0.004`` are one learning rate)."""
    flags = {}
    for index, token in enumerate(tokens):
        if token.startswith("--"):
            value = tokens[index + 1] if index + 1 < len(tokens) else ""
            flags[token] = "" if value.startswith("--") else _same_number(value)
    return flags


def _same_number(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


@dataclass(frozen=True, eq=False)
class Setting:
    """The runs of one training command: one row and its flags, the same budget (and the
    same budgets extended from); the runs differ in seed and hardware only."""

    runs: tuple[dict[str, Any], ...]  # by seed, then in the order they were scored

    @property
    def record(self) -> dict[str, Any]:
        return self.runs[0]

    @property
    def flags(self) -> dict[str, str]:
        return command_flags(command_tokens(self.record))

    @property
    def row(self) -> Row:
        record = self.record
        task = TASKS[record["task"]]
        return Row(task, record["glimpses"], record["random_locations"], record["variant"])

    @property
    def error(self) -> float:
        """Mean one-path test error over the runs."""
        return statistics.fmean(run["error"] for run in self.runs)

    @property
    def mc_errors(self) -> list[float]:
        """The runs' ``--mc`` errors, where they were scored (a few rebuilt records hold null)."""
        return [run["error_mc"] for run in self.runs if run["error_mc"] is not None]

    @property
    def seeds(self) -> int:
        """How many different seeds the setting's runs trained with."""
        return len({run["seed"] for run in self.runs})

    @property
    def faithful(self) -> bool:
        """The paper's model and losses on the paper's task: the ReLU RNN core, no class
        asked of the earlier glimpses, and a random first glimpse (uniform over the image,
        or normal around the centre: both read the paper's "random"); training settings are
        free."""
        flags = self.flags
        paper_loss = float(flags.get("--glimpse-classification-weight", "0")) == 0
        core = flags.get("--core", "rnn")
        return core == "rnn" and paper_loss and flags.get("--first-location", "random") != "center"

    @property
    def budget(self) -> tuple[float, int, int]:
        """(``--train-minutes``, or infinity; the ``--epochs`` cap; budgets extended from):
        of two settings of one family, the larger supersedes the other."""
        flags = self.flags
        minutes = float(flags["--train-minutes"]) if "--train-minutes" in flags else math.inf
        epochs = int(float(flags.get("--epochs", TRAIN_DEFAULTS.epochs)))
        return minutes, epochs, len(extended_budgets(self.record))

    @property
    def shared_flags(self) -> dict[str, str]:
        """The command's flags that every run of the setting shares: not seed, folder or
        hardware."""
        return {flag: value for flag, value in self.flags.items() if flag not in RUN_FLAGS}

    def family(self) -> tuple[Any, ...]:
        """The row and flags up to the budget: the settings of one family differ in budget."""
        kept = self.shared_flags.items()
        return self.record["row"], sorted((f, v) for f, v in kept if f not in BUDGET_FLAGS)

    def rank(self) -> tuple[Any, ...]:
        """Lower is better: mean one-path error, then more runs, then the ``--mc`` error."""
        mc = self.mc_errors
        mc_error = statistics.fmean(mc) if mc else math.inf
        return self.error, -len(self.runs), mc_error, self.record["row"]


def settings_of(records: dict[str, list[dict[str, Any]]]) -> list[Setting]:
    """Every stored run, grouped into settings."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for runs in records.values():
        for record in runs:
            flags = command_flags(command_tokens(record))
            kept = tuple(sorted((f, v) for f, v in flags.items() if f not in RUN_FLAGS))
            key = (record["row"], kept, tuple(extended_budgets(record)))
            grouped.setdefault(key, []).append(record)
    return [
        Setting(tuple(sorted(runs, key=lambda run: (run["seed"], run["scored_at"]))))
        for runs in grouped.values()
    ]


def longest_budgets(settings: list[Setting]) -> list[Setting]:
    """The setting of each family with the largest budget; the others are superseded."""
    longest: dict[str, Setting] = {}
    for setting in settings:
        key = repr(setting.family())
        if key not in longest or setting.budget > longest[key].budget:
            longest[key] = setting
    return list(longest.values())


@dataclass(frozen=True)
class Choice:
    """One paper row and what stands against it: our best paper-faithful setting and our
    best setting of any kind (the same one where the faithful setting is best)."""

    row: Row
    faithful: Setting | None
    best: Setting | None


def choices(task: Task, settings: list[Setting]) -> list[Choice]:
    """The paper rows of ``task``, each with our best settings among the longest budgets; on
    a seed table, among the settings with ``SEED_TABLE_SEEDS`` seeds where the row has any."""

    def best(pool: list[Setting]) -> Setting | None:
        seeded = [setting for setting in pool if setting.seeds >= SEED_TABLE_SEEDS]
        pool = (seeded or pool) if task.seed_table else pool
        return min(pool, key=Setting.rank) if pool else None

    candidates = longest_budgets(settings)
    picked = []
    for row in all_rows("paper"):
        if row.task is not task:
            continue
        mine = [
            setting
            for setting in candidates
            if setting.record["task"] == task.name
            and setting.record["glimpses"] == row.glimpses
            and setting.record["random_locations"] == row.random_locations
        ]
        faithful = [setting for setting in mine if setting.faithful]
        picked.append(Choice(row, best(faithful), best(mine)))
    return picked
