"""Training speed of the REINFORCE trainer through the env vs. the same model without it.

    python benchmarks/train_speed.py                                  # GlimpseMNIST-v0
    python benchmarks/train_speed.py --env GlimpseTranslatedMNIST-v0  # 60x60, 3 scales
    python benchmarks/train_speed.py --env GlimpseClutteredMNIST100-v0 --core lstm
    python -m benchmarks.train_speed --env GlimpseMNIST-v0 GlimpseTranslatedMNIST-v0  # per task
    python benchmarks/train_speed.py --compile    # adds the trainer with torch.compile

Two loops, timed in alternating rounds so that both see the same machine load:

* ``trainer``: ``agents.reinforce.update``, stepping the native ``GlimpseVectorEnv`` (numpy
  retina, env-side labels and rewards) exactly as ``train.py`` does;
* ``env-free``: the same episode loop, model, losses and optimiser on a tensor batch of
  MNIST digits read by the torch env's retina (``ram_env.torch_retina``; no numpy env): the
  cost of the model alone.

With ``--compile`` a third loop, ``compiled``, is the trainer with ``model.step`` wrapped
in ``torch.compile``, timed in the same rounds.

Prints training images/s of each (best round) and their ratio (trainer / env-free), the
FLOPs of one training image (the model's matrix products, forward and backward, counted by
``torch.utils.flop_counter``) and the GFLOP/s achieved beside the machine's practical peak
(large matrix products, fp32 and bf16, on the same threads), and the share of the trainer's
time spent in the env's ``step`` and ``reset``. ``--env`` takes several ids.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch

from agents.precision import PRECISIONS as PRECISION_NAMES
from agents.precision import autocast, resolve_precision
from agents.ram_policy import RecurrentAttentionModel
from agents.reinforce import (
    ReinforceConfig,
    build_model,
    collect_rollout,
    compute_losses,
    make_optimizer,
    make_train_env,
    update,
)
from ram_env.episodes import GlimpseTask
from ram_env.torch_retina import TorchRetina


def digit_canvases(
    canvas_shape: tuple[int, int], count: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST training digits at random positions on canvases of the task's size."""
    from ram_env.data import mnist_split

    images, labels = mnist_split("train")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(images), count)
    height, width = canvas_shape
    canvases = np.zeros((count, height, width), dtype=np.float32)
    rows = rng.integers(0, height - 27, count)
    cols = rng.integers(0, width - 27, count)
    for i, (index, row, col) in enumerate(zip(pick, rows, cols, strict=True)):
        canvases[i, row : row + 28, col : col + 28] = images[index] / 255.0
    return torch.from_numpy(canvases), torch.from_numpy(labels[pick].astype(np.int64))


class TensorCanvasEnv:
    """A stand-in for the glimpse vector env over tensor canvases read by the torch env's
    retina: the same episode loop (``play``) and learner without the numpy env, to time the
    model alone. Its arrays are views of tensors (no copies)."""

    def __init__(
        self,
        retina: TorchRetina,
        canvases: torch.Tensor,
        labels: torch.Tensor,
        num_envs: int,
        num_glimpses: int,
        generator: torch.Generator,
        task: GlimpseTask,
    ) -> None:
        self.task = task  # the real env's task: what the learner reads of it
        self.retina, self.canvases, self.labels = retina, canvases, labels
        self.num_envs, self.num_glimpses = num_envs, num_glimpses
        self.generator = generator
        self.padded, self.tables = retina.blank(num_envs, canvases.dtype)
        self.unwrapped = self

    def _observe(self, location: torch.Tensor) -> dict[str, np.ndarray]:
        glimpse = self.retina(self.padded, self.tables, location.double())
        return {"glimpse": glimpse.numpy(), "location": location.numpy()}

    def reset(self, seed=None, options=None):
        pick = torch.randint(len(self.canvases), (self.num_envs,), generator=self.generator)
        self.retina.prepare(self.canvases[pick], self.padded, self.tables)
        self.episode_labels = self.labels[pick].numpy()
        self.steps = 0
        location = torch.rand(self.num_envs, 2, generator=self.generator) * 2 - 1
        return self._observe(location), {}

    def step(self, action: np.ndarray):
        self.steps += 1
        action = torch.from_numpy(action)
        observation = self._observe(action[:, :2].clamp(-1.0, 1.0))
        predictions = action[:, 2:].argmax(-1).numpy()
        correct = predictions == self.episode_labels
        done = self.steps == self.num_glimpses
        reward = correct.astype(np.float64) if done else np.zeros(self.num_envs)
        infos = {"label": self.episode_labels, "prediction": predictions, "is_success": correct}
        return observation, reward, done, False, infos


def env_free_update(
    model: RecurrentAttentionModel,
    optimizer: torch.optim.Optimizer,
    env: TensorCanvasEnv,
    config: ReinforceConfig,
    index: int,
) -> None:
    """``agents.reinforce.update`` with the env replaced by tensor canvases."""
    with autocast(config.precision, config.device):
        rollout = collect_rollout(model, env, index, sample_class=False)
    optimizer.zero_grad(set_to_none=True)
    compute_losses(rollout, config.location_weight).total.backward()
    optimizer.step()


class EnvClock:
    """Seconds the trainer spends inside the vector env's ``step`` and ``reset`` (numpy work
    that the model's precision does not touch)."""

    def __init__(self, env) -> None:
        self.seconds = {"step": 0.0, "reset": 0.0}
        self.running = False  # counts only while set (the compiled loop shares the env)
        for name in self.seconds:
            setattr(env, name, self._timed(name, getattr(env, name)))

    def _timed(self, name: str, method):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                if self.running:
                    self.seconds[name] += time.perf_counter() - start

        return timed


