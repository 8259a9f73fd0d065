"""Vector-env steps/s of the working tree against another git revision, side by side.

Checks the base revision out into a temporary git worktree, then alternates fresh
processes of the two (so drifting machine load hits both alike) and prints every sample,
the medians and their ratio. Run from the repository root:

    python benchmarks/env_speed_ab.py --base HEAD~1 --id GlimpseClutteredMNIST100-v0
    python benchmarks/env_speed_ab.py --base-threads 1 --work-threads 2   # same code, threads
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.worktree import ROOT, checked_out, print_samples

# Run in the tree with the tree on $PYTHONPATH, so that the ram_env and benchmarks it imports
# are the tree's own (a revision from before benchmarks/__init__.py: as a namespace package).
MEASURE = """
from benchmarks.env_speed import steps_per_second, vector_env
print(steps_per_second(vector_env({env_id!r}, {num_envs}, 0), {seconds}))
"""


def measure(
    tree: Path, env_id: str, num_envs: int, seconds: float, threads: int | None = None
) -> float:
    """Steps/s of the code in ``tree``, in a fresh interpreter that imports only that tree;
    ``threads`` sets ``$RAM_ENV_THREADS`` for it (None: the environment's own setting)."""
    code = MEASURE.format(env_id=env_id, num_envs=num_envs, seconds=seconds)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if threads is not None:
        env["RAM_ENV_THREADS"] = str(threads)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{done.stderr}")
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="git revision to compare against")
    parser.add_argument("--id", default="GlimpseClutteredMNIST100-v0", dest="env_id")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=3.0, help="per sample")
    parser.add_argument("--rounds", type=int, default=4, help="samples of each side")
    for side in ("base", "work"):
        parser.add_argument(
            f"--{side}-threads", type=int, default=None, metavar="N",
            help=f"$RAM_ENV_THREADS for the {side} side (default: as set, else the env's own)",
        )  # fmt: skip
    args = parser.parse_args()
    threads = {"base": args.base_threads, "work": args.work_threads}

    samples: dict[str, list[float]] = {"base": [], "work": []}
    with checked_out(args.base) as base_tree:
        for _ in range(args.rounds):
            for side, tree in (("base", base_tree), ("work", ROOT)):
                samples[side].append(
                    measure(tree, args.env_id, args.num_envs, args.seconds, threads[side])
                )
    settings = "".join(
        f", {side} threads {count}" for side, count in threads.items() if count is not None
    )
    print(f"# {args.env_id}, vector {args.num_envs}, steps/s; base = {args.base}{settings}")
    base, work = print_samples(samples, "", 0)
    print(f"median base {base:,.0f}, work {work:,.0f}, ratio work/base {work / base:.2f}")


if __name__ == "__main__":
    main()
