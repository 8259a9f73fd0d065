"""Stable-Baselines3 algorithms on the glimpse envs: training and scoring.

The algorithms and their settings are the registry's (``agents.sb3_registry.ALGORITHMS``,
re-exported here). ``train_sb3`` trains one on ``ram_env.sb3.make_sb3_vec_env`` (the native
batched env, no per-env loop) and writes a run folder::

    model.zip     the SB3 model, saved atomically (temp file in the folder + os.replace)
    config.json   what was run and how long it took
    metrics.csv   timesteps, minutes, rolling training success rate, validation accuracy

``evaluate_sb3`` scores a saved model on every fixed canvas of a split exactly once, the way
``agents.evaluation.evaluate`` scores the hand-written agent (same images, same first
locations for the same seed, deterministic actions), and returns the same ``EvalResult``.

``recurrent-ppo`` is ``agents.hybrid_ppo.HybridRecurrentPPO``: sb3-contrib's
``RecurrentPPO`` with ``agents.sb3_policy.RecurrentRAMPolicy``, plus the paper's supervised
classifier loss. The feed-forward algorithms (``ppo``, ``a2c``, ``sac``, ``td3``, ``dqn``) use
SB3's ``MultiInputPolicy`` on the same glimpse network, without memory: each step they
see only the current glimpse, its location and the time.

An algorithm whose spec names an ``observation_transform`` (``ObservationTransform``) trains
and is scored on the transform of the env's observations instead: ``train_sb3`` wraps the
training env in ``TransformedVecEnv`` and ``SB3Policy`` applies it when the model plays.
``ppo-history`` (``agents.glimpse_history``) so sees each episode's glimpses so far.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import gymnasium
import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

import ram_env  # noqa: F401  (registers the env ids)
from agents.checkpoint import CheckpointError
from agents.cpu_load import choose_threads
from agents.evaluation import EvalResult, evaluate
from agents.hybrid_ppo import HybridRecurrentPPO
from agents.learning_curve import LearningCurve
from agents.metrics_log import MetricsLog
from agents.policy import LoadedPolicy
from agents.sb3_config import SB3Config
from agents.sb3_registry import (
    ALGORITHM_NAMES,
    ALGORITHMS,
    CONFIG_FILE,
    MODEL_FILE,
    AlgorithmSpec,
    get_spec,
    is_sb3_run,
    read_run_config,
    resolve_action_type,
    resolve_model_path,
)
from agents.schedules import scheduled_lr
from agents.stop import StopRequest
from ram_env.atomic import write_atomic, write_json_atomic
from ram_env.sb3 import make_sb3_vec_env
from ram_env.scoring import make_eval_env

RUN_FILE = MODEL_FILE  # what a run folder holding a run of this family has
METRICS_FILE = "metrics.csv"
METRIC_FIELDS = (
    "timesteps",
    "minutes",
    "episodes",
    "success_rate",
    "val_accuracy",
    "steps_per_second",
)


# --------------------------------------------------------------------------- observations


class ObservationTransform(Protocol):
    """What an SB3 model sees instead of the glimpse env's observations (e.g. a history).

    Built once per env as ``cls(observation_space, num_glimpses)`` from the env's single-env
    observation space (kept as ``input_space``) and its episode length; ``observation_space``
    is the single-env space of what it returns, the space the SB3 model is built on. It acts
    on whole batches and keeps no per-episode state of its own: what it must remember from
    step to step is the ``memory`` it returns and is given back, so one transform serves the
    training env and every scoring env at once.
    """

    input_space: gymnasium.spaces.Space
    observation_space: gymnasium.spaces.Space

    def __init__(self, observation_space: gymnasium.spaces.Space, num_glimpses: int) -> None: ...

    def __call__(
        self,
        observation: dict[str, np.ndarray],
        memory: Any | None,
        episode_start: np.ndarray,
    ) -> tuple[dict[str, np.ndarray], Any]:
        """The transformed batch of observations and the memory to pass with the next one.

        ``memory`` is None at the very first call; ``episode_start[i]`` is True where env i's
        observation is the first of an episode (its history restarts there). The arrays
        returned must not change afterwards (SB3 stores them a step later).
        """


class TransformedVecEnv(VecEnvWrapper):
    """An SB3 ``VecEnv`` whose observations pass through an ``ObservationTransform``.

    ``SB3VecEnv`` resets an ended env at once, so an env whose ``done`` is True returns the
    first observation of its next episode: that is where its history restarts. The
    ``terminal_observation`` of an ended episode is transformed too, as the continuation of
    its history (off-policy algorithms store it as the last step's next observation).
    """

    def __init__(self, venv: VecEnv, transform: ObservationTransform) -> None:
        super().__init__(venv, observation_space=transform.observation_space)
        self.transform = transform
        self.memory: Any | None = None

    def reset(self) -> VecEnvObs:
        observation = self.venv.reset()
        starts = np.ones(self.num_envs, dtype=bool)
        observation, self.memory = self.transform(observation, None, starts)
        return observation

    def step_wait(self) -> VecEnvStepReturn:
        observation, rewards, dones, infos = self.venv.step_wait()
        if dones.any():
            self._transform_terminal_observations(observation, dones, infos)
        observation, self.memory = self.transform(observation, self.memory, dones)
        return observation, rewards, dones, infos

    def _transform_terminal_observations(
        self, observation: dict[str, np.ndarray], dones: np.ndarray, infos: list[dict[str, Any]]
    ) -> None:
        ended = np.flatnonzero(dones)
        final = {key: value.copy() for key, value in observation.items()}
        for key in final:
            final[key][ended] = [infos[i]["terminal_observation"][key] for i in ended]
        not_started = np.zeros(self.num_envs, dtype=bool)
        final, _ = self.transform(final, self.memory, not_started)
        for i in ended:
            infos[i]["terminal_observation"] = {key: value[i] for key, value in final.items()}


def make_observation_transform(
    spec: AlgorithmSpec, observation_space: gymnasium.spaces.Space, num_glimpses: int
) -> ObservationTransform | None:
    """The spec's observation transform for envs of ``observation_space`` (None: none)."""
    cls = spec.load_observation_transform()
    return None if cls is None else cls(observation_space, num_glimpses)


# --------------------------------------------------------------------------- schedules


class BudgetSchedule:
    """A learning-rate schedule over the run's budget, in steps or in wall-clock time.

    SB3 calls it with ``progress_remaining`` (1 -> 0 over ``total_timesteps``); with a time
    budget ``RunCallback`` also sets ``time_fraction``, and the larger of the two fractions
    used counts. ``"linear"`` and ``"cosine"`` decay to 0, ``"constant"`` does not.
    """

    def __init__(self, initial: float, kind: str = "constant") -> None:
        scheduled_lr(initial, kind, 0.0)  # refuses an unknown kind
        self.initial = float(initial)
        self.kind = kind
        self.time_fraction = 0.0

    def __call__(self, progress_remaining: float) -> float:
        used = max(1.0 - progress_remaining, self.time_fraction)
        return scheduled_lr(self.initial, self.kind, used)

    def __repr__(self) -> str:
        return f"BudgetSchedule({self.initial}, {self.kind!r})"


# --------------------------------------------------------------------------- callbacks


class RunCallback(BaseCallback):
    """Stops on the time budget or a signal, logs ``metrics.csv`` and saves periodically.

    With a time budget, SB3's progress (which drives schedules such as DQN's exploration)
    follows the larger of the step and the time fraction used, so schedules end with the
    budget whichever it is.
    """

    def __init__(
        self,
        out_dir: Path,
        train_minutes: float | None,
        total_timesteps: int | None,
        score: Callable[[BaseAlgorithm], float] | None,
        log_every_s: float = 30.0,
        save_every_s: float = 600.0,
        save: Callable[[], None] | None = None,
        stop: StopRequest | None = None,
        window: int = 1000,
        curve: LearningCurve | None = None,
        curve_score: Callable[[BaseAlgorithm], float] | None = None,
    ) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.budget_s = None if train_minutes is None else 60.0 * train_minutes
        self.step_budget = total_timesteps
        self.score = score
        self.log_every_s, self.save_every_s = log_every_s, save_every_s
        self.save = save
        self.stop = stop
        self.successes: deque[bool] = deque(maxlen=window)
        self.episodes = 0
        self.stop_reason = "done"
        self.seconds = 0.0
        if (curve is None) != (curve_score is None):
            raise ValueError("a learning curve needs both the curve and its scorer")
        self.curve, self.curve_score = curve, curve_score

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()
        self.last_log = self.last_save = 0.0
        self.metrics = MetricsLog(self.out_dir / METRICS_FILE, METRIC_FIELDS)

    def _on_step(self) -> bool:
        for info, done in zip(self.locals["infos"], self.locals["dones"], strict=True):
            if done and "is_success" in info:
                self.successes.append(bool(info["is_success"]))
                self.episodes += 1
        self.seconds = time.perf_counter() - self.start
        self._follow_budget()
        if self.curve is not None and self.curve.due(self.num_timesteps):
            self.log_curve_point()
        if self.seconds - self.last_log >= self.log_every_s:
            self.log_row()
        if self.save is not None and self.seconds - self.last_save >= self.save_every_s:
            self.save()
            self.last_save = self.seconds
        if self.stop is not None and self.stop.requested:
            self.stop_reason = f"stopped by {self.stop.requested}"
            return False
        if self.budget_s is not None and self.seconds >= self.budget_s:
            self.stop_reason = "time budget used"
            return False
        return True

    def _follow_budget(self) -> None:
        if self.budget_s is None or self.seconds <= 0:
            return
        fraction = self.seconds / self.budget_s
        if self.step_budget is not None:
            fraction = max(fraction, self.num_timesteps / self.step_budget)
        schedule = getattr(self.model, "learning_rate", None)
        if isinstance(schedule, BudgetSchedule):
            schedule.time_fraction = min(fraction, 1.0)
        if fraction > 0:  # off-policy algorithms read their progress from _total_timesteps
            self.model._total_timesteps = max(
                self.num_timesteps + 1, int(self.num_timesteps / min(fraction, 1.0))
            )

    def log_curve_point(self) -> None:
        """Score the whole validation split into ``curve.csv`` (its time is counted)."""
        accuracy = self.curve_score(self.model)
        self.seconds = time.perf_counter() - self.start
        self.curve.record(self.num_timesteps, self.seconds / 60.0, accuracy)

    def log_row(self) -> None:
        """Append one row of ``metrics.csv`` (the validation score's time is counted)."""
        val_accuracy = "" if self.score is None else round(self.score(self.model), 3)
        self.seconds = time.perf_counter() - self.start
        self.last_log = self.seconds
        success = np.mean(self.successes) if self.successes else float("nan")
        row = {
            "timesteps": self.num_timesteps,
            "minutes": round(self.seconds / 60.0, 4),
            "episodes": self.episodes,
            "success_rate": round(float(success), 4),
            "val_accuracy": val_accuracy,
            "steps_per_second": round(self.num_timesteps / max(self.seconds, 1e-9), 1),
        }
        self.metrics.append(row)


# --------------------------------------------------------------------------- training


def save_model_atomic(model: BaseAlgorithm, path: str | os.PathLike) -> Path:
    """``model.save`` into a temp file beside ``path``, then ``os.replace`` it over ``path``."""
    return write_atomic(path, model.save)


def _json_default(value: Any) -> Any:
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def train_sb3(
    algo: str,
    env_id: str = "GlimpseMNIST-v0",
    *,
    out_dir: str | os.PathLike,
    total_timesteps: int | None = None,
    train_minutes: float | None = None,
    seed: int = 0,
    num_envs: int | None = None,
    action_type: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    hyperparams: dict[str, Any] | None = None,
    val_images: int = 1000,
    log_every_s: float = 30.0,
    save_every_s: float = 600.0,
    curve_every: int | None = None,
    eval_batch_size: int = 1000,
    verbose: int = 0,
    progress_bar: bool = False,
) -> dict[str, Any]:
    """Train ``algo`` on ``env_id``; write ``model.zip``, ``config.json``, ``metrics.csv``.

    The run stops at ``total_timesteps`` or after ``train_minutes`` of wall-clock time
    (validation included), whichever comes first; with neither, after the algorithm's
    ``default_timesteps``. ``env_kwargs`` override env settings, ``hyperparams`` the
    algorithm's defaults. ``val_images`` validation images (0: none) are scored with each
    metrics row. With ``curve_every``, the whole validation split is scored (in batches of
    ``eval_batch_size``) each time the run passes a multiple of that many env steps, into
    ``curve.csv``. Returns a summary (also in ``config.json``).
    """
    spec = get_spec(algo)
    action_type = resolve_action_type(algo, action_type)
    if total_timesteps is None and train_minutes is None:
        total_timesteps = spec.default_timesteps
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(choose_threads(threads)[0])
    env_kwargs = {**spec.env_kwargs, **(env_kwargs or {}), "action_type": action_type}
    num_envs = num_envs or spec.num_envs
    env: VecEnv = make_sb3_vec_env(env_id, num_envs, seed=seed, split="train", **env_kwargs)
    num_glimpses = env.venv.num_glimpses
    transform = make_observation_transform(spec, env.observation_space, num_glimpses)
    if transform is not None:
        env = TransformedVecEnv(env, transform)
    task_params, given = spec.hyperparams_for(env_id), dict(hyperparams or {})
    policy_kwargs = {
        **spec.load_policy_kwargs(),
        **task_params.pop("policy_kwargs", {}),
        **given.pop("policy_kwargs", {}),
    }
    params = {**task_params, **given}
    if spec.rollout_episodes is not None and "n_steps" not in params:
        params["n_steps"] = spec.rollout_episodes * num_glimpses
    if "batch_size" in params and "n_steps" in params and "batch_size" not in (hyperparams or {}):
        params["batch_size"] = min(params["batch_size"], params["n_steps"] * num_envs)
    lr_schedule = params.pop("lr_schedule", "constant")
    learning_rate = BudgetSchedule(params.pop("learning_rate", 3e-4), lr_schedule)
    if spec.ram_core:
        policy_kwargs.setdefault("num_glimpses", num_glimpses)
    model = spec.load_algo_class()(
        spec.load_policy(),
        env,
        seed=seed,
        device=device,
        verbose=verbose,
        policy_kwargs=policy_kwargs,
        learning_rate=learning_rate,
        **params,
    )
    config = {
        "format": "ram-env-sb3",
        "algo": algo,
        "env_id": env_id,
        "action_type": action_type,
        "env_kwargs": env_kwargs,
        "num_glimpses": num_glimpses,
        "num_envs": num_envs,
        "seed": seed,
        "total_timesteps": total_timesteps,
        "train_minutes": train_minutes,
        "curve_every": curve_every,
        "device": device,
        "threads": threads,
        "track": spec.track(params),
        "memory": spec.memory,
        "policy": spec.policy_name,
        "policy_kwargs": policy_kwargs,
        **({"observation_transform": spec.observation_transform} if transform else {}),
        "hyperparams": {
            **params,
            "learning_rate": learning_rate.initial,
            "lr_schedule": lr_schedule,
        },
        "versions": _versions(),
    }
    write_json_atomic(out_dir / CONFIG_FILE, config, default=_json_default)
    score = None
    if val_images > 0:
        val_env = _make_split_env(env_id, "validation", min(val_images, 1000), env_kwargs)
        num_images = min(val_images, val_env.unwrapped.num_images)

        def score(current: BaseAlgorithm) -> float:
            policy = SB3Policy(current, action_type, transform)
            return evaluate(policy, val_env, seed=seed, num_images=num_images).accuracy

    curve = curve_score = None
    if curve_every is not None:
        curve = LearningCurve(out_dir, curve_every)
        curve_env = _make_split_env(env_id, "validation", eval_batch_size, env_kwargs)

        def curve_score(current: BaseAlgorithm) -> float:
            policy = SB3Policy(current, action_type, transform)
            return evaluate(policy, curve_env, seed=seed, split="validation").accuracy

    model_path = out_dir / MODEL_FILE
    with StopRequest() as stop:
        callback = RunCallback(
            out_dir,
            train_minutes,
            total_timesteps,
            score,
            log_every_s=log_every_s,
            save_every_s=save_every_s,
            save=lambda: save_model_atomic(model, model_path),
            stop=stop,
            curve=curve,
            curve_score=curve_score,
        )
        steps = total_timesteps if total_timesteps is not None else 10**15
        model.learn(steps, callback=callback, progress_bar=progress_bar)
        callback.log_row()
        save_model_atomic(model, model_path)
    env.close()
    if curve is not None:
        curve_env.close()
    minutes = callback.seconds / 60.0
    summary = {
        "stop_reason": callback.stop_reason,
        "timesteps": int(model.num_timesteps),
        "episodes": callback.episodes,
        "minutes": round(minutes, 4),
        "steps_per_second": round(model.num_timesteps / max(callback.seconds, 1e-9), 1),
        "interrupted": callback.stop_reason.startswith("stopped"),
        "model": str(model_path),
    }
    write_json_atomic(out_dir / CONFIG_FILE, {**config, "result": summary}, default=_json_default)
    return summary


def train(
    config: SB3Config, run_dir: str | os.PathLike, resume: bool = False, progress_bar: bool = True
) -> dict[str, Any]:
    """Train the run ``config`` describes in ``run_dir`` (the algorithm protocol's entry)."""
    if resume:
        raise ValueError(f"--algo {config.algo} runs cannot be resumed; they start afresh")
    summary = train_sb3(
        config.algo,
        config.env_id,
        out_dir=run_dir,
        total_timesteps=config.total_timesteps,
        train_minutes=config.train_minutes,
        seed=config.seed,
        num_envs=config.num_envs,
        action_type=config.resolved_action_type(),
        device=config.device,
        threads=config.threads,
        env_kwargs=config.env_kwargs(),
        hyperparams=config.overrides() or None,
        val_images=config.val_images,
        log_every_s=config.log_interval,
        curve_every=config.curve_every,
        eval_batch_size=config.eval_batch_size,
        progress_bar=progress_bar and _has_progress_bar(),
    )
    text = (
        f"{summary['stop_reason']}: {summary['timesteps']} steps ({summary['episodes']} "
        f"episodes) in {summary['minutes']:.1f} min, {summary['steps_per_second']:.0f} "
        f"steps/s; saved {summary['model']}"
    )
    return {**summary, "text": text, "checkpoint": summary["model"]}


def _has_progress_bar() -> bool:
    """SB3's progress bar needs both tqdm and rich."""
    return all(importlib.util.find_spec(name) is not None for name in ("tqdm", "rich"))


def _versions() -> dict[str, str]:
    import sb3_contrib

    return {
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "ram_env": ram_env.__version__,
    }


# --------------------------------------------------------------------------- evaluation


def _make_split_env(
    env_id: str, split: str, num_envs: int, env_kwargs: dict[str, Any]
) -> gymnasium.vector.VectorEnv:
    return make_eval_env(env_id, split, num_envs, **env_kwargs)


class SB3Policy:
    """A trained SB3 model as an ``agents.policy.Policy``: its deterministic actions.

    The state is the recurrent policy's (``None`` for feed-forward ones) and the
    ``transform``'s memory (``None`` without one); a ``None`` state starts the episodes,
    which SB3 reads as ``episode_start``. With a ``transform`` the model sees the transformed
    observations, and the env must give what the transform takes.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        action_type: str,
        transform: ObservationTransform | None = None,
    ) -> None:
        self.model = model
        self.action_type = action_type
        self.transform = transform

    def seed(self, seed: int) -> None:
        """Deterministic actions draw nothing."""

    def check_observation_space(self, space: gymnasium.spaces.Space) -> None:
        expected = self.model.observation_space
        if self.transform is not None:
            expected = self.transform.input_space
        if space != expected:
            raise ValueError(f"the model expects observations {expected}, the env gives {space}")

    def __call__(self, observation: dict[str, np.ndarray], state: Any) -> tuple[np.ndarray, Any]:
        batch = len(observation["location"])
        recurrent_state, memory = (None, None) if state is None else state
        episode_start = np.full(batch, state is None)
        if self.transform is not None:
            observation, memory = self.transform(observation, memory, episode_start)
        action, recurrent_state = self.model.predict(
            observation, state=recurrent_state, episode_start=episode_start, deterministic=True
        )
        return action, (recurrent_state, memory)


def load_run(
    path: str | os.PathLike, device: str = "cpu"
) -> tuple[BaseAlgorithm, dict[str, Any], Path]:
    """Load a run's SB3 model and its ``config.json``; ``CheckpointError`` if unusable."""
    model_path = resolve_model_path(path)
    if not model_path.is_file():
        raise CheckpointError(f"SB3 model not found: {model_path}")
    config = read_run_config(model_path)
    try:
        spec = get_spec(config.get("algo", ""))
    except ValueError as error:
        raise CheckpointError(f"{model_path.parent / CONFIG_FILE}: {error}") from error
    try:
        model = spec.load_algo_class().load(model_path, device=device)
    except Exception as error:  # a truncated zip or a foreign file raises many things
        raise CheckpointError(
            f"cannot load {model_path} as a {spec.name} model: {type(error).__name__}: {error}"
        ) from error
    return model, config, model_path


def load(
    path: str | os.PathLike,
    device: str = "cpu",
    sample_paths: bool = False,
    precision: str = "auto",
) -> LoadedPolicy:
    """The policy of a saved run (``model.zip`` or its folder), with the task it trained on.
    SB3 policies play in fp32 (``precision="auto"`` included)."""
    if precision == "bf16":
        raise CheckpointError("SB3 policies are scored in fp32; drop --precision bf16")
    if sample_paths:
        raise CheckpointError(
            "--mc > 1 averages sampled glimpse paths of the hand-written agent; "
            "SB3 models are scored on their deterministic path (--mc 1)"
        )
    model, config, model_path = load_run(path, device)
    return LoadedPolicy(
        SB3Policy(model, config["action_type"], _load_transform(model, config, model_path)),
        algo=config["algo"],
        env_id=config["env_id"],
        env_kwargs=dict(config.get("env_kwargs", {})),
        seed=config.get("seed", 0),
        checkpoint=model_path,
        details={"action_type": config["action_type"]},
    )


def _load_transform(
    model: BaseAlgorithm, config: dict[str, Any], model_path: Path
) -> ObservationTransform | None:
    """The run's observation transform, rebuilt for the env it trained on (None: none)."""
    spec = get_spec(config["algo"])
    if spec.observation_transform is None:
        return None
    env = gymnasium.make(config["env_id"], **config.get("env_kwargs", {}))
    try:
        num_glimpses = config.get("num_glimpses") or env.unwrapped.num_glimpses
        transform = make_observation_transform(spec, env.observation_space, num_glimpses)
    finally:
        env.close()
    if transform.observation_space != model.observation_space:
        raise CheckpointError(
            f"{model_path} sees observations {model.observation_space}, but its "
            f"{spec.observation_transform} of the run's env gives {transform.observation_space}"
        )
    return transform


def evaluate_sb3(
    path: str | os.PathLike,
    split: str = "test",
    *,
    batch_size: int = 1000,
    device: str = "cpu",
    max_images: int | None = None,
    seed: int | None = None,
) -> EvalResult:
    """Score a saved SB3 run on every fixed canvas of ``split`` (the first ``max_images``
    only, when given), each exactly once, with deterministic actions."""
    loaded = load(path, device)
    num_envs = batch_size if max_images is None else min(batch_size, max_images)
    env = _make_split_env(loaded.env_id, split, num_envs, loaded.env_kwargs)
    try:
        loaded.policy.check_observation_space(env.single_observation_space)
    except ValueError as error:
        raise CheckpointError(str(error)) from error
    try:
        seed = loaded.seed if seed is None else seed
        return evaluate(loaded.policy, env, seed=seed, split=split, num_images=max_images)
    finally:
        env.close()


__all__ = [
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "AlgorithmSpec",
    "AlgorithmSpec",
    "HybridRecurrentPPO",
    "ObservationTransform",
    "RunCallback",
    "SB3Policy",
    "evaluate_sb3",
    "load",
    "get_spec",
    "is_sb3_run",
    "load_run",
    "resolve_action_type",
    "save_model_atomic",
    "train",
    "train_sb3",
    "TransformedVecEnv",
]
