"""Whole-process ``train.py`` time under several thread settings of the same code.

A setting is ``THREADS`` or ``THREADS:POLICY``: ``--threads THREADS`` (``auto``: none given,
train.py's default) and, with a policy, ``$OMP_WAIT_POLICY`` (``active``: idle OpenMP
threads spin; ``passive``: they sleep).
Settings alternate round by round in fresh processes, so drifting load hits all alike; the
machine's load average is printed beside the times, since the answer differs between an
idle machine and one whose cores are busy with other work:

    python -m benchmarks.train_threads --settings 1 2 auto --rounds 3 -- \\
        --algo reinforce --max-images 102400
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys

from benchmarks.train_ab import parse_with_train_flags, run_seconds
from benchmarks.worktree import ROOT

POLICIES = ("active", "passive")


def parse_setting(text: str) -> tuple[int | None, str | None]:
    """``"2:passive"`` -> ``(2, "passive")``; ``"1"`` -> ``(1, None)``; ``"auto"`` ->
    ``(None, None)``."""
    threads_text, _, policy = text.partition(":")
    if policy and policy.lower() not in POLICIES:
        raise argparse.ArgumentTypeError(f"the policy of {text!r} must be one of {POLICIES}")
    if threads_text == "auto":
        return None, policy.lower() or None
    try:
        threads = int(threads_text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise argparse.ArgumentTypeError(
            f"a setting's threads must be a whole number >= 1 or auto, got {text!r}"
        )
    return threads, policy.lower() or None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        usage="python -m benchmarks.train_threads --settings S [S ...] -- TRAIN_FLAGS...",
    )
    parser.add_argument(
        "--settings", nargs="+", required=True, help="THREADS or THREADS:POLICY, the first the base"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each setting")
    args, flags = parse_with_train_flags(parser)
    if "--threads" in flags or "OMP_WAIT_POLICY" in os.environ:
        parser.error("the settings decide --threads and $OMP_WAIT_POLICY: leave both unset")
    try:
        settings = {text: parse_setting(text) for text in args.settings}
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    samples: dict[str, list[float]] = {text: [] for text in settings}
    loads: list[float] = []
    for round_index in range(args.rounds):
        order = list(settings) if round_index % 2 == 0 else list(reversed(settings))
        for text in order:
            threads, policy = settings[text]
            loads.append(os.getloadavg()[0])
            extra_env = {"OMP_WAIT_POLICY": policy} if policy else {}
            thread_flags = [] if threads is None else ["--threads", str(threads)]
            seconds = run_seconds(ROOT, [*flags, *thread_flags], extra_env)
            samples[text].append(seconds)
            print(f"{text:>10} {seconds:7.1f} s", file=sys.stderr, flush=True)
    print(f"# train.py {shlex.join(flags)}; {os.cpu_count()} cores")
    print(f"# 1-minute load average before each run: {min(loads):.1f} to {max(loads):.1f}")
    base = statistics.median(samples[args.settings[0]])
    for text, values in samples.items():
        median = statistics.median(values)
        runs = ", ".join(f"{value:.1f}" for value in values)
        print(f"{text:>10}: median {median:6.1f} s ({runs}); time / {args.settings[0]}: "
              f"{median / base:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
