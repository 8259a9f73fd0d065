"""Action encodings: how an action names the next location and a classification.

Each encoding turns one action (single env) or a batch of actions (vector env) into
locations ``(N, 2)`` in ``[-1, 1]`` and predicted classes ``(N,)``, after checking it.
Bad actions raise ``ValueError`` naming the problem instead of failing deep inside numpy.

* ``"box"``: ``Box(-1, 1, (2 + K,))``: location ``(x, y)``, then K class scores; the
  prediction is their argmax. Works with every continuous SB3 algorithm.
* ``"dict"``: ``Dict(location=Box(-1, 1, (2,)), label=Discrete(K))``, the paper's form.
* ``"multidiscrete"``: ``MultiDiscrete([G, G, K])``: column and row on a G x G grid of
  locations spanning ``[-1, 1]``, then the label.
* ``"discrete"``: ``Discrete(G * G * K)``: the same triple flattened as
  ``(column * G + row) * K + label``, for DQN.

Continuous locations outside ``[-1, 1]`` are clipped to it. The decision need not be a
class: ``GlimpseCatch-v0`` uses the same encodings with K = 3 paddle moves, its ``"dict"``
key named ``move`` (``decision_key``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from gymnasium import spaces

ACTION_TYPES = ("box", "dict", "multidiscrete", "discrete")


def action_space(
    action_type: str, num_classes: int, grid_size: int, decision_key: str = "label"
) -> spaces.Space:
    """The single-env action space of an encoding (``decision_key``: the ``"dict"`` key of
    the class or move)."""
    if action_type == "box":
        return spaces.Box(-1.0, 1.0, (2 + num_classes,), np.float32)
    if action_type == "dict":
        return spaces.Dict(
            {
                "location": spaces.Box(-1.0, 1.0, (2,), np.float32),
                decision_key: spaces.Discrete(num_classes),
            }
        )
    if action_type == "multidiscrete":
        return spaces.MultiDiscrete([grid_size, grid_size, num_classes])
    if action_type == "discrete":
        return spaces.Discrete(grid_size * grid_size * num_classes)
    raise ValueError(f"unknown action_type {action_type!r}; choose one of {ACTION_TYPES}")


class ActionDecoder:
    """Checks and decodes actions of one encoding, singly or in batches.

    ``num_classes`` is the number of decisions (classes, or moves); ``decision_key`` names
    the decision in ``"dict"`` actions and in error messages.
    """

    def __init__(
        self, action_type: str, num_classes: int, grid_size: int, decision_key: str = "label"
    ) -> None:
        if action_type not in ACTION_TYPES:
            raise ValueError(f"unknown action_type {action_type!r}; choose one of {ACTION_TYPES}")
        if grid_size < 2:
            raise ValueError(f"grid_size must be >= 2, got {grid_size}")
        self.action_type = action_type
        self.num_classes = num_classes
        self.grid_size = grid_size
        self.decision_key = decision_key
        self.space = action_space(action_type, num_classes, grid_size, decision_key)
        self._grid = np.linspace(-1.0, 1.0, grid_size)

    def decode_one(self, action) -> tuple[tuple[float, float], int]:
        """``((x, y), prediction)`` of a single action, as Python scalars."""
        if self.action_type == "box":
            return _box_one(action, self.num_classes)
        locations, predictions = self.decode(action)
        return (float(locations[0, 0]), float(locations[0, 1])), int(predictions[0])

    def decode(self, action, batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(locations (N, 2) float64, predictions (N,) int64)`` from one action or a batch.

        ``batch_size=None`` means a single action (N = 1).
        """
        lead = () if batch_size is None else (batch_size,)
        if self.action_type == "box":
            scores = _real_array(action, "action", lead + (2 + self.num_classes,))
            locations, predictions = scores[..., :2], np.argmax(scores[..., 2:], axis=-1)
        elif self.action_type == "dict":
            key = self.decision_key
            if not isinstance(action, Mapping) or set(action) != {"location", key}:
                raise ValueError(
                    "a 'dict' action must be a mapping with exactly the keys 'location' and "
                    f"{key!r}, got {action!r}"
                )
            locations = _real_array(action["location"], "action['location']", lead + (2,))
            predictions = _integer_array(action[key], f"action[{key!r}]", lead, self.num_classes)
        elif self.action_type == "multidiscrete":
            triple = _integer_array(action, "action", lead + (3,), None)
            highs = (self.grid_size, self.grid_size, self.num_classes)
            for axis, (name, high) in enumerate(
                zip(("column", "row", self.decision_key), highs, strict=True)
            ):
                _check_range(triple[..., axis], f"action {name}", high)
            locations = self._grid[triple[..., :2]]
            predictions = triple[..., 2]
        else:
            flat = _integer_array(action, "action", lead, self.grid_size**2 * self.num_classes)
            cell, predictions = np.divmod(flat, self.num_classes)
            column, row = np.divmod(cell, self.grid_size)
            locations = np.stack([self._grid[column], self._grid[row]], axis=-1)
        locations = np.minimum(np.maximum(locations, -1.0), 1.0).reshape(-1, 2)
        return locations, np.asarray(predictions, dtype=np.int64).reshape(-1)


def _box_one(action, num_classes: int) -> tuple[tuple[float, float], int]:
    """Fast path for one ``"box"`` action: Python scalars, same checks and results."""
    array = _as_array(action, "action")
    if array.dtype.kind == "b":
        raise ValueError("action must hold real numbers, got booleans")
    if array.shape != (2 + num_classes,):
        raise ValueError(f"action must have shape {(2 + num_classes,)}, got {array.shape}")
    values = array.tolist()
    if not all(map(math.isfinite, values)):
        raise ValueError(f"action contains NaN or inf: {action!r}")
    scores = values[2:]
    prediction = max(range(num_classes), key=scores.__getitem__)  # first maximum, as argmax
    x, y = min(max(values[0], -1.0), 1.0), min(max(values[1], -1.0), 1.0)
    return (float(x), float(y)), prediction


def _as_array(value, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} could not be read as an array: {value!r}") from error
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype} ({value!r})")
    return array


def _real_array(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = _as_array(value, name)
    if array.dtype.kind == "b":
        raise ValueError(f"{name} must hold real numbers, got booleans")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf: {value!r}")
    return array


def _integer_array(value, name: str, shape: tuple[int, ...], high: int | None) -> np.ndarray:
    array = _as_array(value, name)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or (array != np.round(array)).any():
            raise ValueError(f"{name} must hold whole numbers, got {value!r}")
    elif array.dtype.kind == "b":
        raise ValueError(f"{name} must hold integers, got booleans")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    array = array.astype(np.int64, copy=False)
    if high is not None:
        _check_range(array, name, high)
    return array


def _check_range(values: np.ndarray, name: str, high: int) -> None:
    if values.size and (values.min() < 0 or values.max() >= high):
        raise ValueError(f"{name} must lie in [0, {high - 1}], got {values!r}")
