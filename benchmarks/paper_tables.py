"""The RAM rows of the paper's four tables, trained with ``train.py`` and scored side by side.

    python benchmarks/paper_tables.py                                  # every row
    python benchmarks/paper_tables.py --only cluttered60 --glimpses 6  # one row
    python benchmarks/paper_tables.py --only mnist --minutes 6 --threads 1
    python benchmarks/paper_tables.py --only translated --variant lstm  # beyond the paper
    python benchmarks/paper_tables.py --report-only                    # rewrite the report

Each row is a run folder ``RUNS/<task>-g<glimpses>[-random][-<variant>]-seed<S>`` made by
exactly what a user types::

    python train.py --algo reinforce --env ENV --glimpses N --seed S --train-minutes M ...
    python train.py --eval RUN/best.pt --split test            # one path (mean locations)
    python train.py --eval RUN/best.pt --split test --mc 10    # 10 sampled paths averaged

An interrupted row is resumed from its ``last.pt`` (``--resume``); resumed with a longer
``--minutes`` than it started with, it is marked *extended* in the report. A scored row
(``row.json`` present) is skipped, so the script can be stopped and started at will and
rows can be run in separate invocations with different budgets: every row records its own.
``--extend`` trains a scored row on to a longer ``--minutes`` and scores it again (its
shorter budget's record stays). ``--minutes none`` leaves the budget to ``--epochs`` alone:
a setting whose runs see the same images on any hardware, as the seed tables need.
``--carry-on-from RUN_DIR`` starts the one selected row from a run trained elsewhere, e.g.
a GPU run brought back into ``runs/gpu``, and carries it on here; run again after an
interruption, the same command resumes it. Stop it with a SIGTERM or Ctrl-C to its
process group: the training under way saves its ``last.pt``, no further row starts, and the
report is still written.

Run folders are scratch space that a new machine does not have; every scored run's record
is also kept in ``docs/results/rows/`` (tracked by git), and the report is written from
there. Scored runs brought back from elsewhere (a GPU machine's ``runs/gpu``) join the
store with ``--report-only --runs-dir DIR``.

Writes ``--out`` (default ``docs/results.md``) from the store alone: the runs grouped into
settings (one training command, any seed and hardware: mean over its runs, every run
listed); per task, each paper row against our best paper-faithful setting and our best
overall, among the longest budget of each setting; a summary; and an appendix of every run
(superseded ones included) with its recorded command. Beside it, ``results/<task>.png``
(test error against glimpses, paper and ours, matplotlib) and, for the cluttered tasks,
``results/<row>-paths.gif`` (glimpse paths on test digits).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from agents.checkpoint import load_checkpoint
from agents.precision import resolve_precision
from agents.reinforce_config import ReinforceConfig
from agents.stop import StopRequest
from benchmarks.logged_run import run_logged
from benchmarks.paper_gap import gap_lines, glimpses_text, mean_images, millions, pair_lines
from ram_env.atomic import write_atomic, write_json_atomic

ROOT = Path(__file__).resolve().parents[1]

TRAIN_DEFAULTS = ReinforceConfig()
ROW_FILE = "row.json"
EVAL_FILE = "eval-test.json"  # what train.py --eval --split test writes
EVAL_FILES = "eval-test*.json"  # that and the per-checkpoint, per-path-count copies
RECORDS_DIR = ROOT / "docs" / "results" / "rows"
EXTENDED_FILE = "extended.json"
SPELLED_OUT_DEFAULTS = {
    "--batch-size": str(TRAIN_DEFAULTS.batch_size),
    "--lr": f"{TRAIN_DEFAULTS.lr:g}",
    "--weight-decay": f"{TRAIN_DEFAULTS.weight_decay:g}",
    "--std": f"{TRAIN_DEFAULTS.std:g}",
}
"""train.py's tuned settings, which every row's command names even where its variant keeps
them, so that a recorded command trains the same run whatever train.py's defaults become."""
LSTM_B512 = ["--core", "lstm", "--batch-size", "512", "--lr", "3e-3"]
VARIANTS = {  # name -> the train.py flags it sets over ``SPELLED_OUT_DEFAULTS``
    # The paper's model (ReLU RNN core) trained with train.py's tuned REINFORCE settings.
    "paper": [],
    # The LSTM core of the public re-implementations, in place of the paper's RNN.
    "lstm": ["--core", "lstm"],
    # The weight of the location (REINFORCE) loss. 1: the paper's plain sum of the losses.
    # 0.15-0.5 (5-17x the tuned 0.03): for the 2-3 glimpse MNIST rows, where each location
    # decides more of the answer.
    **{f"loc-w{weight}": ["--location-weight", weight] for weight in ("1", "0.3", "0.15", "0.5")},
    # A 4x batch with a higher LR, to keep a GPU busy.
    "b512": ["--batch-size", "512", "--lr", "3e-3"],
    "lstm-b512": LSTM_B512,
    # Stronger weight decay for the long LSTM runs, which overfit (99.9% train accuracy).
    **{f"lstm-b512-wd{wd}": [*LSTM_B512, "--weight-decay", wd] for wd in ("0.1", "0.2")},
    # That with the location noise of translated-6's 1.15% run, trained before train.py's std
    # became 0.1: the seed tables' translated setting.
    "lstm-b512-wd0.1-std0.15": [*LSTM_B512, "--weight-decay", "0.1", "--std", "0.15"],
    # Not the paper's loss: the class asked of every earlier hidden state too, a denser
    # signal for the core on the multi-scale tasks.
    "lstm-b512-wd0.1-gcw0.5": [
        *LSTM_B512,
        "--weight-decay",
        "0.1",
        "--glimpse-classification-weight",
        "0.5",
    ],  # fmt: skip
    # The location noise in training: with 2-3 glimpses the sampled training paths score well
    # below the mean paths scored at test. 0.15 is the std of the runs whose commands name
    # none (``FORMER_DEFAULTS``), so it trains those settings again.
    **{f"std{std}": ["--std", std] for std in ("0.15", "0.1", "0.07")},
    # Not the paper's task: the first glimpse at the centre, to measure what a random first
    # glimpse costs the short MNIST episodes (2-3 glimpses).
    "center-first": ["--first-location", "center"],
    # The paper's random first glimpse read as normal around the centre (std 0.25) instead
    # of uniform over the image (the env's default); both are paper-faithful.
    "gaussian-first": ["--first-location", "gaussian"],
    "gaussian-first-loc-w0.15": ["--first-location", "gaussian", "--location-weight", "0.15"],
}
# The paper's other models, as its tables name them.
FC64, FC256, CONV = "FC, 2 layers (64 each)", "FC, 2 layers (256 each)", "Conv, 2 layers"


