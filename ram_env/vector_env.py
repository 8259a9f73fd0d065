"""``GlimpseVectorEnv``: N glimpse episodes advanced together with numpy, no per-env loop.

``make_glimpse_vector_env`` is what ``gymnasium.make_vec`` calls: this env, or with
``device=`` the torch env of ``ram_env.torch_vector_env``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ram_env.episodes import EpisodeBatch, GlimpseTask, TaskProperties, TaskSettings
from ram_env.glimpse_env import _image_index_option


class GlimpseVectorEnv(TaskProperties, VectorEnv):
    """N copies of ``GlimpseEnv`` as one batched env; ``gymnasium.make_vec`` returns it.

    Takes ``num_envs``, ``autoreset_mode`` and every ``GlimpseEnv`` argument except
    ``render_mode``. Env ``i`` reset with ``seed=s`` follows exactly the trajectory of a
    ``GlimpseEnv`` reset with ``seed=s + i`` given the same actions.

    Observations, rewards, terminations and truncations are batched arrays; actions are
    batched along the first axis (for ``action_type="dict"``, a dict of batched arrays).
    ``infos`` follow Gymnasium's convention: at an episode's end ``label``, ``prediction``
    and ``is_success`` arrays with boolean masks ``_label`` etc.

    Autoreset (``autoreset_mode``):
    - ``AutoresetMode.NEXT_STEP`` (default, as Gymnasium's own vector envs): the step after
      an episode ends resets that env, ignores its action and returns reward 0.
    - ``AutoresetMode.SAME_STEP``: an ending env resets at once; the returned observation
      is the new episode's first one and the last one is in ``infos["final_obs"]``, a
      *batched* dict like the observation (rows valid where ``infos["_final_obs"]``).
    - ``AutoresetMode.DISABLED``: call ``reset`` yourself; stepping a finished env raises.
    All episodes have the same length, so envs reset together stay in lockstep.

    ``reset(options={"image_index": idx})`` starts env i on image ``idx[i]`` of the split
    (e.g. to score every test image exactly once); without it images are random.
    """

    metadata = {
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": [],
    }

    def __init__(
        self,
        num_envs: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **task_kwargs,
    ) -> None:
        if "device" in task_kwargs:
            raise TypeError(self._no_device)
        self.num_envs, self.autoreset_mode = check_vector_arguments(
            type(self).__name__, num_envs, autoreset_mode, task_kwargs, self.single_env_name
        )
        self.task = self._make_task(task_kwargs)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.single_observation_space = self.task.observation_space
        self.single_action_space = self.task.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._batch = self._make_batch()
        self._ended = np.ones(self.num_envs, dtype=bool)  # episodes that need a reset
        self._started = False

    single_env_name = "GlimpseEnv"  # the single env this one batches (for messages)
    _no_device = (
        "GlimpseVectorEnv is the numpy env and takes no device; "
        "gymnasium.make_vec(id, num_envs=N, device=...) makes the torch env"
    )

    def _make_task(self, task_kwargs: dict[str, Any]) -> GlimpseTask:
        """The task from the env's keyword arguments (a subclass plays another task)."""
        return GlimpseTask(TaskSettings.from_kwargs(type(self).__name__, **task_kwargs))

    def _make_batch(self) -> EpisodeBatch:
        """The state of ``num_envs`` episodes of the task."""
        return EpisodeBatch(self.task, self.num_envs)

    def _end_infos(
        self, terminated: np.ndarray, decisions: np.ndarray, success: np.ndarray
    ) -> dict[str, np.ndarray]:
        """What ``infos`` report where an episode ended, with Gymnasium's boolean masks."""
        return {
            "label": np.where(terminated, self._batch.labels, 0),
            "_label": terminated,
            "prediction": np.where(terminated, decisions, 0),
            "_prediction": terminated,
            "is_success": success & terminated,
            "_is_success": terminated,
        }

    def canvas(self, index: int) -> np.ndarray:
        """The canvas env ``index`` is looking at (to draw its episode; see ``ram_env.render``)."""
        return self._batch.canvas(index)

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        if seed is None or np.isscalar(seed):
            super().reset(seed=seed)
            seeds = None if seed is None else _consecutive_seeds(seed, self.num_envs)
        else:
            seeds = seed_per_env(seed, self.num_envs)
            super().reset(seed=int(seeds[0]))
        if seeds is not None:
            self._batch.seed(seeds)
        image_index = _image_index_option(options, self.num_envs, self.task.num_images)
        self._batch.reset(image_index=image_index)
        self._ended[:] = False
        self._started = True
        return self._batch.observe(), {}

    def step(
        self, actions
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict]:
        if not self._started:
            raise RuntimeError("step() called before reset(); call reset() first")
        batch = self._batch
        restarting = self._ended.copy()
        if restarting.any() and self.autoreset_mode == AutoresetMode.DISABLED:
            raise RuntimeError(
                f"envs {np.flatnonzero(restarting).tolist()} have ended and autoreset is "
                "disabled; call reset()"
            )
        locations, predictions = self.task.decoder.decode(actions, self.num_envs)
        rewards, terminated, correct = batch.advance(locations, predictions)
        infos: dict[str, Any] = {}
        if restarting.any():  # NEXT_STEP: these envs' actions only start new episodes
            which = np.flatnonzero(restarting)
            batch.reset(None if restarting.all() else which)
            rewards[which] = 0.0
            terminated[which] = False
        self._ended = terminated.copy()
        if terminated.any():
            infos = self._end_infos(terminated, predictions, correct)
        observation = batch.observe()
        if terminated.any() and self.autoreset_mode == AutoresetMode.SAME_STEP:
            infos["final_obs"], infos["_final_obs"] = observation, terminated
            which = None if terminated.all() else np.flatnonzero(terminated)
            batch.reset(which)
            self._ended[:] = False
            observation = _merge(observation, batch.observe(), terminated)
        truncated = np.zeros(self.num_envs, dtype=bool)
        return observation, rewards, terminated, truncated, infos


def make_glimpse_vector_env(num_envs: int = 1, device: Any = None, **kwargs: Any) -> VectorEnv:
    """``gymnasium.make_vec``'s entry point for every glimpse id.

    Without ``device``, the numpy ``GlimpseVectorEnv``. With ``device`` (``"cpu"``,
    ``"cuda"``, a ``torch.device``), ``ram_env.torch_vector_env.TorchGlimpseVectorEnv``,
    which keeps the episodes as tensors there; it needs PyTorch, imported only then.
    """
    if device is None:
        return GlimpseVectorEnv(num_envs=num_envs, **kwargs)
    try:
        from ram_env.torch_vector_env import TorchGlimpseVectorEnv
    except ModuleNotFoundError as error:
        if (error.name or "torch").split(".")[0] != "torch":
            raise
        raise ImportError(
            f"device={device!r} makes the torch env, which needs PyTorch: "
            "pip install torch (or pip install 'ram-env[agents]')"
        ) from error
    return TorchGlimpseVectorEnv(num_envs=num_envs, device=device, **kwargs)


def check_vector_arguments(
    owner: str,
    num_envs: Any,
    autoreset_mode: Any,
    task_kwargs: dict[str, Any],
    single_env: str = "GlimpseEnv",
) -> tuple[int, AutoresetMode]:
    """A vector env's ``num_envs`` and ``autoreset_mode``, checked; refuses ``render_mode``
    (taking it out of ``task_kwargs``), naming the ``single_env`` that renders."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    try:
        mode = AutoresetMode(autoreset_mode)
    except ValueError as error:
        choices = [mode.value for mode in AutoresetMode]
        raise ValueError(
            f"autoreset_mode must be one of {choices}, got {autoreset_mode!r}"
        ) from error
    if task_kwargs.pop("render_mode", None) is not None:
        raise ValueError(f"{owner} does not render; use {single_env}(render_mode='rgb_array')")
    return int(num_envs), mode


def seed_per_env(seed: Any, num_envs: int) -> np.ndarray:
    """``reset(seed=[...])``'s list: ``num_envs`` integers, refused by name otherwise."""
    seeds = np.asarray(seed)
    if seeds.shape != (num_envs,) or seeds.dtype.kind not in "iu":
        raise ValueError(f"seed must be an int or {num_envs} ints, got {seed!r}")
    return seeds


def _consecutive_seeds(seed: int, num_envs: int) -> np.ndarray:
    """``seed + i`` for every env, wrapping at 2**64 like the single env's key derivation."""
    with np.errstate(over="ignore"):
        return np.arange(num_envs, dtype=np.uint64) + np.uint64(int(seed) % (1 << 64))


def _merge(old: dict, new: dict, take_new: np.ndarray) -> dict:
    """Rows of ``new`` where ``take_new``, else rows of ``old``."""
    if take_new.all():
        return new
    return {
        key: np.where(take_new.reshape(-1, *[1] * (old[key].ndim - 1)), new[key], old[key])
        for key in old
    }
