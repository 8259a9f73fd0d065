"""Data-parallel scaling of ``train.py --algo reinforce`` on this machine: 1 process against
N ranks under torchrun, one torch thread each, and the all-reduce cost behind it.

    python -m benchmarks.scaling                                 # GlimpseMNIST-v0 defaults
    python -m benchmarks.scaling --rounds 3 -- --env GlimpseClutteredMNIST100-v0 \\
        --core lstm --batch-size 512 --max-images 51200

Everything after ``--`` goes to ``train.py`` on every side (``--threads 1``, ``--out`` and
``--no-progress`` are added; without ``--max-images``, ``--epochs`` or ``--train-minutes``
it runs one epoch). Three sides run in alternating rounds, so drifting load hits all alike:

* ``1 process``: the command as given;
* ``N ranks``: the same command under torchrun (the same global batch, split over the ranks);
* ``N apart``: N one-process runs started together, each on ``batch / N`` episodes with its
  own seed: a rank's work without the collectives, i.e. the most that N ranks could reach
  on this machine (each trains the whole run length, so its wall time is not comparable).

Each run gives three figures:

* trainer images/s: rank 0's ``images_per_second`` in ``metrics.csv``, the training loop
  alone (all-reduces included; start-up and validation not); summed over the apart runs;
* wall seconds of the whole command (start-up, data, validation, checkpoints);
* CPU seconds of all its processes: on a machine busy with other work, where wall times
  stretch, the work the ranks add over one process (launcher and start-ups included).

Then the all-reduce of one update, timed on its own: a float32 buffer of the model's
parameter count summed over 2 gloo processes on 127.0.0.1; and, from it and the measured
compute per update, the efficiency predicted for N ranks on N nodes over networks of a few
bandwidths (``docs/scale-out.md`` explains the model).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parent.parent
RUN_LENGTH_FLAGS = ("--max-images", "--epochs", "--train-minutes")
ALLREDUCE_REPEATS = 50
NETWORKS_GBIT = (10.0, 25.0, 100.0)  # Ethernet/InfiniBand classes for the prediction
NETWORK_LATENCY_S = 30e-6  # one message across a data-centre network, order of magnitude
PREDICTED_RANKS = (2, 4, 8, 16, 64)


@dataclass(frozen=True)
class Sample:
    """One run of ``train.py``."""

    images_per_second: float  # the trainer's (rank 0's metrics.csv)
    wall_seconds: float  # the whole command's
    cpu_seconds: float  # of all its processes, user and system


def train_command(ranks: int, flags: list[str], out: Path) -> list[str]:
    """``train.py FLAGS`` in one process, or under torchrun on ``ranks`` processes here."""
    own = ["--threads", "1", "--no-progress", "--out", str(out)]
    if ranks == 1:
        return [sys.executable, "train.py", *flags, *own]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*launcher, "--nproc-per-node", str(ranks), "train.py", *flags, *own]


def run_once(ranks: int, flags: list[str]) -> Sample:
    """Train once on ``ranks`` processes; the trainer's images/s and the wall time."""
    with tempfile.TemporaryDirectory(prefix="ram-env-scaling-") as scratch:
        out = Path(scratch) / "run"
        return _run_together([train_command(ranks, flags, out)], [out])


