"""The thin layer between the model (torch) and a glimpse vector env (numpy).

Observations become tensors without a copy (the env hands out a fresh array every step, so
sharing its memory is safe for autograd); actions become the env's ``"box"`` encoding:
``(x, y)`` followed by K class scores whose argmax is the prediction.
"""

from __future__ import annotations

import numpy as np
import torch


def observation_to_tensors(
    observation: dict[str, np.ndarray], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(glimpse (N, k, g, g), location (N, 2))`` float32 tensors of a batched observation."""
    glimpse = torch.from_numpy(observation["glimpse"]).to(device, non_blocking=True)
    location = torch.from_numpy(observation["location"]).to(device, non_blocking=True)
    return glimpse, location


def scores_action(
    location: torch.Tensor | None, classes: torch.Tensor | None, num_classes: int
) -> np.ndarray:
    """A batch of ``"box"`` actions: next location (or 0) and one-hot scores in ``[-1, 1]``.

    ``classes`` (N,) becomes scores of +1 for the chosen class and -1 elsewhere, so the
    env's argmax recovers it exactly while staying inside the action space; ``None`` sends
    all -1 (no decision is scored before the last step).
    """
    if location is None and classes is None:
        raise ValueError("give a location, classes, or both")
    batch_size = len(location) if location is not None else len(classes)
    action = np.full((batch_size, 2 + num_classes), -1.0, dtype=np.float32)
    action[:, :2] = 0.0 if location is None else location.detach().cpu().numpy()
    if classes is not None:
        action[np.arange(batch_size), 2 + classes.cpu().numpy()] = 1.0
    return action
