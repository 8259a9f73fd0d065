"""``BatchRows``: the rows of a batch one process plays, with random draws that do not
depend on how the batch is split.

A data-parallel run splits each batch of episodes over its processes. Whatever the model
draws per episode (a location's noise, a sampled class) is drawn for the whole batch from
the generator every process shares and cut to the process's rows, so the episodes of a
split batch are exactly those of the whole batch played in one process. The draws of the
whole batch cost little next to the model's step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BatchRows:
    """Rows ``[start, stop)`` of a batch of ``total`` episodes."""

    start: int
    stop: int
    total: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.stop <= self.total:
            raise ValueError(f"rows [{self.start}, {self.stop}) of {self.total} are no share")

    @classmethod
    def whole(cls, total: int) -> BatchRows:
        return cls(0, total, total)

    @property
    def count(self) -> int:
        return self.stop - self.start

    def normal(
        self, columns: int, generator: torch.Generator | None, device: torch.device
    ) -> torch.Tensor:
        """Standard normal draws ``(count, columns)``."""
        whole = torch.randn((self.total, columns), generator=generator, device=device)
        return whole[self.start : self.stop]

    def uniform(
        self, columns: int, generator: torch.Generator | None, device: torch.device
    ) -> torch.Tensor:
        """Uniform draws in ``[0, 1)``, ``(count, columns)``."""
        whole = torch.rand((self.total, columns), generator=generator, device=device)
        return whole[self.start : self.stop]

    def categorical(
        self, probabilities: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """One class per row drawn from ``probabilities`` ``(count, K)``: ``argmax p / q``
        with ``q ~ Exp(1)``, which is how ``torch.multinomial`` draws one sample, so a whole
        batch draws what ``torch.multinomial(probabilities, 1, generator=...)`` would."""
        shape = (self.total, probabilities.shape[1])
        exponential = torch.empty(shape, dtype=probabilities.dtype, device=probabilities.device)
        exponential.exponential_(1.0, generator=generator)
        return (probabilities / exponential[self.start : self.stop]).argmax(-1)
