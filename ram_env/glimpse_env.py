"""``GlimpseEnv``: classify an image by looking at it through a few small glimpses."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ram_env.episodes import EpisodeBatch, GlimpseTask, TaskProperties, TaskSettings
from ram_env.render import check_render_mode, render_frame


class GlimpseEnv(TaskProperties, gym.Env):
    """The Recurrent Attention Model's task (Mnih et al., 2014) as an episodic MDP.

    ## Description
    An image (an MNIST digit, possibly translated onto a larger canvas among clutter, or
    your own data) is hidden. Each step the agent sees a *retina* observation around its
    current location and chooses where to look next; after ``num_glimpses`` glimpses it
    must name the class. Coordinates: see ``ram_env.retina`` ((-1, -1) is the top-left
    corner, x runs along columns, y along rows).

    ## Observation space
    ``Dict`` with
    - ``glimpse``: ``Box(0, 1, (k, g, g), float32)``: k square patches centred on the
      current location, patch i covering ``g * 2**i`` pixels and averaged down to g x g
      (pixels outside the canvas read as 0);
    - ``location``: ``Box(-1, 1, (2,), float32)``: where that glimpse was taken, ``(x, y)``;
    - ``time``: ``Box(0, 1, (1,), float32)``: the fraction of the episode's steps gone.

    ## Action space
    The next location plus a classification, encoded by ``action_type`` (see
    ``ram_env.actions``): ``"box"`` (default) ``Box(-1, 1, (2 + K,))`` = location then K
    class scores (argmax is the prediction); ``"dict"`` ``{location, label}``;
    ``"multidiscrete"`` ``[G, G, K]`` (location on a G x G grid); ``"discrete"``
    ``Discrete(G * G * K)``. Locations outside ``[-1, 1]`` are clipped.

    ## Rewards
    ``reward="sparse"`` (default, the paper's): 1 at the last step if that step's
    classification is correct, else 0; nothing before. ``reward="dense"``: potential-based
    shaping, ``r_t = c_t - c_{t-1}`` where ``c_t`` is 1 when step t's classification is
    correct (``c_0 = 0``); the undiscounted return is still the final correctness.

    ## Starting state
    ``reset`` picks an image (at random; ``options={"image_index": i}`` picks image i of
    the split) and its canvas (fresh for ``split="train"``, fixed for validation/test),
    and a first location, uniform in ``[-1, 1]^2`` (``first_location="random"``, as in
    the paper), ``(0, 0)`` (``"center"``) or normal around the centre with std 0.25 per
    coordinate, clipped to the image (``"gaussian"``; the paper does not say from what
    distribution its random first glimpse came); it returns the glimpse there.

    ## Episode end
    Exactly ``num_glimpses`` (T) steps, so T glimpses are seen (one from ``reset``, one
    per step before the last); step T is scored and returns ``terminated=True``. The
    location in the last action is not looked at (the returned observation shows it, with
    ``time == 1``). ``info`` at the end holds ``label``, ``prediction`` and ``is_success``;
    the label is never revealed earlier. Stepping after the end without ``reset`` raises.

    ## Arguments
    All by keyword; those of the task are the fields of ``ram_env.episodes.TaskSettings``,
    with its defaults.
    - ``dataset``: ``"mnist"`` (28x28), ``"translated"`` (60x60), ``"cluttered60"`` (60x60,
      4 clutter pieces), ``"cluttered100"`` (100x100, 8 pieces); ``split``: ``"train"``
      (first 50,000 MNIST training images), ``"validation"`` (last 10,000), ``"test"``.
    - ``num_glimpses`` (T), ``glimpse_size`` (g), ``num_scales`` (k).
    - ``action_type``, ``grid_size`` (G, for the discrete encodings), ``first_location``,
      ``reward`` as above.
    - Your own data: ``images`` ``(n, H, W)`` uint8 or float in [0, 1] with ``labels``, or
      ``image_folder`` (one sub-folder per class); ``num_classes``; ``canvas_size`` and
      ``num_clutter`` override the dataset's canvas recipe.
    - ``render_mode``: ``"rgb_array"`` draws the canvas, the current glimpse squares and
      the path so far (``ram_env.render.save_episode`` writes frames to GIF/PNG).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(self, *, render_mode: str | None = None, **settings: Any) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.task = GlimpseTask(TaskSettings.from_kwargs("GlimpseEnv", **settings))
        self.observation_space = self.task.observation_space
        self.action_space = self.task.action_space
        self.render_mode = render_mode
        self._batch = EpisodeBatch(self.task, 1)
        self._needs_reset = True
        self._path: list[tuple[float, float]] = []

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._batch.seed(seed)
        image_index = _image_index_option(options, 1, self.task.num_images)
        self._batch.reset(image_index=image_index)
        self._needs_reset = False
        first_location = tuple(self._batch.locations[0].tolist())
        self._path = [first_location]
        return self._observation(first_location), {}

    def step(self, action) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError(
                "step() called before reset() or after the episode ended; call reset()"
            )
        location, prediction = self.task.decoder.decode_one(action)
        reward, terminated, correct = self._batch.advance_one(location, prediction)
        self._path.append(location)
        info: dict[str, Any] = {}
        if terminated:
            self._needs_reset = True
            info = {
                "label": int(self._batch.labels[0]),
                "prediction": prediction,
                "is_success": correct,
            }
        return self._observation(location), reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._needs_reset and not self._path:
            raise RuntimeError("render() needs an episode: call reset() first")
        return render_frame(
            self._batch.canvas(0), self._path, self.task.glimpse_size, self.task.num_scales
        )

    def _observation(self, location: tuple[float, float]) -> dict[str, np.ndarray]:
        """The observation at ``location`` (the current one), without batching overhead."""
        batch, task = self._batch, self.task
        slot = int(batch.slots[0])
        table = None if batch.tables is None else batch.tables[slot]
        glimpse = task.retina.one(batch.padded[slot], table, location, task.value_scale)
        return {
            "glimpse": glimpse,
            "location": np.array(location, dtype=np.float32),
            "time": np.array([int(batch.steps[0]) / task.num_glimpses], dtype=np.float32),
        }


def _image_index_option(options: dict[str, Any] | None, num_envs: int, num_images: int):
    """Read ``options["image_index"]`` (an int, or N ints for a vector env), checked."""
    if not options:
        return None
    unknown = set(options) - {"image_index"}
    if unknown:
        raise ValueError(f"unknown reset options {sorted(unknown)}; only 'image_index' is known")
    if options.get("image_index") is None:
        return None
    index = np.asarray(options["image_index"])
    if index.dtype.kind not in "iu":
        raise ValueError(f"options['image_index'] must be integers, got {options['image_index']!r}")
    index = np.broadcast_to(index, (num_envs,)) if index.ndim == 0 else index
    if index.shape != (num_envs,):
        raise ValueError(f"options['image_index'] must have {num_envs} entries, got {index.shape}")
    if index.min() < 0 or index.max() >= num_images:
        raise ValueError(f"options['image_index'] must lie in [0, {num_images - 1}], got {index!r}")
    return index.astype(np.int64)
