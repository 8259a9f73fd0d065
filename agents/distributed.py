"""Data-parallel training with ``torch.distributed``, in the processes torchrun starts.

    ranks = join(config.device, resume_from=run_dir / "last.pt")   # gloo on CPU, nccl on CUDA
    rows = ranks.rows(batch_size)         # this rank's share of every batch of episodes
    loss.backward()
    ranks.average_gradients(model.parameters())                    # one flat all-reduce
    optimizer.step()

Every rank holds the same model and takes the same optimiser step: it plays its rows of each
batch, and after ``backward`` the gradients are averaged over the ranks. With equal shares the
average of the ranks' batch means is the mean over the whole batch, so an update is the one a
single process makes on the whole batch, up to the order of float additions. A process
started without torchrun is rank 0 of 1: no process group is made and every collective
returns its input.

A rank that dies makes the others' next collective fail; they raise ``RankLost``, which
names the checkpoint to carry on from, and torchrun ends the job.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from agents.batch_rows import BatchRows
from agents.launch import Launch, LaunchError, RankLost

AGREE_EVERY_UPDATES = 8  # about 0.4 s of MNIST updates at batch 1024 on 2 ranks


class Ranks:
    """This process's place among the ranks of a run, and the collectives the trainer uses;
    also a ``ram_env.scoring.Shard``, so a split is scored a share per rank."""

    def __init__(
        self, launch: Launch, resume_from: Path | None, device: torch.device | None
    ) -> None:
        self.launch = launch
        self.rank, self.world_size = launch.rank, launch.world_size
        self.resume_from = resume_from
        self.device = device  # where collectives run: the GPU for nccl, the CPU for gloo

    @classmethod
    def single(cls) -> Ranks:
        """A process on its own: rank 0 of 1."""
        return cls(Launch(), None, None)

    @property
    def agree_every(self) -> int:
        """Updates between two agreements on the clock and on stopping: each agreement
        waits for the slowest rank, so ranks hold one every few updates (a stop or the
        time budget is seen a fraction of a second late); one process decides at every update."""
        return 1 if self.world_size == 1 else AGREE_EVERY_UPDATES

    @property
    def is_main(self) -> bool:
        """Rank 0, the one that writes checkpoints, metrics and TensorBoard logs."""
        return self.launch.is_main

    def rows(self, total: int) -> BatchRows:
        """This rank's equal share of a batch of ``total`` episodes."""
        if total % self.world_size:
            raise LaunchError(
                f"a batch of {total} episodes does not split evenly over {self.world_size} "
                f"ranks; give a multiple of {self.world_size}"
            )
        share = total // self.world_size
        return BatchRows(self.rank * share, (self.rank + 1) * share, total)

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Replace each gradient by its mean over the ranks: one all-reduce of the gradients
        flattened into one buffer. Parameters without a gradient stay without one (every
        rank runs the same graph, so they are the same on every rank)."""
        if self.world_size == 1:
            return
        grads = [parameter.grad for parameter in parameters if parameter.grad is not None]
        if not grads:
            return
        flat = torch.cat([grad.reshape(-1) for grad in grads])
        self._all_reduce(flat, dist.ReduceOp.SUM)
        flat /= self.world_size
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` averaged element-wise over the ranks."""
        if self.world_size == 1:
            return values
        return self._reduced(values, dist.ReduceOp.SUM) / self.world_size

    def max(self, *values: float) -> list[float]:
        """Each value's largest over the ranks (a clock, a stop flag), so all decide alike."""
        if self.world_size == 1:
            return list(values)
        reduced = self._reduced(torch.tensor(values, dtype=torch.float64), dist.ReduceOp.MAX)
        return reduced.tolist()

    def sum(self, values: np.ndarray) -> np.ndarray:
        """``values`` summed element-wise over the ranks (``ram_env.scoring.Shard``)."""
        if self.world_size == 1:
            return values
        return self._reduced(torch.from_numpy(np.asarray(values)), dist.ReduceOp.SUM).numpy()

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        """Every rank takes rank 0's weights and buffers (``DistributedDataParallel`` does
        the same at its start), in case a rank built its model otherwise."""
        if self.world_size == 1:
            return
        for tensor in module.state_dict().values():
            on_device = tensor.to(self.device)
            self._collective(dist.broadcast, on_device, 0)
            tensor.copy_(on_device)

    def check_same(self, settings: dict[str, Any]) -> None:
        """``LaunchError`` naming the first setting in which a rank differs from rank 0 (the
        same command must run on every node)."""
        if self.world_size == 1:
            return
        gathered: list[Any] = [None] * self.world_size
        self._collective(dist.all_gather_object, gathered, settings)
        for rank, theirs in enumerate(gathered):
            for name in sorted(set(gathered[0]) | set(theirs)):
                if theirs.get(name) != gathered[0].get(name):
                    raise LaunchError(
                        f"rank {rank} runs with {name}={theirs.get(name)!r}, rank 0 with "
                        f"{gathered[0].get(name)!r}: give every node the same command"
                    )

    def leave(self) -> None:
        """Take down the process group at the end of a run, once every rank has got there:
        a rank that closes its connections while another still reads from them can make
        gloo abort that other rank instead of ending it cleanly."""
        if self.world_size > 1 and dist.is_initialized():
            self._collective(dist.barrier)
            self._take_down()

    def _take_down(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()

    def _reduced(self, values: torch.Tensor, op: dist.ReduceOp) -> torch.Tensor:
        """``values`` reduced over the ranks, on the device they came from."""
        on_device = values.to(self.device, copy=True)
        self._all_reduce(on_device, op)
        return on_device.to(values.device)

    def _all_reduce(self, tensor: torch.Tensor, op: dist.ReduceOp) -> None:
        self._collective(dist.all_reduce, tensor, op)

    def _collective(self, collective: Any, *args: Any) -> None:
        """Run ``collective``; a failure (a rank died, its connection closed) becomes
        ``RankLost`` naming the checkpoint to carry on from, the group taken down first so
        that this process can exit cleanly."""
        try:
            collective(*args)
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            self._take_down()
            raise RankLost(
                f"rank {self.rank} of {self.world_size} lost contact with the other ranks "
                f"({reason}); carry on from the last checkpoint, {self.resume_from}, by "
                "starting the same torchrun command again with --resume"
            ) from error


def join(device: str, resume_from: Path, launch: Launch | None = None) -> Ranks:
    """Join the process group of the ranks torchrun started (rank 0 of 1 without torchrun):
    gloo for ``--device cpu``; for ``--device cuda``, nccl with rank ``LOCAL_RANK`` on the
    machine's GPU of that number. ``resume_from`` is named if a rank is lost."""
    launch = launch or Launch.from_environment()
    if launch.world_size == 1:
        return Ranks(launch, resume_from, None)
    target = torch.device(device)
    if target.type == "cpu":
        backend, collective_device = "gloo", torch.device("cpu")
    elif target.type == "cuda":
        if target.index is not None and launch.local_world_size > 1:
            raise LaunchError(
                f"--device {device}: each of the {launch.local_world_size} ranks on a machine "
                "takes the GPU numbered by its LOCAL_RANK; give --device cuda"
            )
        index = launch.local_rank if target.index is None else target.index
        if index >= torch.cuda.device_count():
            raise LaunchError(
                f"rank {launch.rank} needs GPU {index}, and this machine has "
                f"{torch.cuda.device_count()}: start at most one process per GPU"
            )
        torch.cuda.set_device(index)  # "cuda" now means this GPU for the whole process
        backend, collective_device = "nccl", torch.device("cuda", index)
    else:
        raise LaunchError(
            f"data-parallel runs take --device cpu (gloo) or cuda (nccl), not {device!r}"
        )
    dist.init_process_group(
        backend,
        rank=launch.rank,
        world_size=launch.world_size,
        device_id=collective_device if backend == "nccl" else None,
    )
    return Ranks(launch, resume_from, collective_device)
