"""Actions for the torch env: decoded on the device, checked without waiting for it.

Actions given as tensors (a policy's output on the device) are decoded there, into float64
locations ``(N, 2)`` in ``[-1, 1]`` and int64 predictions ``(N,)``, exactly as
``ram_env.actions.ActionDecoder`` decodes arrays. Their shape and dtype are checked at once
(the host knows them); their values (NaN or inf, whole numbers, ranges) are checked on the
device into a bit mask of ``PROBLEMS``, which the env reads when it chooses to (reading it
waits for the device). Until then the decoded values are made safe to use: no index ever
leaves its array. Actions given as numpy arrays or lists go through ``ActionDecoder`` itself
and are refused at once. Needs PyTorch (imported only when a torch env is made).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ram_env.actions import ActionDecoder

NOT_FINITE, NOT_WHOLE, OUT_OF_RANGE = 1, 2, 4
PROBLEMS = {
    NOT_FINITE: "NaN or inf",
    NOT_WHOLE: "numbers that are not whole where integers belong",
    OUT_OF_RANGE: "integers outside their range",
}


def describe(problems: int) -> str:
    """The problems of a bit mask, in words."""
    return ", ".join(text for bit, text in PROBLEMS.items() if problems & bit)


def holds_tensor(action: Any) -> bool:
    """Whether an action (or a part of a ``dict`` action) is a tensor."""
    if isinstance(action, Mapping):
        return any(isinstance(part, torch.Tensor) for part in action.values())
    return isinstance(action, torch.Tensor)


class TorchActionDecoder:
    """Decodes batches of ``num_envs`` actions of one encoding onto ``device``."""

    def __init__(self, decoder: ActionDecoder, num_envs: int, device: torch.device) -> None:
        self.decoder = decoder
        self.num_envs = num_envs
        self.device = device
        grid = np.linspace(-1.0, 1.0, decoder.grid_size)  # the numpy decoder's own grid
        self._grid = torch.as_tensor(grid, dtype=torch.float64).to(device)

    def decode(self, action: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(locations, predictions, problems)``: ``problems`` is a 0-d int64 bit mask on the
        device for tensor actions, None for arrays (checked, and refused, at once)."""
        if not holds_tensor(action):
            locations, predictions = self.decoder.decode(action, self.num_envs)
            locations = torch.as_tensor(locations).to(self.device)
            return locations, torch.as_tensor(predictions).to(self.device), None
        n, action_type = self.num_envs, self.decoder.action_type
        num_classes, grid_size = self.decoder.num_classes, self.decoder.grid_size
        problems = torch.zeros((), dtype=torch.int64, device=self.device)
        if action_type == "box":
            scores, problems = self._real(action, "action", (n, 2 + num_classes), problems)
            locations, predictions = scores[:, :2], torch.argmax(scores[:, 2:], dim=-1)
        elif action_type == "dict":
            if not isinstance(action, Mapping) or set(action) != {"location", "label"}:
                raise ValueError(
                    "a 'dict' action must be a mapping with exactly the keys 'location' and "
                    f"'label', got {action!r}"
                )
            locations, problems = self._real(
                action["location"], "action['location']", (n, 2), problems
            )
            predictions, problems = self._whole(
                action["label"], "action['label']", (n,), num_classes, problems
            )
        elif action_type == "multidiscrete":
            triple, problems = self._whole(action, "action", (n, 3), None, problems)
            highs = torch.tensor([grid_size, grid_size, num_classes], device=self.device)
            problems = _flag(problems, OUT_OF_RANGE, ((triple < 0) | (triple >= highs)).any())
            triple = torch.minimum(triple.clamp(min=0), highs - 1)
            locations, predictions = self._grid[triple[:, :2]], triple[:, 2]
        else:
            high = grid_size * grid_size * num_classes
            flat, problems = self._whole(action, "action", (n,), high, problems)
            cell, predictions = flat // num_classes, flat % num_classes
            column, row = cell // grid_size, cell % grid_size
            locations = torch.stack([self._grid[column], self._grid[row]], dim=-1)
        return locations.clamp(-1.0, 1.0), predictions, problems

    def _tensor(self, value: Any, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """``value`` as a tensor on the device, its dtype and shape checked (no waiting)."""
        if not isinstance(value, torch.Tensor):
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"{name} must be numeric, got dtype {array.dtype} ({value!r})")
            value = torch.as_tensor(array)
        if value.dtype == torch.bool:
            raise ValueError(f"{name} must hold numbers, got booleans")
        if value.is_complex() or not (value.is_floating_point() or _is_integer(value.dtype)):
            raise ValueError(f"{name} must hold real numbers, got dtype {value.dtype}")
        if tuple(value.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(value.shape)}")
        return value.to(self.device)

    def _real(
        self, value: Any, name: str, shape: tuple[int, ...], problems: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Real numbers as float64; NaN and inf flagged, then read as 0 and +-1."""
        real = self._tensor(value, name, shape).to(torch.float64)
        problems = _flag(problems, NOT_FINITE, ~torch.isfinite(real).all())
        return torch.nan_to_num(real, nan=0.0, posinf=1.0, neginf=-1.0), problems

    def _whole(
        self,
        value: Any,
        name: str,
        shape: tuple[int, ...],
        high: int | None,
        problems: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Whole numbers as int64 (in ``[0, high)`` unless ``high`` is None), flagged and
        clamped into range where they are not."""
        whole = self._tensor(value, name, shape)
        if whole.is_floating_point():
            fractional = ~torch.isfinite(whole) | (whole != torch.round(whole))
            problems = _flag(problems, NOT_WHOLE, fractional.any())
            whole = torch.nan_to_num(whole, nan=0.0, posinf=0.0, neginf=0.0)
        whole = whole.to(torch.int64)
        if high is not None:
            problems = _flag(problems, OUT_OF_RANGE, ((whole < 0) | (whole >= high)).any())
            whole = whole.clamp(0, high - 1)
        return whole, problems


def _flag(problems: torch.Tensor, bit: int, found: torch.Tensor) -> torch.Tensor:
    return problems | (found.to(torch.int64) * bit)


def _is_integer(dtype: torch.dtype) -> bool:
    return not dtype.is_floating_point and not dtype.is_complex and dtype != torch.bool
