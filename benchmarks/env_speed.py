"""Environment steps per second for every registered id (a benchmark, not a test).

For each id it measures, with random actions and resets included:
  - one env through ``gymnasium.make`` (what users get: checker and order wrappers);
  - the same env unwrapped;
  - the native vector env at 1, 64 and 1024 envs;
  - a naive Python loop over 64 and 1024 unwrapped single envs doing the same work,
    the baseline of the ``speedup`` column.

Run: ``python benchmarks/env_speed.py`` (about two minutes); ``--ids``/``--seconds`` to narrow.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import ram_env

VECTOR_SIZES = (1, 64, 1024)
NAIVE_SIZES = (64, 1024)


def steps_per_second(step: Callable[[], int], seconds: float) -> float:
    """Call ``step`` (which returns how many env steps it did) for about ``seconds``."""
    step()  # warm-up
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += step()
    return done / elapsed


def single_env(env: gym.Env, seed: int) -> Callable[[], int]:
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(256)]
    counter = iter(range(1 << 62))

    def step() -> int:
        _, _, terminated, truncated, _ = env.step(actions[next(counter) % 256])
        if terminated or truncated:
            env.reset()
        return 1

    return step


def vector_env(env_id: str, num_envs: int, seed: int) -> Callable[[], int]:
    envs = gym.make_vec(env_id, num_envs=num_envs)
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    actions = [envs.action_space.sample() for _ in range(16)]
    counter = iter(range(1 << 62))

    def step() -> int:
        envs.step(actions[next(counter) % 16])
        return num_envs

    return step


def naive_loop(env_id: str, num_envs: int, seed: int) -> Callable[[], int]:
    envs = [gym.make(env_id).unwrapped for _ in range(num_envs)]
    for i, env in enumerate(envs):
        env.reset(seed=seed + i)
    rng = np.random.default_rng(seed)
    space = envs[0].action_space
    actions = rng.uniform(space.low, space.high, (num_envs, *space.shape)).astype(np.float32)

    def step() -> int:
        for env, action in zip(envs, actions, strict=True):
            _, _, terminated, _, _ = env.step(action)
            if terminated:
                env.reset()
        return num_envs

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ids", nargs="+", default=list(ram_env.ALL_ENV_IDS), choices=ram_env.ALL_ENV_IDS
    )
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    args = parser.parse_args()

    print(f"# env steps/s on {platform.processor() or platform.machine()}, numpy {np.__version__}")
    header = ["id", "make", "unwrapped"]
    header += [f"vector {n}" for n in VECTOR_SIZES] + [f"naive loop {n}" for n in NAIVE_SIZES]
    header += [f"speedup {n}" for n in NAIVE_SIZES]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for env_id in args.ids:
        row = {
            "make": steps_per_second(single_env(gym.make(env_id), 0), args.seconds),
            "unwrapped": steps_per_second(single_env(gym.make(env_id).unwrapped, 0), args.seconds),
        }
        for n in VECTOR_SIZES:
            row[f"vector {n}"] = steps_per_second(vector_env(env_id, n, 0), args.seconds)
        for n in NAIVE_SIZES:
            row[f"naive loop {n}"] = steps_per_second(naive_loop(env_id, n, 0), args.seconds)
            row[f"speedup {n}"] = row[f"vector {n}"] / row[f"naive loop {n}"]
        cells = [env_id] + [
            f"{row[key]:.1f}x" if key.startswith("speedup") else f"{row[key]:,.0f}"
            for key in header[1:]
        ]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
