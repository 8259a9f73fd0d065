"""Every training algorithm of ``train.py`` on one env, a fixed budget, several seeds.

    python benchmarks/algorithms.py                                   # all, 3 seeds
    python benchmarks/algorithms.py --seeds 5 --minutes 60 --steps 30000000
    python benchmarks/algorithms.py --algos recurrent-ppo reinforce --seeds 3
    python benchmarks/algorithms.py --seeds 1 --minutes 0.5 --algos ppo dqn --out /tmp/b.md

Each (algorithm, seed) is a subprocess running exactly what a user runs::

    python train.py --algo ALGO --seed S --out RUNS/ALGO-seedS --train-minutes M ...
    python train.py --eval RUNS/ALGO-seedS/... --split test

one after the other, each on ``--threads`` torch threads. A run stops at ``--minutes`` of
wall-clock training (its validation and checkpoints included) or at ``--steps`` env steps,
whichever comes first; both are reported. REINFORCE counts images, so its step budget is
``steps / T`` images of T steps each. Test accuracy is the ``--eval`` score on the fixed
10,000 test canvases, every image once, deterministic glimpse path.

Runs already scored (``eval-test.json`` present) are skipped, so an interrupted benchmark
carries on where it stopped; a run that did not finish training is started again.

Writes ``--out`` (a Markdown table: algorithm, policy, action type, steps, minutes, steps/s,
test accuracy mean +- std over seeds) and a PNG beside it of validation accuracy against
steps and against minutes (matplotlib, from the ``agents`` extra).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.sb3_algorithms import ALGORITHMS
from ram_env.registration import TASKS

ROOT = Path(__file__).resolve().parents[1]

ALL_ALGOS = ("reinforce", *ALGORITHMS)
DONE_FILE = "benchmark-run.json"
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


@dataclass
class RunResult:
    """One (algorithm, seed) run, read back from its folder."""

    algo: str
    seed: int
    policy: str
    action_type: str
    steps: int
    minutes: float
    test_accuracy: float
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # steps, min, val %

    @property
    def steps_per_second(self) -> float:
        return self.steps / max(self.minutes * 60.0, 1e-9)


# --------------------------------------------------------------------------- running


def train_command(args: argparse.Namespace, algo: str, seed: int, run_dir: Path) -> list[str]:
    command = [
        sys.executable,
        str(args.train_script),
        "--algo",
        algo,
        "--env",
        args.env,
        "--seed",
        str(seed),
        "--out",
        str(run_dir),
        "--train-minutes",
        str(args.minutes),
        "--threads",
        str(args.threads),
        "--no-progress",
    ]
    if algo == "reinforce":
        return command + ["--max-images", str(math.ceil(args.steps / episode_length(args.env)))]
    log_interval = max(5.0, args.minutes * 60.0 / 20.0)  # about 20 points per curve
    return command + ["--total-timesteps", str(args.steps), "--log-interval", str(log_interval)]


def eval_command(args: argparse.Namespace, algo: str, run_dir: Path) -> list[str]:
    target = run_dir / "best.pt" if algo == "reinforce" else run_dir
    return [
        sys.executable,
        str(args.train_script),
        "--eval",
        str(target),
        "--split",
        "test",
        "--threads",
        str(args.threads),
    ]


def episode_length(env_id: str) -> int:
    return TASKS[env_id][3]


def run_logged(command: list[str], log: Path, threads: int) -> tuple[int, float]:
    """Run ``command`` with its output appended to ``log``; (exit status, seconds)."""
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    with log.open("a") as file:
        file.write("$ " + " ".join(command) + "\n")
        file.flush()
        status = subprocess.call(
            command, stdout=file, stderr=subprocess.STDOUT, cwd=ROOT, env=environment
        )
    return status, time.perf_counter() - start


def run_one(args: argparse.Namespace, algo: str, seed: int) -> bool:
    """Train and score one run unless already scored; whether it has a test score."""
    run_dir = args.runs_dir / f"{algo}-seed{seed}"
    if (run_dir / "eval-test.json").exists():
        print(f"{algo} seed {seed}: already scored, skipped", flush=True)
        return True
    log = args.runs_dir / f"{algo}-seed{seed}.log"
    if not (run_dir / DONE_FILE).exists():
        if run_dir.exists():  # an unfinished run: start it again
            shutil.rmtree(run_dir)
        print(f"{algo} seed {seed}: training ({args.minutes} min / {args.steps} steps)", flush=True)
        status, seconds = run_logged(train_command(args, algo, seed, run_dir), log, args.threads)
        if status != 0:
            print(f"{algo} seed {seed}: training failed (exit {status}); see {log}", flush=True)
            return False
        (run_dir / DONE_FILE).write_text(json.dumps({"wall_seconds": round(seconds, 2)}) + "\n")
    status, _ = run_logged(eval_command(args, algo, run_dir), log, args.threads)
    if status != 0:
        print(f"{algo} seed {seed}: evaluation failed (exit {status}); see {log}", flush=True)
        return False
    accuracy = json.loads((run_dir / "eval-test.json").read_text())["accuracy"]
    print(f"{algo} seed {seed}: test accuracy {accuracy:.2f}%", flush=True)
    return True


# --------------------------------------------------------------------------- reading runs


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def read_run(run_dir: Path, algo: str, seed: int, env_id: str) -> RunResult | None:
    eval_file = run_dir / "eval-test.json"
    if not eval_file.exists():
        return None
    accuracy = json.loads(eval_file.read_text())["accuracy"]
    rows = read_csv(run_dir / "metrics.csv")
    if algo == "reinforce":
        length = episode_length(env_id)
        curve = [
            (int(row["images"]) * length, float(row["minutes"]), float(row["val_accuracy"]))
            for row in rows
        ]
        policy = f"RecurrentAttentionModel ({reinforce_core(run_dir)} core)"
        steps, minutes = (curve[-1][0], curve[-1][1]) if curve else (0, 0.0)
        return RunResult(algo, seed, policy, "box", steps, minutes, accuracy, curve)
    config = json.loads((run_dir / "config.json").read_text())
    curve = [
        (int(row["timesteps"]), float(row["minutes"]), float(row["val_accuracy"]))
        for row in rows
        if row.get("val_accuracy")
    ]
    result = config.get("result", {})
    policy = config["policy"]
    if algo == "recurrent-ppo":
        policy += f" ({config['policy_kwargs'].get('core', 'lstm')} core)"
    return RunResult(
        algo,
        seed,
        policy,
        config["action_type"],
        int(result.get("timesteps", 0)),
        float(result.get("minutes", 0.0)),
        accuracy,
        curve,
    )


def reinforce_core(run_dir: Path) -> str:
    from agents.checkpoint import CheckpointError, load_checkpoint

    try:
        return load_checkpoint(run_dir / "best.pt")["config"].get("core", "?")
    except CheckpointError:
        return "?"


def collect(args: argparse.Namespace) -> dict[str, list[RunResult]]:
    results: dict[str, list[RunResult]] = {}
    for algo in args.algos:
        runs = [
            read_run(args.runs_dir / f"{algo}-seed{seed}", algo, seed, args.env)
            for seed in seeds(args)
        ]
        runs = [run for run in runs if run is not None]
        if runs:
            results[algo] = runs
    return results


def seeds(args: argparse.Namespace) -> range:
    return range(args.first_seed, args.first_seed + args.seeds)


# --------------------------------------------------------------------------- the report


def mean_std(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def table(results: dict[str, list[RunResult]]) -> str:
    lines = [
        "| algorithm | policy | action type | steps | minutes | steps/s | "
        "test accuracy (%) | seeds |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for algo, runs in results.items():
        accuracy, spread = mean_std([run.test_accuracy for run in runs])
        accuracy_text = (
            f"{accuracy:.2f} ± {spread:.2f}"
            if spread is not None
            else (f"{accuracy:.2f} (one seed)")
        )
        lines.append(
            f"| {algo} | {runs[0].policy} | {runs[0].action_type} | "
            f"{statistics.fmean(run.steps for run in runs):,.0f} | "
            f"{statistics.fmean(run.minutes for run in runs):.1f} | "
            f"{statistics.fmean(run.steps_per_second for run in runs):,.0f} | "
            f"{accuracy_text} | {len(runs)} |"
        )
    return "\n".join(lines)


def per_run_table(results: dict[str, list[RunResult]]) -> str:
    lines = [
        "| algorithm | seed | steps | minutes | test accuracy (%) |",
        "|---|---:|---:|---:|---:|",
    ]
    for algo, runs in results.items():
        lines += [
            f"| {algo} | {run.seed} | {run.steps:,} | {run.minutes:.2f} | {run.test_accuracy:.2f} |"
            for run in runs
        ]
    return "\n".join(lines)


def _duration(minutes: float) -> str:
    return f"{minutes:.1f} minutes" if minutes < 90 else f"{minutes / 60:.1f} hours"


def write_report(
    args: argparse.Namespace, results: dict[str, list[RunResult]], plot: Path | None
) -> None:
    total_runs = len(args.algos) * args.seeds
    command = " ".join(
        [
            "python benchmarks/algorithms.py",
            "--seeds",
            str(args.seeds),
            "--minutes",
            str(args.minutes),
            "--steps",
            str(args.steps),
            "--threads",
            str(args.threads),
            "--algos",
            *args.algos,
        ]
    )
    hour_steps = ", ".join(
        f"{algo} about {statistics.fmean(run.steps_per_second for run in runs) * 3600 / 1e6:.1f}M"
        for algo, runs in results.items()
    )
    text = f"""# Algorithms on {args.env}

