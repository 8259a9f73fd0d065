"""The benchmark reports' figures: matplotlib (the ``agents`` extra), written atomically.

matplotlib is imported on first use, so that the report modules import without it; the
Agg backend draws to files only (no display needed). ``save_png`` writes a figure through
``ram_env.atomic.write_atomic`` (a reader sees the old picture or the new one, never half)
and closes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ram_env.atomic import write_atomic


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(figure: Any, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Write ``figure`` to ``path`` as a PNG, atomically, and close it."""
    try:
        return write_atomic(path, lambda file: figure.savefig(file, format="png", dpi=dpi))
    finally:
        pyplot().close(figure)
