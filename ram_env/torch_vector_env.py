"""``TorchGlimpseVectorEnv``: the glimpse vector env with its state as tensors on a device.

``gymnasium.make_vec(id, num_envs=N, device="cuda")`` returns it (``device="cpu"`` too);
without ``device`` the numpy ``GlimpseVectorEnv`` stays what ``make_vec`` returns. Needs
PyTorch, imported only when such an env is made.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ram_env import torch_rng
from ram_env.canvases import STREAM_FIRST_LOCATION, STREAM_IMAGE
from ram_env.episodes import GAUSSIAN_FIRST_STD, GlimpseTask, TaskProperties, TaskSettings
from ram_env.glimpse_env import _image_index_option
from ram_env.torch_actions import TorchActionDecoder, describe
from ram_env.torch_canvases import TorchCanvases
from ram_env.torch_retina import TorchRetina
from ram_env.vector_env import check_vector_arguments, seed_per_env

ACTION_CHECKS = ("step", "episode")


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` that works here, or a ``ValueError`` saying why not."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}"
        ) from error
    if resolved.type == "meta":
        raise ValueError("device='meta' holds no data; give 'cpu' or 'cuda'")
    try:  # float64 is needed for locations and uniforms, as in the numpy env
        torch.zeros(1, dtype=torch.float64, device=resolved)
    except (RuntimeError, AssertionError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"device {device!r} cannot be used here: {reason}") from error
    return resolved


class TorchEpisodeBatch:
    """``ram_env.episodes.EpisodeBatch`` with tensors on a device: the state of N episodes.

    The same draws as the numpy batch (``ram_env.torch_rng``) give the same images,
    canvases and first locations for the same seeds. Each env owns a padded canvas (and a
    summed-area table) that ``reset`` rebuilds. The step counts are kept on the host too,
    so the env knows which episodes end without waiting for the device.
    """

    def __init__(self, task: GlimpseTask, num_envs: int, device: torch.device) -> None:
        self.task, self.num_envs, self.device = task, num_envs, device
        self.source = TorchCanvases(task.source, device)
        self.retina = TorchRetina(task.retina, task.value_scale, device)
        self.padded, self.tables = self.retina.blank(num_envs, self.source.dtype)
        self.num_streams = task.source.spec.num_streams()

        def zeros(*shape: int, dtype: torch.dtype = torch.int64) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=device)

        self.keys, self.episodes = zeros(num_envs), zeros(num_envs)
        self.labels, self.image_index = zeros(num_envs), zeros(num_envs)
        self.locations = zeros(num_envs, 2, dtype=torch.float64)
        self.was_correct = zeros(num_envs, dtype=torch.bool)
        self.steps = zeros(num_envs)
        self.host_steps = np.zeros(num_envs, dtype=np.int64)
        self.seeded = False

    def seed(self, seeds: int | np.ndarray | None) -> None:
        """Restart every env's random stream: env i from ``seeds + i`` (one int), from
        ``seeds[i]`` (N ints), or from OS entropy (None)."""
        if seeds is None:
            entropy = np.random.SeedSequence().generate_state(self.num_envs, dtype=np.uint64)
            self.keys = torch_rng.keys_from_seeds(_on_device(entropy, self.device))
        elif np.isscalar(seeds):
            self.keys = torch_rng.consecutive_keys(int(seeds), self.num_envs, self.device)
        else:
            self.keys = torch_rng.keys_from_seeds(_on_device(seeds, self.device))
        self.episodes.zero_()
        self.seeded = True

    def reset(self, envs: np.ndarray | None = None, image_index: torch.Tensor | None = None):
        """Start new episodes in ``envs`` (host indices; None = all) on random or given images."""
        if not self.seeded:
            self.seed(None)
        task = self.task
        rows = slice(None) if envs is None else torch.as_tensor(envs).to(self.device)
        u = torch_rng.uniforms(self.keys[rows], self.episodes[rows], self.num_streams)
        self.episodes[rows] += 1
        if image_index is None:
            image_index = torch_rng.integers(u[:, STREAM_IMAGE], task.num_images)
        self.image_index[rows] = image_index
        self.labels[rows] = self.source.labels[image_index]
        canvases = self.source.canvases(u, image_index)
        self.retina.prepare(canvases, self.padded, self.tables, None if envs is None else rows)
        pair = u[:, STREAM_FIRST_LOCATION : STREAM_FIRST_LOCATION + 2]
        if task.first_location == "random":
            self.locations[rows] = pair * 2 - 1
        elif task.first_location == "gaussian":
            self.locations[rows] = torch.clamp(GAUSSIAN_FIRST_STD * _box_muller(pair), -1.0, 1.0)
        else:
            self.locations[rows] = 0.0
        self.steps[rows] = 0
        self.host_steps[slice(None) if envs is None else envs] = 0
        self.was_correct[rows] = False

    def advance(
        self, locations: torch.Tensor, predictions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Move every env to its next location; return ``(rewards, correct)``."""
        self.steps += 1
        self.host_steps += 1
        correct = predictions == self.labels
        if self.task.reward == "sparse":
            rewards = (correct & (self.steps >= self.task.num_glimpses)).to(torch.float32)
        else:  # potential-based shaping: the returns still sum to the final correctness
            rewards = correct.to(torch.float32) - self.was_correct.to(torch.float32)
            self.was_correct = correct
        self.locations.copy_(locations)
        return rewards, correct

    def observe(self) -> dict[str, torch.Tensor]:
        """The batched observation of every env at its current location."""
        steps = self.steps.to(torch.float64) / self.task.num_glimpses
        return {
            "glimpse": self.retina(self.padded, self.tables, self.locations),
            "location": self.locations.to(torch.float32),
            "time": steps.to(torch.float32)[:, None],
        }

    def canvas(self, env: int) -> np.ndarray:
        """The canvas env ``env`` is looking at, as a numpy array (for rendering)."""
        p = self.retina.pad
        height, width = self.retina.canvas_shape
        return self.padded[env, p : p + height, p : p + width].cpu().numpy()