Generated by `{command}` on {time.strftime("%Y-%m-%d")}: {platform.machine()},
{os.cpu_count()} CPU cores, Python {platform.python_version()}; runs one at a time,
{args.threads} torch thread(s) each.

## Budget

Every (algorithm, seed) run trains for **{args.minutes} minutes** of wall-clock time
(validation and checkpoints included) or **{args.steps:,} env steps**, whichever comes first;
the table reports what each used and the resulting speed. Each run is
`python train.py --algo ALGO --seed S --train-minutes {args.minutes} ...` (REINFORCE counts
images: its step budget is {args.steps:,} / {episode_length(args.env)} images), then
`python train.py --eval RUN --split test`.

This is a **reduced budget** that fits this machine: {total_runs} runs, about
{_duration(total_runs * args.minutes)} of training. The **full budget** is 60 minutes per
run (the target of the `recurrent-ppo` route: at least 95% test accuracy within one hour on
a 2-core machine) and at least 3 seeds, with the step budget then set by what each algorithm
does in an hour (at the speeds measured here: {hour_steps} steps):
{len(args.algos)} algorithms x 3 seeds x 60 minutes = {len(args.algos) * 3} hours here.
Accuracies at a reduced budget are lower than at the full one and not every algorithm has
converged: compare algorithms at equal budget only.

