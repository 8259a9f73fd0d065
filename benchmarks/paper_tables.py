"""The RAM rows of the paper's four tables, trained with ``train.py`` and scored side by side.

    python benchmarks/paper_tables.py                                  # every row
    python benchmarks/paper_tables.py --only cluttered60 --glimpses 6  # one row
    python benchmarks/paper_tables.py --only mnist --minutes 6 --threads 1
    python benchmarks/paper_tables.py --only translated --variant lstm  # beyond the paper
    python benchmarks/paper_tables.py --only mnist --glimpses 2 --seed 0 1 2  # a seed table row
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
a setting whose runs see the same images on any hardware, as the seed tables need;
``--precision fp32`` keeps it one setting on machines where ``auto`` would pick bf16.
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

This module trains and scores; the rows it trains are ``benchmarks.paper_rows``, the store
and its settings ``benchmarks.paper_records``, the page ``benchmarks.paper_report``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

from agents.checkpoint import load_checkpoint
from agents.precision import PRECISIONS, resolve_precision
from agents.stop import StopRequest
from benchmarks.logged_run import run_logged
from benchmarks.paper_records import (
    RECORDS_DIR,
    ROW_FILE,
    budget_minutes,
    budget_text,
    choices,
    earlier_devices,
    extended_budgets,
    keep_record,
    keep_records,
    read_records,
    settings_of,
)
from benchmarks.paper_report import error_plot, report
from benchmarks.paper_rows import TASKS, VARIANTS, Row, all_rows
from ram_env.atomic import write_atomic, write_json_atomic

ROOT = Path(__file__).resolve().parents[1]

EVAL_FILE = "eval-test.json"  # what train.py --eval --split test writes
EVAL_FILES = "eval-test*.json"  # that and the per-checkpoint, per-path-count copies
EXTENDED_FILE = "extended.json"


# --------------------------------------------------------------------------- running


def run_row(args: argparse.Namespace, row: Row, seed: int) -> bool:
    """Train (or resume) and score one row's seed unless already scored; whether it is scored."""
    run_name = f"{row.name}-seed{seed}"
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
    # What --precision (auto: decided for this machine) is, named so that the command trains
    # the same run on any machine.
    precision = ["--precision", resolve_precision(args.precision, args.device, row.core)]
    timed = math.isfinite(args.minutes)
    minutes = ["--train-minutes", str(args.minutes)] if timed else []
    train = [
        "train.py", "--algo", "reinforce", *row.train_flags(), *precision, "--seed", str(seed),
        *minutes, "--epochs", str(args.epochs), *device,
        "--threads", str(args.threads), "--out", str(run_dir), "--no-progress",
    ]  # fmt: skip
    if resume:
        note_extension(run_dir, args.minutes, args.device)
    budget = budget_text(args.minutes, args.epochs)
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
        "seed": seed,
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


def read_last_metrics(run_dir: Path) -> dict[str, str]:
    with (run_dir / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    return rows[-1] if rows else {}


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
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto",
        help="train.py's --precision; auto is decided per machine, so a seed table trained on "
        "machines with and without bf16 names fp32 to stay one setting",
    )  # fmt: skip
    parser.add_argument(
        "--seed", "--seeds", dest="seeds", type=int, nargs="+", default=[0],
        help="seeds to train: every selected row with each, seed by seed",
    )  # fmt: skip
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
    args.seeds = list(dict.fromkeys(args.seeds))  # each seed once, in the order given
    if min(args.seeds) < 0:
        parser.error(f"--seed: seeds are whole numbers from 0, not {min(args.seeds)}")
    if args.extend and math.isinf(args.minutes):
        parser.error("--extend lengthens a --minutes budget; --minutes none has none to lengthen")
    args.out, args.runs_dir = args.out.resolve(), args.runs_dir.resolve()
    args.records_dir = args.records_dir.resolve()
    if args.carry_on_from is not None:
        if len(selected_rows(args)) != 1 or len(args.seeds) != 1:
            parser.error(
                "--carry-on-from needs --only, --glimpses, --random naming one row, one seed"
            )
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
        runs = [(row, seed) for seed in args.seeds for row in rows]
        with StopRequest() as stop:
            for row, seed in runs:
                if stop.requested:
                    print(f"stopped by {stop.requested}: {row.name} seed {seed} and later not run")
                    failures += 1
                    break
                failures += not run_row(args, row, seed)
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