@dataclass(frozen=True)
class Task:
    """One of the paper's four tables."""

    name: str
    env_id: str
    title: str
    paper_errors: dict[int, float]  # glimpses -> the paper's RAM test error (%)
    random_control: float | None = None  # the paper's random-locations error, if it has one
    target: tuple[int, float] | None = None  # (glimpses, error %) this project must reach
    paper_others: tuple[tuple[str, float], ...] = ()  # the paper's non-RAM models: name, error
    seed_table: bool = False  # a row's figure is a mean over SEED_TABLE_SEEDS seeds or more


TASKS = {
    task.name: task
    for task in (
        Task(
            "mnist", "GlimpseMNIST-v0", "28x28 MNIST (8x8 glimpses, 1 scale)",
            {2: 3.79, 3: 1.51, 4: 1.54, 5: 1.34, 6: 1.12, 7: 1.07},
            paper_others=((FC256, 1.69), (CONV, 1.21)), seed_table=True,
        ),
        Task(
            "translated", "GlimpseTranslatedMNIST-v0", "60x60 translated MNIST (12x12, 3 scales)",
            {4: 1.54, 6: 1.22, 8: 1.20}, target=(6, 1.2),
            paper_others=((FC64, 6.42), (FC256, 2.63), (CONV, 1.62)), seed_table=True,
        ),
        Task(
            "cluttered60", "GlimpseClutteredMNIST-v0",
            "60x60 cluttered MNIST, 4 pieces of clutter (12x12, 3 scales)",
            {4: 4.96, 6: 4.08, 8: 4.04}, random_control=14.4, target=(6, 3.0),
            paper_others=((FC64, 28.58), (FC256, 11.96), (CONV, 8.09)),
        ),
        Task(
            "cluttered100", "GlimpseClutteredMNIST100-v0",
            "100x100 cluttered MNIST, 8 pieces of clutter (12x12, 4 scales)",
            {4: 14.95, 6: 11.58, 8: 10.83}, target=(8, 8.0), paper_others=((CONV, 16.51),),
        ),
    )
}  # fmt: skip
SEED_TABLE_SEEDS = 3
RANDOM_CONTROL_GLIMPSES = 6  # the reference gives no count for this row; 6 is the middle one


