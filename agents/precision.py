"""Mixed precision: where the model's matrix products run in bfloat16 and where not.

``--precision bf16`` runs the glimpse network and the core under ``torch.autocast`` (their
matrix products in bfloat16, at about twice the fp32 rate on CPUs with AVX512-BF16 or AMX
and on recent GPUs); the heads, the losses, the log-probabilities and the baseline stay fp32,
as do the weights and the optimiser, so checkpoints do not depend on the precision.
``auto`` picks bf16 where the hardware runs it natively and the model's core is one whose
accuracy was checked under bf16 (``AUTO_BF16_CORES``), else fp32: the paper's ReLU RNN
lost 0.1-0.2 points of MNIST test error under bf16 (records in ``docs/results/precision/``),
so it stays fp32 unless asked.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it runs, so the CLI's settings import no torch
    import torch

PRECISIONS = ("auto", "fp32", "bf16")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 products
AUTO_BF16_CORES = ("lstm",)  # cores ``auto`` runs in bf16 (checked at equal wall-clock)


@functools.cache
def cpu_runs_bf16_natively() -> bool:
    """Whether this CPU has bf16 matrix instructions (Linux; elsewhere: assumed not)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])  # fmt: skip
    return any(flag in flags for flag in CPU_BF16_FLAGS)


def resolve_precision(precision: str, device: str | torch.device, core: str) -> str:
    """``"fp32"`` or ``"bf16"``: ``precision``, with ``"auto"`` decided for ``device`` and the
    model's ``core``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    if core not in AUTO_BF16_CORES:
        return "fp32"
    import torch

    if torch.device(device).type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_runs_bf16_natively() else "fp32"


def autocast(precision: str, device: str | torch.device) -> contextlib.AbstractContextManager:
    """The context the model's forward pass runs in for ``precision`` (``"fp32"`` or ``"bf16"``,
    as ``resolve_precision`` gives it).

    Weight casts are not cached across steps: each step casts the fp32 weights afresh, so
    the gradients of the T steps are summed into the fp32 weights, not in bfloat16.
    """
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"autocast takes a resolved precision, fp32 or bf16, got {precision!r}")
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, cache_enabled=False)


def full_precision(tensor: torch.Tensor) -> contextlib.AbstractContextManager:
    """A context in which autocast is off, for the parts that must stay fp32."""
    import torch

    return torch.autocast(tensor.device.type, enabled=False)
