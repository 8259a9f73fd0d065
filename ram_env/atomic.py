"""Atomic file writes: a file is either its old complete self or the new one, never half."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temp file beside ``path``, then rename it over ``path``.

    The data is flushed to disk before the rename, the file gets the usual mode (mkstemp's
    is private), and on any failure the temp file is removed and the old file kept.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(
    path: str | os.PathLike, data: Any, default: Callable[[Any], Any] | None = None
) -> Path:
    """``data`` as indented JSON (``default`` converts what json cannot), written atomically."""
    text = json.dumps(data, indent=2, default=default) + "\n"
    return write_atomic(path, lambda file: file.write(text.encode()))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