def run_apart(processes: int, flags: list[str], batch: int) -> Sample:
    """``processes`` one-process runs at once, each on ``batch / processes`` episodes with its
    own seed: the ranks' work without their collectives; images/s summed over them."""
    with tempfile.TemporaryDirectory(prefix="ram-env-scaling-") as scratch:
        outs = [Path(scratch) / f"run-{index}" for index in range(processes)]
        commands = []
        for index, out in enumerate(outs):
            own = _with_flag(flags, "--batch-size", str(batch // processes))
            own = _with_flag(own, "--seed", str(_flag_value(flags, "--seed", 0) + index))
            commands.append(train_command(1, own, out))
        return _run_together(commands, outs)


def _run_together(commands: list[list[str]], outs: list[Path]) -> Sample:
    """Start ``commands`` together and wait for all; the trainers' images/s (read from the
    run folders ``outs``) summed, the wall time of the last, the CPU of all."""
    environ = {**os.environ, "OMP_NUM_THREADS": "1"}
    quiet, pipe = subprocess.DEVNULL, subprocess.PIPE
    cpu_before, start = _children_cpu_seconds(), time.perf_counter()
    running = [
        subprocess.Popen(command, cwd=ROOT, env=environ, text=True, stdout=quiet, stderr=pipe)
        for command in commands
    ]
    errors = [process.communicate()[1] for process in running]
    seconds, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu_before
    for command, process, error in zip(commands, running, errors, strict=True):
        if process.returncode != 0:
            raise SystemExit(f"{shlex.join(command)} failed:\n{error[-3000:]}")
    rate = sum(_trainer_images_per_second(out) for out in outs)
    return Sample(rate, seconds, cpu)


def _trainer_images_per_second(out: Path) -> float:
    """Images/s of the training loop alone, from a run's ``metrics.csv`` (rank 0's)."""
    with (out / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    images = sum(int(row["images"]) - int(previous["images"]) for previous, row in _pairs(rows))
    seconds_training = sum(
        (int(row["images"]) - int(previous["images"])) / float(row["images_per_second"])
        for previous, row in _pairs(rows)
    )
    return images / seconds_training


def _children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children and theirs (torchrun's ranks)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pairs(rows: list[dict[str, str]]) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Each metrics row with the one before it (the first with a row of 0 images)."""
    return list(zip([{"images": "0"}, *rows[:-1]], rows, strict=True))


def parameter_count(flags: list[str]) -> int:
    """The parameters of the model ``train.py --algo reinforce FLAGS`` trains."""
    import train
    from agents.reinforce import ReinforceConfig, build_model, make_train_env
    from agents.settings import config_from_args

    args = train.build_parser("reinforce").parse_args(["--algo", "reinforce", *flags])
    config = config_from_args(ReinforceConfig, args, algo="reinforce")
    env = make_train_env(config, num_envs=1)
    try:
        return sum(parameter.numel() for parameter in build_model(config, env).parameters())
    finally:
        env.close()


def _allreduce_worker(rank: int, world_size: int, port: int, numel: int, out: str) -> None:
    """Rank ``rank``: time ``ALLREDUCE_REPEATS`` all-reduces of ``numel`` floats (after
    warm-up); rank 0 writes the median seconds to ``out``."""
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    buffer = torch.ones(numel)
    for _ in range(5):
        dist.all_reduce(buffer)
    times = []
    for _ in range(ALLREDUCE_REPEATS):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(buffer)
        times.append(time.perf_counter() - start)
    if rank == 0:
        Path(out).write_text(str(statistics.median(times)))
    dist.destroy_process_group()


def allreduce_seconds(numel: int, world_size: int = 2) -> float:
    """Median seconds of one gloo all-reduce of ``numel`` float32s over ``world_size``
    processes on this machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="ram-env-allreduce-") as scratch:
        out = Path(scratch) / "seconds"
        mp.spawn(_allreduce_worker, args=(world_size, port, numel, str(out)), nprocs=world_size)
        return float(out.read_text())


def ring_allreduce_seconds(
    num_bytes: float, ranks: int, bandwidth_bytes_s: float, latency_s: float
) -> float:
    """A ring all-reduce's time: each rank sends and receives ``2 (N-1)/N`` of the buffer,
    in ``2 (N-1)`` steps of one message latency each."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) / ranks * num_bytes / bandwidth_bytes_s + 2 * (ranks - 1) * latency_s


def predicted_efficiency(compute_s: float, allreduce_s: float, ranks: int) -> float:
    """Speed-up over one rank divided by ``ranks``, for a fixed global batch whose update
    takes ``compute_s`` on one rank: each rank computes ``1/ranks`` of it, then waits for
    the all-reduce (not overlapped with the compute)."""
    return compute_s / (compute_s + ranks * allreduce_s)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        usage="python -m benchmarks.scaling [--ranks N] [--rounds R] [-- TRAIN_FLAGS...]",
    )
    parser.add_argument("--ranks", type=int, default=2, help="processes of the parallel side")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side")
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    flags = ["--algo", "reinforce", *argv[split + 1 :]]
    if args.ranks < 2 or args.rounds < 1:
        parser.error("--ranks must be >= 2 and --rounds >= 1")
    batch = _flag_value(flags, "--batch-size", 1024)
    if not any(flag.split("=")[0] in RUN_LENGTH_FLAGS for flag in flags):
        flags += ["--epochs", "1"]

    if batch % args.ranks:
        parser.error(f"--batch-size {batch} does not split over {args.ranks} ranks")

    one, many, apart = "1 process", f"{args.ranks} ranks", f"{args.ranks} apart"
    runs = {
        one: lambda: run_once(1, flags),
        many: lambda: run_once(args.ranks, flags),
        apart: lambda: run_apart(args.ranks, flags, batch),
    }
    samples: dict[str, list[Sample]] = {side: [] for side in runs}
    for round_index in range(args.rounds):
        order = list(runs) if round_index % 2 == 0 else list(reversed(runs))
        for side in order:
            sample = runs[side]()
            samples[side].append(sample)
            print(
                f"{side:>10}: {sample.images_per_second:8,.0f} images/s trainer, "
                f"{sample.wall_seconds:6.1f} s whole run, {sample.cpu_seconds:6.1f} CPU s",
                file=sys.stderr,
                flush=True,
            )

    def median(side: str, field: str) -> float:
        return statistics.median(getattr(sample, field) for sample in samples[side])

    print(f"# train.py {shlex.join(flags)}, 1 thread per process, medians of {args.rounds}")
    print(f"# {apart}: {args.ranks} one-process runs at once on batch {batch // args.ranks} each")
    print("| side | trainer images/s | whole run s | CPU s |")
    print("|---|---:|---:|---:|")
    for side in runs:
        print(
            f"| {side} | {median(side, 'images_per_second'):,.0f} | "
            f"{median(side, 'wall_seconds'):.1f} | {median(side, 'cpu_seconds'):.1f} |"
        )
    rate = {side: median(side, "images_per_second") for side in runs}
    print(
        f"speed-up of {many}: trainer {rate[many] / rate[one]:.2f}x, whole run "
        f"{median(one, 'wall_seconds') / median(many, 'wall_seconds'):.2f}x; CPU "
        f"{median(many, 'cpu_seconds') / median(one, 'cpu_seconds'):.2f}x one process's"
    )
    print(
        f"{apart} (the ranks' work without collectives): {rate[apart] / rate[one]:.2f}x one "
        f"process's images/s; the ranks reach {100 * rate[many] / rate[apart]:.0f}% of it"
    )

    numel = parameter_count(flags[2:])
    measured = allreduce_seconds(numel)
    compute = batch / rate[one]  # seconds of one update in one process (1 thread)
    print(
        f"\nmodel: {numel:,} parameters ({4 * numel / 1e6:.2f} MB of float32 gradients); "
        f"one update of batch {batch} takes {1000 * compute:.0f} ms in 1 process x 1 thread; "
        f"gloo all-reduce of its gradients, 2 processes here: {1000 * measured:.2f} ms"
    )
    print("\npredicted efficiency (speed-up / N), this update's compute on each node's rank:")
    header = " | ".join(f"{gbit:g} Gb/s" for gbit in NETWORKS_GBIT)
    print(f"| ranks (nodes) | {header} |")
    print("|---:|" + "---:|" * len(NETWORKS_GBIT))
    for ranks in PREDICTED_RANKS:
        cells = []
        for gbit in NETWORKS_GBIT:
            seconds = ring_allreduce_seconds(4 * numel, ranks, gbit * 1e9 / 8, NETWORK_LATENCY_S)
            cells.append(f"{100 * predicted_efficiency(compute, seconds, ranks):.0f}%")
        print(f"| {ranks} | " + " | ".join(cells) + " |")


def _with_flag(flags: list[str], name: str, value: str) -> list[str]:
    """``flags`` with ``name`` set to ``value`` (replaced where given, else added)."""
    kept, skip = [], False
    for flag in flags:
        if skip:
            skip = False
        elif flag == name:
            skip = True
        elif not flag.startswith(name + "="):
            kept.append(flag)
    return [*kept, name, value]


def _flag_value(flags: list[str], name: str, default: int) -> int:
    """The integer after ``name`` in ``flags`` (``--name N`` or ``--name=N``), or ``default``."""
    for index, flag in enumerate(flags):
        if flag == name and index + 1 < len(flags):
            return int(flags[index + 1])
        if flag.startswith(name + "="):
            return int(flag.split("=", 1)[1])
    return default


if __name__ == "__main__":
    main()
