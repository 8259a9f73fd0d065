"""The thin layer between the model (torch) and a glimpse vector env (numpy or torch).

Observations become tensors on the model's device without a copy where they can: the numpy
env hands out a fresh array every step (sharing its memory is safe for autograd), and the
torch env's tensors already on that device pass through as they are. Actions become the
env's ``"box"`` encoding, ``(x, y)`` followed by K class scores whose argmax is the
prediction, in the kind the env speaks: a tensor for a torch env, an array for the numpy env.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ram_env.registration import CATCH_ENV_IDS


def observation_to_tensors(
    observation: dict[str, Any], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(glimpse (N, k, g, g), location (N, 2))`` float32 tensors of a batched observation."""
    glimpse = torch.as_tensor(observation["glimpse"]).to(device, non_blocking=True)
    location = torch.as_tensor(observation["location"]).to(device, non_blocking=True)
    return glimpse, location


def env_device_kwargs(device: str | torch.device, env_id: str = "") -> dict[str, Any]:
    """The env keyword arguments of a run on ``device``: the torch env on the model's device
    (``{"device": ...}``) unless that is the CPU, where the numpy env, the reference that
    every recorded result comes from, is the faster. Catch has only its numpy env (over a
    million steps a second), whose observations the model moves to its device."""
    if torch.device(device).type == "cpu" or env_id in CATCH_ENV_IDS:
        return {}
    return {"device": device}


def env_action(action: torch.Tensor, observation: dict[str, Any]) -> torch.Tensor | np.ndarray:
    """``action`` as the env that gave ``observation`` takes it: the tensor itself for a
    torch env (its observations are tensors), a numpy array for the numpy env."""
    if isinstance(observation["glimpse"], torch.Tensor):
        return action
    return action.cpu().numpy()


def scores_action(
    location: torch.Tensor | None, classes: torch.Tensor | None, num_classes: int
) -> torch.Tensor:
    """A batch of ``"box"`` actions: next location (or 0) and one-hot scores in ``[-1, 1]``.

    ``classes`` (N,) becomes scores of +1 for the chosen class and -1 elsewhere, so the
    env's argmax recovers it exactly while staying inside the action space; ``None`` sends
    all -1 (no decision is scored before the last step). A float32 tensor on the device of
    ``location`` (or ``classes``), without gradients; ``env_action`` hands it to the env.
    """
    if location is None and classes is None:
        raise ValueError("give a location, classes, or both")
    given = location if location is not None else classes
    action = torch.full((len(given), 2 + num_classes), -1.0, device=given.device)
    action[:, :2] = 0.0 if location is None else location.detach()
    if classes is not None:
        action[torch.arange(len(classes), device=classes.device), 2 + classes] = 1.0
    return action