@dataclass(frozen=True)
class Row:
    """One trained configuration: a task, a glimpse count, learned or random locations."""

    task: Task
    glimpses: int
    random_locations: bool = False
    variant: str = "paper"

    @property
    def name(self) -> str:
        name = f"{self.task.name}-g{self.glimpses}"
        name += "-random" if self.random_locations else ""
        return name + ("" if self.variant == "paper" else f"-{self.variant}")

    @property
    def paper_error(self) -> float | None:
        if self.random_locations:
            return self.task.random_control
        return self.task.paper_errors.get(self.glimpses)

    @property
    def core(self) -> str:
        flags = VARIANTS[self.variant]
        return flags[flags.index("--core") + 1] if "--core" in flags else TRAIN_DEFAULTS.core

    def train_flags(self) -> list[str]:
        """train.py's flags for this row: task, glimpses, locations, the variant's flags and
        the ``SPELLED_OUT_DEFAULTS`` the variant leaves as they are."""
        flags = ["--env", self.task.env_id, "--glimpses", str(self.glimpses)]
        flags += ["--locations", "random"] if self.random_locations else []
        variant = VARIANTS[self.variant]
        for flag, default in SPELLED_OUT_DEFAULTS.items():
            if flag not in variant:
                variant = [*variant, flag, default]
        return flags + variant


def all_rows(variant: str) -> list[Row]:
    rows = []
    for task in TASKS.values():
        rows += [Row(task, glimpses, variant=variant) for glimpses in task.paper_errors]
        if task.random_control is not None:
            rows.append(Row(task, RANDOM_CONTROL_GLIMPSES, True, variant))
    return rows


# --------------------------------------------------------------------------- running