def images_per_second(step, batch_size: int, seconds: float) -> float:
    """Run ``step`` for about ``seconds`` and return training images per second."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count < 3:
        step(count)
        count += 1
    return count * batch_size / elapsed


def flops_per_image(
    model: RecurrentAttentionModel, env, config: ReinforceConfig, index: int = 0
) -> float:
    """FLOPs of one training update (forward and backward of every layer), per image.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` from the model's matrix
    products as they run; the elementwise ops (activations, the loss) are left out, so
    this is the work the CPU's matrix units can do at their peak.
    """
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        rollout = collect_rollout(model, env, index, sample_class=config.loss == "reinforce")
        compute_losses(rollout, config.location_weight).total.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / config.batch_size


def matmul_peak(dtype: torch.dtype, seconds: float = 1.0, side: int = 2048) -> float:
    """GFLOP/s of large square matrix products in ``dtype`` on the current threads: the
    machine's practical peak for that precision."""
    a, b = torch.randn(side, side, dtype=dtype), torch.randn(side, side, dtype=dtype)
    for _ in range(2):
        a @ b
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        a @ b
        count += 1
    return 2 * side**3 * count / elapsed / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", nargs="+", default=["GlimpseMNIST-v0"], help="one or more ids")
    parser.add_argument("--glimpses", type=int, default=None)
    parser.add_argument("--glimpse-size", type=int, default=None)
    parser.add_argument("--scales", type=int, default=None)
    parser.add_argument("--core", default="rnn", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="per loop per round")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--precision", default="fp32", choices=PRECISION_NAMES)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    peaks = {name: matmul_peak(dtype) for name, dtype in PRECISIONS.items()}
    print(
        f"matrix-product peak on {torch.get_num_threads()} threads: "
        + ", ".join(f"{name} {value:.0f} GFLOP/s" for name, value in peaks.items())
    )
    precision = resolve_precision(args.precision, "cpu", args.core)
    for env_id in args.env:
        measure(env_id, args, precision, peaks[precision])


PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


def measure(env_id: str, args: argparse.Namespace, precision: str, peak: float) -> None:
    """Time the loops on one task and print images/s, FLOPs per image and GFLOP/s."""
    config = ReinforceConfig(
        env_id=env_id,
        num_glimpses=args.glimpses,
        glimpse_size=args.glimpse_size,
        num_scales=args.scales,
        core=args.core,
        batch_size=args.batch_size,
        threads=args.threads,
        precision=precision,
    )
    torch.manual_seed(0)
    env = make_train_env(config)
    task = env.unwrapped.task
    num_glimpses = env.unwrapped.num_glimpses
    names = ("trainer", "env-free", "compiled") if args.compile else ("trainer", "env-free")
    models = {name: build_model(config, env) for name in names}
    optimizers = {name: make_optimizer(model, config) for name, model in models.items()}
    retina = TorchRetina(task.retina, 1.0, torch.device("cpu"))  # float canvases in [0, 1]
    canvases, labels = digit_canvases(task.canvas_shape, 10_000)
    generator = torch.Generator().manual_seed(0)
    tensor_env = TensorCanvasEnv(
        retina, canvases, labels, config.batch_size, num_glimpses, generator, task
    )

    loops = {
        "trainer": lambda i: update(models["trainer"], optimizers["trainer"], env, config, i),
        "env-free": lambda i: env_free_update(
            models["env-free"], optimizers["env-free"], tensor_env, config, i
        ),
    }
    if args.compile:
        models["compiled"].step = torch.compile(models["compiled"].step)
        loops["compiled"] = lambda i: update(
            models["compiled"], optimizers["compiled"], env, config, i
        )
    flops = flops_per_image(models["trainer"], env, config)
    for loop in loops.values():  # warm up allocators and kernels (and compile)
        images_per_second(loop, config.batch_size, 0.5)
    rates: dict[str, list[float]] = {name: [] for name in loops}
    clock, trainer_seconds = EnvClock(env), 0.0
    for _ in range(args.rounds):
        for name, loop in loops.items():
            clock.running, start = name == "trainer", time.perf_counter()
            rates[name].append(images_per_second(loop, config.batch_size, args.seconds))
            if clock.running:
                trainer_seconds += time.perf_counter() - start

    print(
        f"{env_id}: {num_glimpses} glimpses of {task.num_scales} x {task.glimpse_size}^2, "
        f"core {config.core}, batch {config.batch_size}, {torch.get_num_threads()} threads, "
        f"{precision}; "
        f"{flops / 1e6:.2f} MFLOP per training image (matrix products, forward and backward)"
    )
    for name, values in rates.items():
        achieved = max(values) * flops / 1e9
        print(
            f"  {name:9s} best {max(values):8.0f} images/s, {achieved:6.1f} GFLOP/s = "
            f"{100 * achieved / peak:4.1f}% of the {precision} peak   "
            f"(rounds: {', '.join(f'{v:.0f}' for v in values)})"
        )
    share = {name: 100 * value / trainer_seconds for name, value in clock.seconds.items()}
    print(
        f"  the trainer's time in the env: {sum(share.values()):.0f}% "
        f"(step {share['step']:.0f}%, reset {share['reset']:.0f}%)"
    )
    if args.compile:
        print(f"  ratio compiled/trainer: {max(rates['compiled']) / max(rates['trainer']):.2f}")
    ratios = [a / b for a, b in zip(rates["trainer"], rates["env-free"], strict=True)]
    best_ratio = max(rates["trainer"]) / max(rates["env-free"])
    print(
        f"  ratio trainer/env-free: best rounds {best_ratio:.2f}, "
        f"median per round {statistics.median(ratios):.2f}"
    )
    assert math.isfinite(ratios[0])


if __name__ == "__main__":
    main()
