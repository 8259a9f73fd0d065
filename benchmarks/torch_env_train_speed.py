"""The REINFORCE trainer's images/s on the torch env against the numpy env, on one device.

    python -m benchmarks.torch_env_train_speed --device cuda     # cluttered 100x100, LSTM
    python -m benchmarks.torch_env_train_speed --device cuda --batch-size 512 1024
    python -m benchmarks.torch_env_train_speed --device cpu --env GlimpseMNIST-v0 --core rnn

Two loops of ``agents.reinforce.update``, each with its own model (the same initial weights)
on ``--device``: one steps the numpy ``GlimpseVectorEnv`` (each step's observation copied to
the device, the action back), the other the torch env on the device, which is what
``train.py --device cuda`` trains on. They run in alternating rounds, so that both see the
same machine; each update ends by reading its loss on the host, so the clock counts all of
its device work. Prints, per batch size, images/s of each (median of the rounds) and the
ratio torch / numpy. The issue's target on a GPU: 5x or more for the cluttered 100x100 LSTM.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

import gymnasium
import torch

import ram_env
from agents.precision import PRECISIONS, resolve_precision
from agents.reinforce import ReinforceConfig, build_model, make_optimizer, update
from benchmarks.train_speed import images_per_second


def train_env(config: ReinforceConfig, on_device: bool) -> gymnasium.vector.VectorEnv:
    """``agents.reinforce.make_train_env``'s env, numpy or torch whatever the device."""
    return gymnasium.make_vec(
        config.env_id,
        num_envs=config.batch_size,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split="train",
        **config.env_kwargs(),
        **({"device": config.device} if on_device else {}),
    )


def measure(config: ReinforceConfig, rounds: int, seconds: float) -> dict[str, list[float]]:
    """Images/s of the trainer on each env, one value per round."""
    loops = {}
    for name, on_device in (("numpy", False), ("torch", True)):
        env = train_env(config, on_device)
        torch.manual_seed(config.seed)
        model = build_model(config, env)
        optimizer = make_optimizer(model, config)

        def loop(index: int, model=model, optimizer=optimizer, env=env) -> None:
            update(model, optimizer, env, config, index)

        images_per_second(loop, config.batch_size, 0.5)  # warm-up: kernels, allocator
        loops[name] = loop
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(rounds):
        for name, loop in loops.items():
            rates[name].append(images_per_second(loop, config.batch_size, seconds))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="where the model (and torch env) run")
    parser.add_argument("--env", default="GlimpseClutteredMNIST100-v0", choices=ram_env.ENV_IDS)
    parser.add_argument("--core", default="lstm", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--batch-size", type=int, nargs="+", default=[512])
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--threads", type=int, default=None, help="torch's CPU threads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per loop per round")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    base = ReinforceConfig(env_id=args.env, core=args.core, device=args.device)
    precision = resolve_precision(args.precision, args.device, args.core)
    hardware = args.device
    if torch.device(args.device).type == "cuda":
        hardware = f"{args.device} ({torch.cuda.get_device_name(args.device)})"
    print(
        f"# trainer images/s, numpy env against torch env: {args.env}, core {args.core}, "
        f"{hardware}, precision {precision}, {torch.get_num_threads()} CPU threads; median of "
        f"{args.rounds} alternating rounds of {args.seconds} s"
    )
    print("| batch | numpy env | torch env | torch / numpy | rounds (numpy; torch) |")
    print("|---:|---:|---:|---:|---|")
    for batch_size in args.batch_size:
        config = replace(base, batch_size=batch_size, precision=precision)
        rates = measure(config, args.rounds, args.seconds)
        numpy_rate, torch_rate = (statistics.median(rates[name]) for name in ("numpy", "torch"))
        listed = "; ".join(", ".join(f"{value:.0f}" for value in rates[n]) for n in rates)
        print(
            f"| {batch_size} | {numpy_rate:,.0f} | {torch_rate:,.0f} | "
            f"{torch_rate / numpy_rate:.2f}x | {listed} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
