"""Checkpoints: written atomically, read back with ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors and plain Python values only (no pickled classes), so
loading never runs code from the file. It is first written to a temporary file in the same
folder and then moved over the target with ``os.replace``: a process killed at any moment
leaves either the old complete file or the new complete file, never a partial one.
"""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ram_env.atomic import write_atomic

FORMAT = "ram-env-agent"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "algo", "config", "model_config", "model")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit what it is loaded into."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format tags) to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": VERSION, **payload}
    write_atomic(path, lambda file: torch.save(payload, file))
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint``; raise ``CheckpointError`` if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        # weights_only refusals and truncated/garbled files both land here.
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise CheckpointError(
            f"cannot read checkpoint {path}: corrupt, truncated or not a checkpoint ({first_line})"
        ) from error
    except Exception as error:  # the unpickler can raise almost anything on garbage
        raise CheckpointError(
            f"cannot read checkpoint {path}: not a file torch.load can read, so not a "
            f"checkpoint ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ram-env agent checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {payload.get('version')!r}; this code reads {VERSION}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise CheckpointError(f"{path} lacks the entries {missing}")
    return payload


def rng_states() -> dict[str, Any]:
    """The global torch, numpy and Python random states, as tensors and plain types."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    version, python_state, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": name,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": version, "state": list(python_state), "gauss_next": gauss_next},
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """Put back the global random states saved by ``rng_states``."""
    torch.set_rng_state(states["torch"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["name"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = states["python"]
    random.setstate(
        (python_state["version"], tuple(python_state["state"]), python_state["gauss_next"])
    )