## Results

Test accuracy: the fixed 10,000 test canvases, each scored once, deterministic actions
(mean over seeds ± sample standard deviation).

{table(results)}

{f"![validation accuracy against steps and minutes]({plot.name})" if plot else ""}

Curves: validation accuracy during training (SB3 algorithms: the first 1,000 validation
images at each `metrics.csv` row; REINFORCE: all 10,000 after each epoch and at the end),
one line per seed. Markers: final test accuracy.

### Every run

{per_run_table(results)}

## Notes

- `reinforce` is the hand-written agent (`agents/reinforce.py`): the paper's ReLU RNN core,
  Gaussian location policy trained by REINFORCE with a baseline, classifier by
  cross-entropy (the paper's hybrid loss).
- `recurrent-ppo` is sb3-contrib's RecurrentPPO with the RAM policy
  (`agents/sb3_policy.py`): glimpse network as features extractor, ReLU RNN core,
  locations on a 9x9 grid (multidiscrete action), PPO for the locations plus a supervised
  cross-entropy step for the classifier after each rollout (`HybridRecurrentPPO`).
- `ppo`, `a2c`, `sac`, `td3`, `dqn` use SB3's `MultiInputPolicy` on the same glimpse
  network but **without memory**: each step they see only the current glimpse, so they
  classify from one 8x8 glimpse. They show what the env asks of a plain SB3 agent.
- Extend: add an algorithm to `agents/sb3_registry.py` (`ALGORITHMS`) and rerun with
  `--algos NAME`; finished runs in `--runs-dir` are reused.
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


# --------------------------------------------------------------------------- the plot


def plot_series(results: dict[str, list[RunResult]]) -> list[dict[str, Any]]:
    """One entry per algorithm: colour, per-seed curves, final (steps, minutes, test %)."""
    series = []
    for index, (algo, runs) in enumerate(results.items()):
        series.append(
            {
                "algo": algo,
                "colour": COLOURS[index % len(COLOURS)],
                "curves": [run.curve for run in runs],
                "finals": [(run.steps, run.minutes, run.test_accuracy) for run in runs],
            }
        )
    return series


def make_plot(results: dict[str, list[RunResult]], path: Path, env_id: str) -> Path:
    """Validation accuracy against env steps and against minutes, one line per run; the
    final test accuracy of each run as a dot. Written with matplotlib (``agents`` extra)."""
    from benchmarks.plotting import pyplot, save_png

    plt = pyplot()
    series = plot_series(results)
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for axis_index, (axis, label) in enumerate(
        zip(axes, ("env steps", "training minutes"), strict=True)
    ):
        for entry in series:
            for curve in entry["curves"]:
                axis.plot(
                    [point[axis_index] for point in curve],
                    [point[2] for point in curve],
                    color=entry["colour"],
                    alpha=0.75,
                    linewidth=1.3,
                )
            axis.scatter(
                [final[axis_index] for final in entry["finals"]],
                [final[2] for final in entry["finals"]],
                color=entry["colour"],
                edgecolors="black",
                linewidths=0.5,
                s=28,
                zorder=3,
                label=f"{entry['algo']} ({len(entry['finals'])} seeds)",
            )
        axis.set_xlabel(label)
        axis.set_xlim(left=0)
        axis.set_ylim(0, 100)
        axis.grid(alpha=0.3)
    axes[0].xaxis.set_major_formatter(
        plt.FuncFormatter(lambda value, _: f"{value / 1e6:g}M" if value else "0")
    )
    axes[0].set_ylabel("accuracy (%)")
    axes[1].legend(loc="lower right", fontsize=8, title="test accuracy (dots)")
    figure.suptitle(
        f"{env_id}: validation accuracy during training (lines, one per seed), "
        "test accuracy at the end (dots)"
    )
    figure.tight_layout()
    return save_png(figure, path)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--algos", nargs="+", choices=ALL_ALGOS, default=list(ALL_ALGOS))
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds per algorithm")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--minutes", type=float, default=5.0, help="wall-clock training budget per run"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=2_000_000,
        help="env-step budget per run (the first budget reached stops)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--env", default="GlimpseMNIST-v0", choices=sorted(TASKS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark.md")
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help="where runs are kept (default: runs/benchmark-<env>)",
    )
    parser.add_argument(
        "--train-script", type=Path, default=ROOT / "train.py", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only rewrite the report from the finished runs"
    )
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.minutes <= 0 or args.steps < 1 or args.threads < 1:
        parser.error("--seeds, --minutes, --steps and --threads must be positive")
    args.runs_dir = (args.runs_dir or ROOT / "runs" / f"benchmark-{args.env}").resolve()
    args.out = args.out.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    if not args.report_only:
        for seed in seeds(args):  # seeds outermost: partial results cover every algorithm
            for algo in args.algos:
                failures += not run_one(args, algo, seed)
    results = collect(args)
    if not results:
        print("no finished runs to report", file=sys.stderr)
        return 1
    plot = args.out.with_suffix(".png")
    make_plot(results, plot, args.env)
    write_report(args, results, plot)
    print(f"wrote {args.out} and {plot}")
    print(table(results))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
