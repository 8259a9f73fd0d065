"""One training process per run folder.

Two processes training in one folder (a ``--resume`` typed twice, two scripts given the same
``--out``) would each overwrite the other's checkpoints and metrics, so a run holds an
exclusive lock on its folder while it trains and a second one is refused, naming the folder.
The lock is the kernel's (``flock`` on the folder itself): it ends with its process however
that ends, and leaves no file behind to go stale.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no flock; runs there go unguarded
    fcntl = None


class RunFolderBusy(RuntimeError):
    """Another live process is training in the run folder."""


@contextlib.contextmanager
def run_folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` (created if missing) for this process while the body runs."""
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)  # not inherited by exec'd children
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunFolderBusy(
                f"another process is training in {folder}; wait for it to end (or stop it), "
                "or choose another --out"
            ) from None
        yield
    finally:
        os.close(descriptor)