class TorchGlimpseVectorEnv(TaskProperties, VectorEnv):
    """``GlimpseVectorEnv`` on a torch device: N glimpse episodes as tensors, no host trips.

    ## Description
    The same task as ``GlimpseEnv`` and ``GlimpseVectorEnv`` (see there), for a policy that
    lives on a GPU: images, canvases, summed-area tables and the retina stay on ``device``
    and every step returns tensors there. It plays exactly the numpy vector env's episodes:
    env ``i`` reset with ``seed=s`` gets the image, canvas (training canvases included) and
    first location of a ``GlimpseEnv`` reset with ``seed=s + i``, and the same actions give
    the same glimpses (up to float32 rounding).

    ## Observation space
    As ``GlimpseVectorEnv``'s (``glimpse (N, k, g, g)``, ``location (N, 2)``, ``time
    (N, 1)``, float32), given as tensors on ``device``; the spaces describe their shapes.

    ## Action space
    As ``GlimpseVectorEnv``'s, batched along the first axis. Actions may be tensors (on
    any device; they are moved to ``device``) or arrays. Arrays are checked and refused at
    once, as the numpy env does. Tensor actions are checked on the device: where
    ``action_checks == "step"`` (the default on the CPU) a bad batch is refused before it
    counts; where ``"episode"`` (the default elsewhere) the checks are read, and a bad
    action refused with a ``ValueError``, when an episode ends or at ``reset``, so that a
    step never waits for the device.

    ## Rewards, episode end, autoreset, infos
    As ``GlimpseVectorEnv``'s (every ``autoreset_mode``), as tensors on ``device``:
    rewards float32, terminations and truncations bool; ``infos`` at an episode's end hold
    ``label``, ``prediction`` and ``is_success`` tensors with masks ``_label`` etc.;
    ``SAME_STEP`` puts the last observation in ``infos["final_obs"]``.

    ## Starting state
    As ``GlimpseVectorEnv``'s; ``reset(options={"image_index": idx})`` starts env ``i`` on
    image ``idx[i]`` (ints, an array or a tensor). Validation and test canvases are the
    numpy env's own fixed ones, moved to the device once.

    ## Arguments
    ``num_envs``, ``autoreset_mode`` and every ``GlimpseEnv`` argument but
    ``render_mode``, and ``device``: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a
    ``torch.device`` (one that holds float64 tensors).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        device: str | torch.device = "cpu",
        **task_kwargs,
    ) -> None:
        self.num_envs, self.autoreset_mode = check_vector_arguments(
            "TorchGlimpseVectorEnv", num_envs, autoreset_mode, task_kwargs
        )
        self.device = resolve_device(device)
        settings = TaskSettings.from_kwargs("TorchGlimpseVectorEnv", **task_kwargs)
        self.task = GlimpseTask(settings)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.single_observation_space = self.task.observation_space
        self.single_action_space = self.task.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        with _env_mode(self.device):
            self._batch = TorchEpisodeBatch(self.task, self.num_envs, self.device)
            self._decoder = TorchActionDecoder(self.task.decoder, self.num_envs, self.device)
            self._problems = torch.zeros((), dtype=torch.int64, device=self.device)
        self._action_checks = "step" if self.device.type == "cpu" else "episode"
        self._ended = np.ones(self.num_envs, dtype=bool)  # episodes that need a reset
        self._started = False

    @property
    def action_checks(self) -> str:
        """When tensor actions' values are checked: each ``"step"`` or each ``"episode"``."""
        return self._action_checks

    @action_checks.setter
    def action_checks(self, when: str) -> None:
        if when not in ACTION_CHECKS:
            raise ValueError(f"action_checks must be one of {ACTION_CHECKS}, got {when!r}")
        self._action_checks = when

    def canvas(self, index: int) -> np.ndarray:
        """The canvas env ``index`` is looking at (a numpy array, to draw its episode)."""
        return self._batch.canvas(index)

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        if seed is None or np.isscalar(seed):
            super().reset(seed=seed)
            seeds = seed
        else:
            seeds = seed_per_env(seed, self.num_envs)
            super().reset(seed=int(seeds[0]))
        image_index = _image_index_option(
            _host_options(options), self.num_envs, self.task.num_images
        )
        with _env_mode(self.device):
            self._refuse_bad_actions()
            if seeds is not None:
                self._batch.seed(seeds)
            if image_index is not None:
                image_index = torch.as_tensor(image_index).to(self.device)
            self._batch.reset(image_index=image_index)
            observation = self._batch.observe()
        self._ended[:] = False
        self._started = True
        return observation, {}

    def step(self, actions) -> tuple[dict, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        if not self._started:
            raise RuntimeError("step() called before reset(); call reset() first")
        batch = self._batch
        restarting = self._ended.copy()
        if restarting.any() and self.autoreset_mode == AutoresetMode.DISABLED:
            raise RuntimeError(
                f"envs {np.flatnonzero(restarting).tolist()} have ended and autoreset is "
                "disabled; call reset()"
            )
        with _env_mode(self.device):
            locations, predictions, problems = self._decoder.decode(actions)
            if problems is not None:
                self._problems |= problems
                if self.action_checks == "step":
                    self._refuse_bad_actions()  # before the step counts, as the numpy env
            rewards, correct = batch.advance(locations, predictions)
            ending = batch.host_steps >= self.task.num_glimpses
            terminated = batch.steps >= self.task.num_glimpses
            if restarting.any():  # NEXT_STEP: these envs' actions only start new episodes
                which = np.flatnonzero(restarting)
                batch.reset(None if restarting.all() else which)
                rows = slice(None) if restarting.all() else torch.as_tensor(which).to(self.device)
                rewards[rows] = 0.0
                terminated[rows] = False
                ending[which] = False
            self._ended = ending
            infos: dict[str, Any] = {}
            if ending.any():
                self._refuse_bad_actions()
                infos = {
                    "label": torch.where(terminated, batch.labels, 0),
                    "_label": terminated,
                    "prediction": torch.where(terminated, predictions, 0),
                    "_prediction": terminated,
                    "is_success": correct & terminated,
                    "_is_success": terminated,
                }
            observation = batch.observe()
            if ending.any() and self.autoreset_mode == AutoresetMode.SAME_STEP:
                infos["final_obs"], infos["_final_obs"] = observation, terminated
                batch.reset(None if ending.all() else np.flatnonzero(ending))
                self._ended = np.zeros(self.num_envs, dtype=bool)
                observation = _merge(observation, batch.observe(), terminated)
            truncated = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        return observation, rewards, terminated, truncated, infos

    def _refuse_bad_actions(self) -> None:
        """Raise if any tensor action since the last check was bad (waits for the device)."""
        problems = int(self._problems)
        if problems:
            self._problems.zero_()
            raise ValueError(f"an action given to the env held {describe(problems)}")


@contextmanager
def _env_mode(device: torch.device):
    """No autograd and no autocast for the env's own tensor work."""
    with torch.no_grad():
        if device.type in ("cpu", "cuda"):
            with torch.autocast(device.type, enabled=False):
                yield
        else:
            yield


def _on_device(seeds: np.ndarray, device: torch.device) -> torch.Tensor:
    """Unsigned or signed 64-bit seeds as int64 tensors holding the same bits."""
    bits = np.asarray(seeds).astype(np.uint64).view(np.int64)
    return torch.as_tensor(bits).to(device)


def _host_options(options: dict[str, Any] | None) -> dict[str, Any] | None:
    """Reset options with a tensor ``image_index`` brought to the host, to be checked."""
    if options and isinstance(options.get("image_index"), torch.Tensor):
        return {**options, "image_index": options["image_index"].cpu().numpy()}
    return options


def _box_muller(pair: torch.Tensor) -> torch.Tensor:
    """``ram_env.episodes._box_muller`` in torch: two standard normals per row."""
    radius = torch.sqrt(-2.0 * torch.log1p(-pair[:, 0]))
    angle = 2.0 * math.pi * pair[:, 1]
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)


def _merge(old: dict, new: dict, take_new: torch.Tensor) -> dict:
    """Rows of ``new`` where ``take_new``, else rows of ``old``."""
    return {
        key: torch.where(take_new.reshape(-1, *[1] * (old[key].ndim - 1)), new[key], old[key])
        for key in old
    }
