"""A clean stop on SIGINT/SIGTERM for any long loop: the signal becomes a flag it checks."""

from __future__ import annotations

import contextlib
import signal
from typing import Any


class StopRequest:
    """Turns the first SIGINT/SIGTERM into a flag checked between updates (a second SIGINT
    interrupts at once), so a stop always leaves a consistent, saved state."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: no handlers
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
