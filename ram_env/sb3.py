"""Train Stable-Baselines3 algorithms on the native batched env, without a per-env loop.

SB3 speaks its own vector-env protocol (``stable_baselines3.common.vec_env.VecEnv``):
``step`` returns ``(obs, rewards, dones, infos)`` with ``infos`` a list of dicts, an ended
env is reset at once and its last observation is put in
``infos[i]["terminal_observation"]``. ``SB3VecEnv`` speaks it on top of a
``GlimpseVectorEnv`` (or ``CatchVectorEnv``) made with
``autoreset_mode=AutoresetMode.SAME_STEP``, which already works that way on whole
batches; the only per-env Python loop builds the info dicts of the envs whose episode just
ended.

At an episode's end ``infos[i]`` holds ``terminal_observation``, ``TimeLimit.truncated``
(always False: episodes end by termination only), the vector env's end infos (``label``,
``prediction`` and ``is_success``; for Catch ``ball_column``, ``paddle_column`` and
``is_success``) and ``episode`` (``{"r": return, "l": length, "t": seconds since the env
was made}``, what ``VecMonitor`` would add), so SB3 logs ``rollout/ep_rew_mean``,
``rollout/ep_len_mean`` and ``rollout/success_rate`` without further wrapping (wrapping in
``VecMonitor`` anyway is harmless: it recomputes the same statistics).

The ``"dict"`` action type cannot be used: SB3 has no policy for Dict action spaces. Use
``"box"`` (PPO, A2C, SAC, TD3, ...), ``"multidiscrete"`` (PPO, A2C) or ``"discrete"``
(PPO, A2C, DQN)::

    from stable_baselines3 import PPO
    from ram_env.sb3 import make_sb3_vec_env

    env = make_sb3_vec_env("GlimpseMNIST-v0", num_envs=16, seed=0)
    PPO("MultiInputPolicy", env).learn(100_000)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode

try:
    from stable_baselines3.common.vec_env import VecEnv
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn
except ImportError as error:  # the env package itself needs only gymnasium, numpy and pillow
    raise ImportError(
        "ram_env.sb3 needs Stable-Baselines3, which the environments alone do not install: "
        "pip install 'ram-env[agents]' (or pip install stable-baselines3)"
    ) from error

from ram_env.vector_env import GlimpseVectorEnv

SB3_ACTION_TYPES = ("box", "multidiscrete", "discrete")


class SB3VecEnv(VecEnv):
    """A ``GlimpseVectorEnv`` (``autoreset_mode=SAME_STEP``) as an SB3 ``VecEnv``.

    Seeding follows SB3: ``seed(s)`` (which SB3 algorithms call with their ``seed``)
    makes env i use seed ``s + i`` at the next ``reset``; ``set_options({"image_index":
    ...})`` picks images for the next ``reset``. Attributes and methods reached through
    ``get_attr``, ``set_attr`` and ``env_method`` are those of the shared vector env, so
    they hold for every env at once. Rendering is not supported: use
    ``GlimpseEnv(render_mode="rgb_array")`` and ``ram_env.render.record_episode``.
    """

    def __init__(self, venv: GlimpseVectorEnv) -> None:
        if not isinstance(venv, GlimpseVectorEnv):
            raise TypeError(
                f"SB3VecEnv wraps a GlimpseVectorEnv (or CatchVectorEnv), got {type(venv).__name__}"
            )
        if venv.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                "SB3VecEnv needs a GlimpseVectorEnv made with autoreset_mode=AutoresetMode."
                f"SAME_STEP (SB3's convention), got {venv.autoreset_mode}"
            )
        check_action_type(venv.task.action_type)
        self.venv = venv
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None
        self._returns = np.zeros(self.num_envs, dtype=np.float64)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        self._t_start = time.time()

    def reset(self) -> dict[str, np.ndarray]:
        """Reset every env, using (then forgetting) the seeds and options set beforehand."""
        seeds = _batched_seeds(self._seeds)
        observation, _ = self.venv.reset(seed=seeds, options=_batched_options(self._options))
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._returns[:] = 0.0
        self._lengths[:] = 0
        return observation

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        actions, self._actions = self._actions, None
        observation, rewards, terminated, truncated, vector_infos = self.venv.step(actions)
        dones = terminated | truncated
        self._returns += rewards
        self._lengths += 1
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            self._add_episode_ends(infos, dones, truncated & ~terminated, vector_infos)
        return observation, rewards.astype(np.float32), dones, infos

    def _add_episode_ends(
        self,
        infos: list[dict[str, Any]],
        dones: np.ndarray,
        time_limited: np.ndarray,
        vector_infos: dict[str, Any],
    ) -> None:
        """Fill in the info dicts of the envs whose episode ended, as SB3 expects."""
        final = vector_infos["final_obs"]
        elapsed = round(time.time() - self._t_start, 6)
        ends = [key for key in vector_infos if not key.startswith("_") and key != "final_obs"]
        for i in np.flatnonzero(dones):
            infos[i] = {
                "terminal_observation": {key: value[i] for key, value in final.items()},
                "TimeLimit.truncated": bool(time_limited[i]),
                **{key: vector_infos[key][i].item() for key in ends},
                "episode": {"r": float(self._returns[i]), "l": int(self._lengths[i]), "t": elapsed},
            }
        self._returns[dones] = 0.0
        self._lengths[dones] = 0

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The vector env's attribute, once per requested env (all envs share it)."""
        return [getattr(self.venv, attr_name)] * len(self._index_list(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the shared vector env; only possible for all envs at once."""
        self._require_all(indices, "set_attr")
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        """Call a method of the shared vector env once; its result is repeated per env."""
        self._require_all(indices, "env_method")
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result] * self.num_envs

    def env_is_wrapped(
        self, wrapper_class: type[gymnasium.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        """Always False: the envs are not separate ``gymnasium.Env`` objects to wrap."""
        return [False] * len(self._index_list(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        raise NotImplementedError(_NO_RENDER)

    def render(self, mode: str | None = None) -> np.ndarray | None:
        raise NotImplementedError(_NO_RENDER)

    def _index_list(self, indices: VecEnvIndices) -> list[int]:
        index_list = list(self._get_indices(indices))
        for index in index_list:
            if not 0 <= index < self.num_envs:
                raise IndexError(f"env index {index} out of range for {self.num_envs} envs")
        return index_list

    def _require_all(self, indices: VecEnvIndices, method: str) -> None:
        if sorted(self._index_list(indices)) != list(range(self.num_envs)):
            raise ValueError(
                f"{method}: the {self.num_envs} envs share one GlimpseVectorEnv, so it acts on "
                f"all of them at once; pass indices=None, got {indices!r}"
            )


_NO_RENDER = (
    "SB3VecEnv does not render; use GlimpseEnv(render_mode='rgb_array') with "
    "ram_env.render.record_episode to look at episodes"
)


def check_action_type(action_type: str) -> None:
    """Raise ``ValueError`` unless SB3 has policies for the ``action_type``."""
    if action_type not in SB3_ACTION_TYPES:
        raise ValueError(
            f"action_type={action_type!r} cannot be used with Stable-Baselines3 (it has no "
            f"policy for Dict action spaces); use one of {SB3_ACTION_TYPES}"
        )


def make_sb3_vec_env(
    env_id: str, num_envs: int, seed: int | None = None, **kwargs: Any
) -> SB3VecEnv:
    """Build ``SB3VecEnv(gymnasium.make_vec(env_id, num_envs, autoreset_mode=SAME_STEP))``.

    ``kwargs`` are ``GlimpseEnv`` arguments (``action_type``, ``dataset``, ...). With
    ``seed``, env i uses seed ``seed + i`` at the first ``reset`` and the action space
    is seeded too.
    """
    check_action_type(kwargs.get("action_type", "box"))
    venv = gymnasium.make_vec(
        env_id, num_envs=num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **kwargs
    )
    env = SB3VecEnv(venv)
    if seed is not None:
        env.seed(seed)
        env.action_space.seed(seed)
    return env


def _batched_seeds(seeds: list[int | None]) -> int | list[int] | None:
    """SB3's per-env seeds for ``GlimpseVectorEnv.reset``: None (no reseed), the first seed
    when they count up from it (as ``seed()`` makes them), else the list."""
    if all(seed is None for seed in seeds):
        return None
    if any(seed is None for seed in seeds):
        raise ValueError(
            "SB3VecEnv reseeds all its envs together; give every env a seed (use seed()), "
            f"got {seeds}"
        )
    seeds = [int(seed) for seed in seeds]
    return seeds[0] if seeds == list(range(seeds[0], seeds[0] + len(seeds))) else seeds


def _batched_options(options: list[dict[str, Any]]) -> dict[str, Any] | None:
    """SB3's per-env reset options as one batched ``options`` dict (None: none set)."""
    if not any(options):
        return None
    keys = set(options[0])
    if any(set(option) != keys for option in options):
        raise ValueError(f"every env needs the same reset option keys, got {options}")
    return {key: np.array([option[key] for option in options]) for key in keys}
