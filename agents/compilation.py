"""``--compile``: the model's per-glimpse step through ``torch.compile`` (inductor).

Inductor fuses the step's elementwise work (activations, the LSTM gates, casts) into a few
generated kernels around the matrix products. On the CPU it writes C++ and needs a
compiler; the generated code is cached (``$TORCHINDUCTOR_CACHE_DIR``), so only a machine's
first run of a setting pays the full compilation.
"""

from __future__ import annotations

import os
import shutil

import torch
from torch import nn

CPU_COMPILERS = ("g++", "clang++", "c++")


def check_compiler(device: str | torch.device) -> None:
    """``RuntimeError`` naming what is missing when inductor cannot build CPU kernels here."""
    if torch.device(device).type != "cpu":
        return
    wanted = os.environ.get("CXX")
    found = shutil.which(wanted) if wanted else next(filter(shutil.which, CPU_COMPILERS), None)
    if not found:
        raise RuntimeError(
            f"--compile on the CPU needs a C++ compiler ({wanted or ' or '.join(CPU_COMPILERS)} "
            "not found on PATH); install one or train without --compile"
        )


def compile_step(model: nn.Module, device: str | torch.device) -> None:
    """Replace ``model.step`` by its compiled form (fixed shapes: one graph per batch size)."""
    check_compiler(device)
    model.step = torch.compile(model.step, dynamic=False)
