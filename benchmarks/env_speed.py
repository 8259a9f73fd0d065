"""Environment steps per second for every registered id (a benchmark, not a test).

For each id it measures, with random actions and resets included:
  - one env through ``gymnasium.make`` (what users get: checker and order wrappers);
  - the same env unwrapped;
  - the native vector env at 1, 64 and 1024 envs;
  - a naive Python loop over 64 and 1024 unwrapped single envs doing the same work,
    the baseline of the ``speedup`` column.

Run: ``python benchmarks/env_speed.py`` (about two minutes); ``--ids``/``--seconds`` to narrow.
Prints a Markdown table.

``--device DEVICE`` (``cpu``, ``cuda``) measures instead the torch env
(``gym.make_vec(id, num_envs=N, device=DEVICE)``) beside the numpy vector env at ``--envs``
envs (default 1024), in alternating rounds so that both see the same machine load, and
prints the median of each and their ratio; ``--threads`` sets torch's CPU threads (the numpy
env's are ``$RAM_ENV_THREADS``).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import ram_env
from ram_env.episodes import env_threads

VECTOR_SIZES = (1, 64, 1024)
NAIVE_SIZES = (64, 1024)


def steps_per_second(
    step: Callable[[], int], seconds: float, finish: Callable[[], None] | None = None
) -> float:
    """Call ``step`` (which returns how many env steps it did) for about ``seconds``;
    ``finish`` waits for work still queued (a GPU's) before the clock stops."""
    step()  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += step()
    if finish is not None:
        finish()
    return done / (time.perf_counter() - start)


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


def torch_vector_env(env_id: str, num_envs: int, seed: int, device: str) -> Callable[[], int]:
    """The torch env on ``device``, stepped with tensor actions already there."""
    import torch

    envs = gym.make_vec(env_id, num_envs=num_envs, device=device)
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    actions = [torch.as_tensor(envs.action_space.sample()).to(device) for _ in range(16)]
    counter = iter(range(1 << 62))

    def step() -> int:
        envs.step(actions[next(counter) % 16])
        return num_envs

    return step


def device_rows(
    ids: list[str], device: str, num_envs: int, seconds: float, rounds: int
) -> list[dict[str, float]]:
    """Steps/s of the numpy env and the torch env on ``device`` per id (median of
    ``rounds`` alternating rounds) and their ratio."""
    import torch

    def finish() -> None:
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)

    rows = []
    for env_id in ids:
        loops = {
            "numpy": (vector_env(env_id, num_envs, 0), None),
            "torch": (torch_vector_env(env_id, num_envs, 0, device), finish),
        }
        rates: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(rounds):
            for name, (step, done) in loops.items():
                rates[name].append(steps_per_second(step, seconds, done))
        row = {"id": env_id, **{name: statistics.median(v) for name, v in rates.items()}}
        row["ratio"] = row["torch"] / row["numpy"]
        rows.append(row)
    return rows


def print_device_table(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"# env steps/s at {args.envs} envs: numpy env ({env_threads()} threads) against the "
        f"torch env on {args.device} (torch {torch.__version__}, {torch.get_num_threads()} CPU "
        f"threads); median of {args.rounds} alternating rounds of {args.seconds} s"
    )
    print(f"| id | numpy env | torch env ({args.device}) | torch / numpy |")
    print("|---|---:|---:|---:|")
    for row in device_rows(args.ids, args.device, args.envs, args.seconds, args.rounds):
        print(
            f"| {row['id']} | {row['numpy']:,.0f} | {row['torch']:,.0f} | {row['ratio']:.2f}x |",
            flush=True,
        )


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
    parser.add_argument(
        "--device", default=None, help="time the torch env on this device against the numpy env"
    )
    device_options = {"envs": 1024, "rounds": 3, "threads": None}
    parser.add_argument("--envs", type=int, help="with --device: envs (default 1024)")
    parser.add_argument("--rounds", type=int, help="with --device: alternating rounds (3)")
    parser.add_argument("--threads", type=int, help="with --device: torch's CPU threads")
    args = parser.parse_args()
    given = [f"--{name}" for name in device_options if getattr(args, name) is not None]
    if args.device is None and given:
        parser.error(f"{', '.join(given)} only go with --device")
    if args.device is not None:
        for name, default in device_options.items():
            if getattr(args, name) is None:
                setattr(args, name, default)
        print_device_table(args)
        return

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
