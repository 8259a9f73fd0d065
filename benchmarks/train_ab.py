"""Whole-process ``train.py`` time of the working tree against another git revision.

Runs the same ``train.py`` command in a worktree of the base revision and in the working
tree, alternating fresh processes round by round (so drifting machine load hits both
alike), and prints each wall-clock time, the medians and the speed-up base/work. Start-up,
data loading, any compilation, validation and checkpoints are all counted. Everything after
``--`` goes to ``train.py`` on both sides (``--out`` is added: a temporary folder per run):

    python -m benchmarks.train_ab --base 861916a --rounds 2 -- --algo reinforce \\
        --env GlimpseClutteredMNIST100-v0 --core lstm --batch-size 512 --max-images 204800

``--work-flags="..."`` (with ``=``: the value starts with a dash) are added to the working
tree's side only, e.g. ``--work-flags="--precision fp32"``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.worktree import ROOT, checked_out, print_samples


def run_seconds(tree: Path, flags: list[str], extra_env: dict[str, str] | None = None) -> float:
    """Wall-clock seconds of ``python train.py FLAGS`` run in ``tree`` on its own code, with
    ``extra_env`` added to this process's environment."""
    env = {**os.environ, **(extra_env or {}), "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory(prefix="ram-env-train-ab-") as out:
        command = [sys.executable, "train.py", *flags, "--no-progress", "--out", out]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} in {tree} failed:\n{done.stderr[-3000:]}")
    return seconds


def parse_with_train_flags(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[str]]:
    """This command line's own arguments (``--rounds`` among them, at least 1) and the
    ``train.py`` flags after its ``--``."""
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("give train.py's flags after --, e.g. -- --algo reinforce --epochs 1")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    return args, argv[split + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        usage="python -m benchmarks.train_ab [--base REV] [--rounds N] -- TRAIN_FLAGS...",
    )
    parser.add_argument("--base", default="HEAD", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side")
    parser.add_argument(
        "--work-flags", default="", metavar="FLAGS", help="extra train.py flags, work side only"
    )
    args, flags = parse_with_train_flags(parser)
    sides = {"base": flags, "work": flags + shlex.split(args.work_flags)}
    samples: dict[str, list[float]] = {"base": [], "work": []}
    with checked_out(args.base) as base_tree:
        trees = {"base": base_tree, "work": ROOT}
        for round_index in range(args.rounds):
            order = ("base", "work") if round_index % 2 == 0 else ("work", "base")
            for side in order:
                samples[side].append(run_seconds(trees[side], sides[side]))
                print(f"{side:>5} {samples[side][-1]:7.1f} s", file=sys.stderr, flush=True)
    print(f"# train.py {shlex.join(flags)}; base = {args.base}")
    if args.work_flags:
        print(f"# work side adds: {args.work_flags}")
    base, work = print_samples(samples, " s", 1)
    print(f"median base {base:.1f} s, work {work:.1f} s, speed-up base/work {base / work:.2f}")


if __name__ == "__main__":
    main()