def run_row(args: argparse.Namespace, row: Row) -> bool:
    """Train (or resume) and score one row unless already scored; whether it is scored."""
    run_name = f"{row.name}-seed{args.seed}"
    run_name += "" if args.device == "cpu" else "-" + args.device.replace(":", "")
    run_dir = args.runs_dir / run_name
    if args.carry_on_from is not None and not run_dir.exists():
        carry_on_from(args.carry_on_from, run_dir)
    if (run_dir / ROW_FILE).exists():
        scored = json.loads((run_dir / ROW_FILE).read_text())
        if not (args.extend and budget_minutes(scored) < args.minutes):
            print(f"{row.name}: already scored, skipped", flush=True)
            return True
        keep_record(scored, args.records_dir)  # its score at the shorter budget stays
        (run_dir / ROW_FILE).unlink()
        for stale in run_dir.glob(EVAL_FILES):
            stale.unlink()
    log = args.runs_dir / f"{run_name}.log"
    resume = ["--resume"] if (run_dir / "last.pt").exists() else []
    # A resume names the device even when it is the CPU: a GPU run carried on here needs it.
    device = [] if args.device == "cpu" and not resume else ["--device", args.device]
    # What --precision auto is on this machine, named so that the command trains the same run
    # on any machine.
    precision = ["--precision", resolve_precision("auto", args.device, row.core)]
    timed = math.isfinite(args.minutes)
    minutes = ["--train-minutes", str(args.minutes)] if timed else []
    train = [
        "train.py", "--algo", "reinforce", *row.train_flags(), *precision, "--seed", str(args.seed),
        *minutes, "--epochs", str(args.epochs), *device,
        "--threads", str(args.threads), "--out", str(run_dir), "--no-progress",
    ]  # fmt: skip
    if resume:
        note_extension(run_dir, args.minutes, args.device)
    budget = f"{args.minutes:g} min or {args.epochs} epochs" if timed else f"{args.epochs} epochs"
    print(f"{row.name}: {'resuming' if resume else 'training'} ({budget})", flush=True)
    status, _ = run_logged([sys.executable, *train, *resume], log, args.threads)
    if status != 0:
        print(f"{row.name}: training failed (exit {status}); see {log}", flush=True)
        return False
    scores = {}
    for mc in (1, args.mc):
        evaluate = [sys.executable, "train.py", "--eval", str(run_dir / "best.pt")]
        evaluate += ["--split", "test", "--mc", str(mc), "--threads", str(args.threads), *device]
        status, _ = run_logged(evaluate, log, args.threads)
        if status != 0:
            print(f"{row.name}: evaluation failed (exit {status}); see {log}", flush=True)
            return False
        scores[mc] = json.loads((run_dir / EVAL_FILE).read_text())["error"]
    metrics = read_last_metrics(run_dir)
    record = {
        "row": row.name,
        "task": row.task.name,
        "glimpses": row.glimpses,
        "random_locations": row.random_locations,
        "variant": row.variant,
        "seed": args.seed,
        "error": scores[1],
        "error_mc": scores[args.mc],
        "mc": args.mc,
        "minutes": float(metrics.get("minutes", "nan")),
        "images": int(metrics.get("images", 0)),
        "budget_minutes": args.minutes if timed else None,
        "threads": args.threads,
        "command": "python " + " ".join(train).replace(str(ROOT) + os.sep, ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "device": device_description(args.device),
        "date": time.strftime("%Y-%m-%d"),
        "scored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if (run_dir / EXTENDED_FILE).exists():
        record.update(json.loads((run_dir / EXTENDED_FILE).read_text()))
    write_json_atomic(run_dir / ROW_FILE, record)
    if row.task.name.startswith("cluttered"):
        gif = args.out.parent / "results" / f"{row.name}-paths.gif"
        plot = [sys.executable, "train.py", "--eval", str(run_dir / "best.pt"), "--split"]
        plot += ["test", "--plot-glimpses", str(gif), "--plot-count", "6"]
        run_logged(plot, log, args.threads)  # a missing picture is not worth failing a row
    print(f"{row.name}: test error {scores[1]:.2f}% ({args.mc} paths: {scores[args.mc]:.2f}%)")
    return True


def carry_on_from(source: Path, run_dir: Path) -> None:
    """Start a row's folder from a run trained elsewhere (a GPU run brought back into
    ``runs/gpu``): a copy of its checkpoints and metrics, without its scores, which the
    resume that follows trains further from ``last.pt``."""
    if not (source / "last.pt").is_file():
        raise SystemExit(f"--carry-on-from {source}: no last.pt there to resume from")
    partial = run_dir.with_name(run_dir.name + ".partial")  # a copy cut short is never resumed
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, ignore=shutil.ignore_patterns(ROW_FILE, EVAL_FILES))
    partial.rename(run_dir)
    print(f"{run_dir.name}: carried on from {source}", flush=True)


def device_description(device: str) -> str:
    """``"cpu"``, or the accelerator's name (``"cuda: NVIDIA H200"``) for the report."""
    if device == "cpu":
        return "cpu"
    return f"{device}: {torch.cuda.get_device_name(torch.device(device))}"


def note_extension(run_dir: Path, minutes: float, device: str = "cpu") -> None:
    """Mark a run resumed with a longer budget than it was last trained to.

    Its cosine LR restarts part-way at the resume, so it is not the run a fresh command with
    the longer budget would give; the report says so. The mark outlives later resumes, and
    a run extended again keeps every budget it passed through (``[7.0, 15.0]``). A run
    carried on to another device (a GPU run finished on the CPU) also keeps the devices it
    trained on before (``earlier_device``, oldest first), so the report names them all.
    """
    config = load_checkpoint(run_dir / "last.pt")["config"]
    earlier = config.get("train_minutes")
    mark = run_dir / EXTENDED_FILE
    record = json.loads(mark.read_text()) if mark.exists() else {}
    updated = dict(record)
    budgets = extended_budgets(record)
    if earlier is not None and earlier != minutes and budgets[-1:] != [earlier]:
        updated["extended_from_minutes"] = [*budgets, earlier]
    devices = earlier_devices(record)
    earlier_device = config.get("device", "cpu")
    if earlier_device != device and devices[-1:] != [earlier_device]:
        updated["earlier_device"] = [*devices, earlier_device]  # a plain resume counts too
    if updated != record:
        write_json_atomic(mark, updated)


def extended_budgets(record: dict[str, Any]) -> list[float]:
    """The budgets a run was extended from, oldest first (none: it never was)."""
    return record.get("extended_from_minutes", [])


def earlier_devices(record: dict[str, Any]) -> list[str]:
    """The devices a run trained on before its last one, oldest first (none: only one)."""
    return record.get("earlier_device", [])


def minutes_cell(record: dict[str, Any]) -> str:
    """The minutes a row trained, and the budgets it was extended from, if it was."""
    cell = f"{record['minutes']:.1f}"
    budgets = extended_budgets(record)
    if budgets:
        cell += " (extended from " + ", then ".join(f"{m:g}" for m in budgets) + ")"
    return cell


def hardware(record: dict[str, Any]) -> str:
    """Where a row trained, for the report; a run carried on from other devices names those
    first."""
    device = record["device"]
    if device == "cpu":
        cores = record["machine"].split(", ")[-1]
        where = f"CPU ({cores}, {record['threads']} thread(s))"
    else:
        where = f"GPU ({device.split(': ', 1)[-1]})"
    before = []
    for earlier in earlier_devices(record):
        if earlier == "cpu":
            before.append("CPU")
        else:  # "cuda" from a checkpoint's config, or "cuda: <name>" from a row's record
            before.append(f"GPU ({earlier.split(': ', 1)[1]})" if ": " in earlier else "GPU")
    return ", then ".join([*before, where])


def read_last_metrics(run_dir: Path) -> dict[str, str]:
    with (run_dir / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    return rows[-1] if rows else {}


def budget_minutes(record: dict[str, Any]) -> float:
    """A scored run's ``--minutes``: infinity where its budget was ``--epochs`` alone."""
    minutes = record["budget_minutes"]
    return math.inf if minutes is None else minutes


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


# --------------------------------------------------------------------------- the report

COLUMNS = (
    "| glimpses | paper | ours | setting | one path | mc 10 | runs (seed: one path) | budget | "
    "minutes | images | hardware | command |",
    "|---|---:|---|---|---:|---:|---|---|---:|---:|---|---|",
)
APPENDIX_COLUMNS = (
    "| glimpses | locations | setting | paper | ours | mc 10 | minutes | images | seed | "
    "hardware | status | command |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
)


def headline_glimpses(task: Task) -> int:
    """The glimpse count of a task's summary line: its target's, else the env's (6)."""
    return task.target[0] if task.target else 6


def chosen_rows(choices: list) -> set[str]:
    """The row names of the settings a task's tables show (faithful and best overall)."""
    return {
        setting.record["row"]
        for choice in choices
        for setting in (choice.faithful, choice.best)
        if setting is not None
    }


def report(args: argparse.Namespace, records: dict[str, list[dict[str, Any]]]) -> str:
    settings = settings_of(records)
    picked = {task.name: choices(task, settings) for task in TASKS.values()}
    shown = {
        id(setting)
        for task_choices in picked.values()
        for choice in task_choices
        for setting in (choice.faithful, choice.best)
        if setting is not None
    }
    longest = {id(setting) for setting in longest_budgets(settings)}
    seed_tables = " and ".join(task.name for task in TASKS.values() if task.seed_table)
    lines = [
        "# The paper's tables, reproduced",
        "",
        "Test error (%) on the fixed 10,000 test canvases of each task, the paper's RAM rows",
        "against ours. *one path*: the agent follows the mean of its location policy (as the",
        "paper scores); *mc 10*: the class posteriors of 10 sampled paths averaged",
        "(`train.py --eval RUN/best.pt --split test --mc 10`). This page is written by",
        "`python -m benchmarks.paper_tables --report-only` from the records in",
        "`docs/results/rows/` (one JSON file per scored run); edit those, not this page.",
        "",
        "- A **setting** is one training command; its runs differ in seed and hardware only.",
        "  *one path* and *mc 10* are the means over its runs, and every run is listed.",
        "- **paper-faithful**: the paper's model (ReLU RNN core) and losses on the paper's",
        "  task, the first glimpse at a random place: uniform over the image (the env's",
        "  default) or normal around the centre (`--first-location gaussian`); the paper says",
        "  only that it is random. Training settings (batch, LR, location std and weight,",
        "  weight decay) are free. The LSTM core (`--core lstm`), a class asked of the earlier",
        "  glimpses (`--glimpse-classification-weight`) and a first glimpse at the centre",
        "  (`--first-location center`) are not paper-faithful.",
        "- **best overall**: the lowest mean one-path error of any setting. Both are chosen",
        "  among the longest budget of each setting (the same command up to `--train-minutes`",
        "  and `--epochs`); the records hold no validation score, so the choice is made on",
        "  test and flatters the chosen line a little.",
        f"- **seed tables** ({seed_tables}): a row's figure is the mean of its best",
        f"  setting with {SEED_TABLE_SEEDS} or more seeds; a row with no such setting yet shows",
        "  its best setting of fewer seeds (its *runs* cell says how many).",
        "- **budget**: `--train-minutes` (wall clock, validation included) and the `--epochs`",
        "  cap; the LR decays over whichever ends first. *extended from*: trained to each",
        "  earlier budget, then resumed (`--resume`) with the next, so the cosine LR restarted",
        "  part-way; the command from scratch gives a similar, not the same, run.",
        "- **hardware**: where the run trained (a run resumed elsewhere names both machines;",
        "  its minutes add both). GPU runs were trained several at a time on one GPU by",
        "  `bash benchmarks/gpu.sh paper-rows`, sharing the machine's CPU cores for the envs.",
        "- **command**: the recorded `train.py` command, with `--out` left out, `S` for the",
        "  seed where a setting has several, and the flags whose default has changed since",
        "  filled in with the value the run had (`--weight-decay 0`, `--std 0.15`).",
        "",
        "Every run, including those superseded by a longer budget or a better setting, is in",
        "the [appendix](#appendix-every-run).",
        "",
        "## Summary",
        "",
        f"One line per task at its headline glimpse count ({_headline_text()}).",
        "",
        "| task | " + COLUMNS[0][2:],
        "|---" + COLUMNS[1],
    ]
    for task in TASKS.values():
        for choice in picked[task.name]:
            if choice.row.glimpses == headline_glimpses(task) and not choice.row.random_locations:
                lines += [f"| {task.name} {line}" for line in choice_lines(choice)]
    lines.append("")
    for task in TASKS.values():
        lines += [f"## {task.title}", "", f"`{task.env_id}`", ""]
        if task.target:
            lines += [f"Target: {task.target[1]}% or less with {task.target[0]} glimpses.", ""]
        if task.paper_others:
            others = "; ".join(f"{name} {error:.2f}" for name, error in task.paper_others)
            lines += [f"The paper's other models: {others}.", ""]
        lines += list(COLUMNS)
        for choice in picked[task.name]:
            lines += choice_lines(choice)
        lines += ["", f"![test error against glimpses](results/{task.name}.png)", ""]
        lines += gap_lines(picked[task.name])
        lines += gif_lines(args, task, chosen_rows(picked[task.name]), "Where the agent looks")
    lines += pair_lines(settings, hardware, budget_cell)
    lines += [
        "## Appendix: every run",
        "",
        "Every stored run, task by task: those of the settings above, those superseded by a",
        "longer budget of the same setting, and the other settings tried. *minutes* is the",
        "time trained, *images* the training images seen; the command is the recorded one",
        "(`--weight-decay 0` and `--std 0.15` filled in as above). The flags each setting adds",
        "to `train.py`'s defaults (`benchmarks/paper_tables.py --variant NAME`):",
        "",
        *[f"- {name}: `{' '.join(flags)}`" for name, flags in VARIANTS.items() if flags],
        "",
    ]
    for task in TASKS.values():
        mine = [setting for setting in settings if setting.record["task"] == task.name]
        mine.sort(key=_appendix_order)
        lines += [f"### {task.title}", "", *APPENDIX_COLUMNS]
        for setting in mine:
            if id(setting) in shown:
                why = "in the tables above"
            elif id(setting) in longest:
                why = "superseded by a better setting"
            else:
                why = "superseded by a longer budget"
            lines += [appendix_line(setting.row, run, why) for run in setting.runs]
        lines.append("")
        rows = {setting.record["row"] for setting in mine} - chosen_rows(picked[task.name])
        lines += gif_lines(args, task, rows, "Where the other settings look")
    lines += [
        "## History",
        "",
        "How these runs came about and what else was tried, in the order it happened:",
        "[paper-tables-notes.md](paper-tables-notes.md) (these tables) and",
        "[mnist-default-run.md](mnist-default-run.md) (how `train.py`'s defaults were chosen).",
    ]
    return "\n".join(lines)


def _headline_text() -> str:
    return ", ".join(f"{task.name} {headline_glimpses(task)}" for task in TASKS.values())


def _appendix_order(setting: Setting) -> tuple[Any, ...]:
    record = setting.record
    return (
        record["glimpses"],
        record["random_locations"],
        record["variant"] != "paper",
        record["variant"],
        setting.budget,
        record["scored_at"],
    )


def choice_lines(choice: Choice) -> list[str]:
    """A paper row's lines in a task's table: paper-faithful, then best overall if other."""
    row = choice.row
    head = f"| {glimpses_text(row)} | {row.paper_error:.2f} |"
    if choice.best is None:
        return [f"{head} not run | | | | | | | | | |"]
    if choice.faithful is choice.best:
        return [f"{head} paper-faithful, best overall | {setting_cells(choice.best)} |"]
    lines = []
    if choice.faithful is None:
        lines.append(f"{head} paper-faithful: not run | | | | | | | | | |")
    else:
        lines.append(f"{head} paper-faithful | {setting_cells(choice.faithful)} |")
    lines.append(f"{head} best overall | {setting_cells(choice.best)} |")
    return lines


def setting_cells(setting: Setting) -> str:
    runs = setting.runs
    mc = setting.mc_errors
    if not mc:
        mc_cell = "-"
    elif len(mc) < len(runs):
        mc_cell = f"{statistics.fmean(mc):.2f} ({len(mc)} of {len(runs)} runs)"
    else:
        mc_cell = f"{statistics.fmean(mc):.2f}"
    if len(runs) == 1:
        runs_cell = f"seed {runs[0]['seed']}"
    else:
        runs_cell = ", ".join(f"{run['seed']}: {run['error']:.2f}" for run in runs)
    minutes = [run["minutes"] for run in runs]
    minutes_text = f"{min(minutes):.1f}"
    if max(minutes) - min(minutes) >= 0.05:
        minutes_text += f"-{max(minutes):.1f}"
    hardware_counts: dict[str, int] = {}
    for run in runs:
        hardware_counts[hardware(run)] = hardware_counts.get(hardware(run), 0) + 1
    hardware_text = "; ".join(
        name if len(hardware_counts) == 1 else f"{name} x{count}"
        for name, count in hardware_counts.items()
    )
    cells = [
        setting.record["variant"],
        f"**{setting.error:.2f}**",
        mc_cell,
        runs_cell,
        budget_cell(setting),
        minutes_text,
        millions(mean_images(setting)),
        hardware_text,
        f"`{setting_command(setting)}`",
    ]
    return " | ".join(cells)


def budget_cell(setting: Setting) -> str:
    minutes, epochs, _ = setting.budget
    cell = f"{epochs} epochs" if minutes == math.inf else f"{minutes:g} min or {epochs} epochs"
    budgets = extended_budgets(setting.record)
    if budgets:
        cell += ", extended from " + ", then ".join(f"{m:g}" for m in budgets)
    return cell


def setting_command(setting: Setting) -> str:
    """The command of a setting's runs: ``--out`` and ``--no-progress`` left out, ``S`` for
    the seed where there are several, hardware flags only where every run had the same."""
    tokens = command_tokens(setting.record)
    seeds = {run["seed"] for run in setting.runs}
    each = [command_flags(command_tokens(run)) for run in setting.runs]
    shown: list[str] = []
    skip = False
    for index, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        value = tokens[index + 1] if index + 1 < len(tokens) else ""
        takes_value = token.startswith("--") and value and not value.startswith("--")
        if token == "--seed" and len(seeds) > 1:
            shown += ["--seed", "S"]
            skip = True
            continue
        if token in ("--out", "--no-progress") or (
            token in RUN_FLAGS and len({flags.get(token) for flags in each}) > 1
        ):
            skip = bool(takes_value)
            continue
        shown.append(token)
    return " ".join(shown)


def appendix_line(row: Row, record: dict[str, Any], why: str) -> str:
    paper = "" if row.paper_error is None else f"{row.paper_error:.2f}"
    where = "random" if row.random_locations else "learned"
    mc = "-" if record["error_mc"] is None else f"{record['error_mc']:.2f}"
    return (
        f"| {row.glimpses} | {where} | {row.variant} | {paper} | {record['error']:.2f} | "
        f"{mc} | {minutes_cell(record)} | {record['images']:,} | {record['seed']} | "
        f"{hardware(record)} | {why} | `{' '.join(command_tokens(record))}` |"
    )


def gif_lines(args: argparse.Namespace, task: Task, rows: set[str], title: str) -> list[str]:
    """The glimpse-path pictures of some rows of a task, where they were drawn."""
    folder = args.out.parent / "results"
    gifs = [folder / f"{row}-paths.gif" for row in sorted(rows)]
    gifs = [gif for gif in gifs if gif.exists()]
    if not gifs:
        return []
    return [
        f"{title} (test digits; green: right, red: wrong):",
        "",
        *[f"![{gif.stem}](results/{gif.name})" for gif in gifs],
        "",
    ]


def error_plot(task: Task, picked: list[Choice], path: Path) -> Path:
    """Test error against glimpses: the paper's RAM rows and ours (the paper-faithful and the
    best overall settings of the tables: mean over runs, each run a small dot)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from benchmarks.plotting import pyplot, save_png

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7.5, 4.8))
    glimpses = sorted(task.paper_errors)
    axis.plot(
        glimpses,
        [task.paper_errors[g] for g in glimpses],
        "s--",
        color="black",
        label="paper (Mnih et al. 2014)",
    )
    everything = [task.paper_errors[g] for g in glimpses]
    learned = [choice for choice in picked if not choice.row.random_locations]
    # Best overall first and hollow, so that where it is the paper-faithful setting too the
    # two marks show one inside the other.
    kinds = (
        ("best overall", "best", {"color": "#d62728", "marker": "^", "linestyle": ":"}, 0.09),
        ("paper-faithful", "faithful", {"color": "#1f77b4", "marker": "o"}, -0.09),
    )
    for label, attribute, style, offset in kinds:
        points = [
            (choice.row.glimpses, getattr(choice, attribute))
            for choice in learned
            if getattr(choice, attribute) is not None
        ]
        if not points:
            continue
        hollow = {"markersize": 10, "markerfacecolor": "none"} if attribute == "best" else {}
        axis.plot(
            [g for g, _ in points],
            [setting.error for _, setting in points],
            label=f"ours, {label} (mean over its runs)",
            **style,
            **hollow,
        )
        for g, setting in points:
            errors = [run["error"] for run in setting.runs]
            everything += errors
            faithful = next(c.faithful for c in learned if c.row.glimpses == g)
            if attribute == "best" and setting is faithful:
                continue  # its runs and name are drawn as the paper-faithful setting's
            if len(errors) > 1:
                axis.scatter(
                    [g + offset] * len(errors), errors, color=style["color"], s=9, alpha=0.5
                )
            if setting.record["variant"] != "paper":
                axis.annotate(
                    setting.record["variant"],
                    (g, setting.error),
                    textcoords="offset points",
                    xytext=(9, -12 if attribute == "faithful" else -3),
                    fontsize=7,
                    color=style["color"],
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                )
    axis.set_yscale("log")
    axis.set_ylim(min(everything) / 1.3, max(everything) * 1.3)
    axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.set_xticks(glimpses)
    axis.set_xlim(glimpses[0] - 0.5, glimpses[-1] + 0.8)
    axis.set_xlabel("glimpses")
    axis.set_ylabel("test error (%), one path (log scale)")
    axis.set_title(task.title, fontsize=10)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8, title="labels: our setting, where not paper", title_fontsize=7)
    figure.tight_layout()
    return save_png(figure, path)


# --------------------------------------------------------------------------- main


def minutes_budget(text: str) -> float:
    """``--minutes``: a number, or ``none`` (infinity) for a budget of ``--epochs`` alone."""
    if text.strip().lower() == "none":
        return math.inf
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes or 'none': {text!r}") from None
    if not math.isfinite(minutes):
        raise argparse.ArgumentTypeError(f"{text!r}: write 'none' for no time limit")
    return minutes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=sorted(TASKS), help="tasks to run (all)")
    parser.add_argument("--glimpses", nargs="+", type=int, help="glimpse counts to run (all)")
    parser.add_argument(
        "--random", choices=("include", "exclude", "only"), default="include",
        help="the random-locations control row of cluttered60",
    )  # fmt: skip
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="paper")
    parser.add_argument(
        "--minutes", type=minutes_budget, default=60.0,
        help="training budget per row; none: --epochs alone (the same images on any hardware)",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=200, help="epoch cap per row")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--device", default="cpu", help="torch device of each run (cuda: GPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mc", type=int, default=10, help="sampled paths of the second score")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results.md")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs" / "paper-tables")
    parser.add_argument(
        "--records-dir", type=Path, default=RECORDS_DIR,
        help="the scored runs' records, which the report is written from (kept in git)",
    )  # fmt: skip
    parser.add_argument(
        "--extend", action="store_true",
        help="resume a scored row whose budget is under --minutes and score it again",
    )  # fmt: skip
    parser.add_argument(
        "--carry-on-from", type=Path, metavar="RUN_DIR",
        help="start the one selected row from a run trained elsewhere (e.g. runs/gpu/...-cuda)",
    )  # fmt: skip
    parser.add_argument("--report-only", action="store_true", help="only rewrite the report")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.epochs < 1 or args.threads < 1 or args.mc < 2:
        parser.error("--minutes, --epochs and --threads must be positive and --mc at least 2")
    if args.extend and math.isinf(args.minutes):
        parser.error("--extend lengthens a --minutes budget; --minutes none has none to lengthen")
    args.out, args.runs_dir = args.out.resolve(), args.runs_dir.resolve()
    args.records_dir = args.records_dir.resolve()
    if args.carry_on_from is not None:
        if len(selected_rows(args)) != 1:
            parser.error("--carry-on-from needs --only, --glimpses, --random naming one row")
        args.carry_on_from = args.carry_on_from.resolve()
    return args


def selected_rows(args: argparse.Namespace) -> list[Row]:
    rows = all_rows(args.variant)
    if args.only:
        rows = [row for row in rows if row.task.name in args.only]
    if args.glimpses:
        rows = [row for row in rows if row.glimpses in args.glimpses]
    if args.random != "include":
        rows = [row for row in rows if row.random_locations == (args.random == "only")]
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)  # train.py is run by relative path, as in the recorded commands
    failures = 0
    if not args.report_only:
        rows = selected_rows(args)
        if not rows:
            print("no row matches --only/--glimpses/--random", file=sys.stderr)
            return 2
        # A SIGTERM or Ctrl-C (`gpu.sh paper-rows` at its deadline signals this process's whole
        # group) reaches the train.py under way too, which stops cleanly and saves its
        # last.pt, so that its row fails here and is resumed by a later invocation. This
        # process only notes it, to start no further row and still write the report; sent
        # to this process alone, it lets the row under way finish first.
        with StopRequest() as stop:
            for row in rows:
                if stop.requested:
                    print(f"stopped by {stop.requested}: {row.name} and later rows not run")
                    failures += 1
                    break
                failures += not run_row(args, row)
    args.records_dir.mkdir(parents=True, exist_ok=True)
    added = keep_records(args.runs_dir, args.records_dir)
    if added:
        print(f"kept {added} new scored run(s) in {args.records_dir}")
    records = read_records(args.records_dir)
    text = report(args, records) + "\n"
    write_atomic(args.out, lambda file: file.write(text.encode()))
    settings = settings_of(records)  # the plots last: they need matplotlib (agents extra)
    for task in TASKS.values():
        plot = args.out.parent / "results" / f"{task.name}.png"
        error_plot(task, choices(task, settings), plot)
    print(f"wrote {args.out} ({len(records)} rows scored)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
