"""What every command line of the project shares: argument types and the default run folder."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path


def _number(kind: type, minimum: float, inclusive: bool, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        if value < minimum or (not inclusive and value == minimum):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1, True, "a positive integer")
non_negative_int = _number(int, 0, True, "a non-negative integer")
positive_float = _number(float, 0.0, False, "a positive number")
non_negative_float = _number(float, 0.0, True, "a non-negative number")


def default_run_dir(env: str, algo: str) -> Path:
    """``runs/<env>-<algo>-<timestamp>``: where a run goes when ``--out`` is not given."""
    return Path("runs") / f"{env}-{algo}-{time.strftime('%Y%m%d-%H%M%S')}"


def env_id(text: str) -> str:
    """A registered glimpse env id."""
    import gymnasium

    import ram_env  # registers the ids

    if text not in gymnasium.registry:
        known = ", ".join(ram_env.ALL_ENV_IDS)
        raise argparse.ArgumentTypeError(f"unknown env id {text!r}; known: {known}")
    return text


def device_name(text: str) -> str:
    """A torch device this machine has."""
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a torch device") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("CUDA was asked for but is not available")
    return text
