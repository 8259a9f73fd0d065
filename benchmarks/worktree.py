"""Side-by-side (A/B) benchmarks: a git revision checked out beside the working tree, and
the samples of both sides printed alike."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def checked_out(revision: str) -> Iterator[Path]:
    """A temporary detached worktree of ``revision``, removed on exit."""
    with tempfile.TemporaryDirectory(prefix="ram-env-ab-") as scratch:
        tree = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(tree), revision],
            cwd=ROOT, check=True,
        )  # fmt: skip
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)


def print_samples(samples: dict[str, list[float]], unit: str, digits: int) -> tuple[float, float]:
    """Print the base and work samples of an A/B comparison; return their medians."""
    for side in ("base", "work"):
        print(f"{side:>5}: " + ", ".join(f"{value:,.{digits}f}{unit}" for value in samples[side]))
    return statistics.median(samples["base"]), statistics.median(samples["work"])
