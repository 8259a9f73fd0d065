"""``GlimpseVectorEnv``: N batched envs reproduce N single ``GlimpseEnv``s exactly."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import ram_env
from ram_env import GlimpseEnv, GlimpseVectorEnv, episodes
from ram_env.registration import TASKS

ACTION_TYPES = ("box", "dict", "multidiscrete", "discrete")
MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED)
N = 3
T = 3
END_KEYS = ("label", "prediction", "is_success")


@pytest.fixture(params=["bank", "cluttered"])
def task_kwargs(request, synthetic_kwargs) -> dict[str, Any]:
    """The shared-image-bank path (images as given) and the per-env canvas path."""
    kwargs = {**synthetic_kwargs, "num_glimpses": T, "reward": "dense", "grid_size": 4}
    if request.param == "cluttered":
        kwargs.update(canvas_size=40, num_clutter=2, num_scales=2, glimpse_size=6)
    return kwargs


def row(actions, i: int):
    """Env i's action out of a batch (a dict of arrays for ``"dict"``)."""
    if isinstance(actions, dict):
        return {key: value[i] for key, value in actions.items()}
    return actions[i]


def stack(observations: list[dict]) -> dict[str, np.ndarray]:
    return {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}


def assert_obs_equal(actual: dict, expected: dict, what: str) -> None:
    assert set(actual) == set(expected)
    for key in expected:
        assert actual[key].dtype == expected[key].dtype, f"{what}: {key} dtype"
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=f"{what}: {key}")


class SingleEnvs:
    """N ``GlimpseEnv``s seeded ``seed + i``, stepped by hand the way a vector env should."""

    def __init__(self, kwargs: dict, n: int, mode: AutoresetMode) -> None:
        self.envs = [GlimpseEnv(**kwargs) for _ in range(n)]
        self.mode = mode
        self.ended = np.zeros(n, dtype=bool)

    def reset(self, seed: int | None = None, image_index=None) -> dict[str, np.ndarray]:
        observations = []
        for i, env in enumerate(self.envs):
            options = None if image_index is None else {"image_index": int(image_index[i])}
            observations.append(
                env.reset(seed=None if seed is None else seed + i, options=options)[0]
            )
        self.ended[:] = False
        return stack(observations)

    def step(self, actions) -> tuple[dict, np.ndarray, np.ndarray, dict]:
        observations, rewards, terminated, infos, finals = [], [], [], [], []
        for i, env in enumerate(self.envs):
            if self.ended[i]:  # NEXT_STEP: a reset step
                obs, reward, term, info = env.reset()[0], 0.0, False, {}
            else:
                obs, reward, term, _, info = env.step(row(actions, i))
            finals.append(obs)
            if term and self.mode == AutoresetMode.SAME_STEP:
                obs = env.reset()[0]
            observations.append(obs)
            rewards.append(reward)
            terminated.append(term)
            infos.append(info)
        self.ended = np.array(terminated) & (self.mode != AutoresetMode.SAME_STEP)
        return (
            stack(observations),
            np.array(rewards),
            np.array(terminated),
            self._infos(infos, finals),
        )

    def _infos(self, infos: list[dict], finals: list[dict]) -> dict:
        """Gymnasium's batched infos: values where an episode ended, masks ``_key``."""
        done = np.array([bool(info) for info in infos])
        if not done.any():
            return {}
        batched = {}
        for key in END_KEYS:
            batched[key] = np.array([info.get(key, 0) for info in infos])
            batched[f"_{key}"] = done
        if self.mode == AutoresetMode.SAME_STEP:
            batched["final_obs"], batched["_final_obs"] = stack(finals), done
        return batched


def assert_infos_equal(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if key == "final_obs":
            assert_obs_equal(actual[key], value, "final_obs")
        elif key.startswith("_"):
            np.testing.assert_array_equal(actual[key], value, err_msg=key)
        else:
            mask = expected[f"_{key}"]
            np.testing.assert_array_equal(actual[key][mask], value[mask], err_msg=key)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_matches_single_envs(task_kwargs, mode: AutoresetMode, action_type: str) -> None:
    kwargs = {**task_kwargs, "action_type": action_type}
    venv = GlimpseVectorEnv(num_envs=N, autoreset_mode=mode, **kwargs)
    singles = SingleEnvs(kwargs, N, mode)
    seed = 11
    assert_obs_equal(venv.reset(seed=seed)[0], singles.reset(seed), "reset")
    venv.action_space.seed(0)
    episodes_ended = 0
    for step in range(4 * (T + 1)):
        actions = venv.action_space.sample()
        if mode == AutoresetMode.DISABLED and singles.ended.any():
            with pytest.raises(RuntimeError, match="reset"):
                venv.step(actions)
            assert_obs_equal(venv.reset()[0], singles.reset(), f"reset after step {step}")
            continue
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        want_obs, want_rewards, want_terminated, want_infos = singles.step(actions)
        assert_obs_equal(obs, want_obs, f"step {step}")
        assert rewards.dtype == np.float64 and rewards.shape == (N,)
        np.testing.assert_array_equal(rewards, want_rewards)
        np.testing.assert_array_equal(terminated, want_terminated)
        assert truncated.dtype == bool and not truncated.any()
        assert_infos_equal(infos, want_infos)
        episodes_ended += int(terminated.all())
    assert episodes_ended >= 3


def test_next_step_reset_step_ignores_the_action(synthetic_kwargs) -> None:
    envs = [GlimpseVectorEnv(num_envs=2, num_glimpses=2, **synthetic_kwargs) for _ in range(2)]
    for env in envs:
        env.reset(seed=3)
        env.step(np.zeros((2, 12)))
        assert env.step(np.zeros((2, 12)))[2].all()
    steps = [
        env.step(np.full((2, 12), value)) for env, value in zip(envs, (-1.0, 1.0), strict=True)
    ]
    for a, b in zip(*steps, strict=True):
        if isinstance(a, dict):
            assert_obs_equal(a, b, "reset step")
        else:
            np.testing.assert_array_equal(a, b)
    obs, rewards, terminated, _, infos = steps[0]
    assert (obs["time"] == 0).all() and (rewards == 0).all() and not terminated.any()
    assert infos == {}


def test_same_step_final_obs(synthetic_kwargs) -> None:
    venv = GlimpseVectorEnv(
        num_envs=N, num_glimpses=2, autoreset_mode=AutoresetMode.SAME_STEP, **synthetic_kwargs
    )
    venv.reset(seed=0)
    venv.step(venv.action_space.sample())
    obs, _, terminated, _, infos = venv.step(venv.action_space.sample())
    assert terminated.all() and infos["_final_obs"].all()
    assert venv.observation_space.contains(infos["final_obs"])
    assert (infos["final_obs"]["time"] == 1).all() and (obs["time"] == 0).all()


def test_disabled_autoreset_raises_until_reset(synthetic_kwargs) -> None:
    venv = GlimpseVectorEnv(
        num_envs=2, num_glimpses=1, autoreset_mode=AutoresetMode.DISABLED, **synthetic_kwargs
    )
    venv.reset(seed=0)
    assert venv.step(venv.action_space.sample())[2].all()
    for _ in range(2):
        with pytest.raises(RuntimeError, match="autoreset is disabled"):
            venv.step(venv.action_space.sample())
    venv.reset()
    assert venv.step(venv.action_space.sample())[2].all()


def test_step_before_reset_raises(synthetic_kwargs) -> None:
    venv = GlimpseVectorEnv(num_envs=2, **synthetic_kwargs)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(venv.action_space.sample())


def test_list_of_seeds(synthetic_kwargs) -> None:
    venv = GlimpseVectorEnv(num_envs=N, **synthetic_kwargs)
    singles = SingleEnvs(synthetic_kwargs, N, AutoresetMode.NEXT_STEP)
    obs = venv.reset(seed=[5, 9, 2])[0]
    expected = stack([env.reset(seed=s)[0] for env, s in zip(singles.envs, (5, 9, 2), strict=True)])
    assert_obs_equal(obs, expected, "reset")


def test_different_seeds_differ(synthetic_kwargs) -> None:
    venv = GlimpseVectorEnv(num_envs=N, **synthetic_kwargs)
    first = venv.reset(seed=0)[0]["location"]
    assert len(np.unique(first[:, 0])) == N  # each env its own stream
    assert not np.array_equal(venv.reset(seed=1)[0]["location"], first)
    np.testing.assert_array_equal(venv.reset(seed=0)[0]["location"], first)


def test_image_index_option(task_kwargs) -> None:
    venv = GlimpseVectorEnv(num_envs=N, **{**task_kwargs, "num_glimpses": 1})
    singles = SingleEnvs({**task_kwargs, "num_glimpses": 1}, N, AutoresetMode.NEXT_STEP)
    index = np.array([39, 0, 17])
    obs = venv.reset(seed=4, options={"image_index": index})[0]
    assert_obs_equal(obs, singles.reset(seed=4, image_index=index), "reset")
    infos = venv.step(venv.action_space.sample())[4]
    np.testing.assert_array_equal(infos["label"], task_kwargs["labels"][index])
    venv.reset(options={"image_index": 5})  # one int: every env on image 5
    assert (venv.step(venv.action_space.sample())[4]["label"] == task_kwargs["labels"][5]).all()
    for bad in (np.array([0, 1]), np.array([0, 1, 40]), np.array([0.0, 1.0, 2.0])):
        with pytest.raises(ValueError, match="image_index"):
            venv.reset(options={"image_index": bad})


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_batched_action_decoding(synthetic_kwargs, action_type: str) -> None:
    grid = 5
    venv = GlimpseVectorEnv(
        num_envs=N, num_glimpses=1, action_type=action_type, grid_size=grid, **synthetic_kwargs
    )
    venv.reset(seed=0, options={"image_index": np.array([0, 1, 2])})
    points = np.linspace(-1, 1, grid)
    columns, rows, labels = np.array([0, 4, 2]), np.array([3, 0, 2]), np.array([0, 1, 5])
    locations = np.stack([points[columns], points[rows]], axis=1)
    if action_type == "box":
        actions = np.concatenate([locations, np.eye(10)[labels]], axis=1).astype(np.float32)
    elif action_type == "dict":
        actions = {"location": locations.astype(np.float32), "label": labels}
    elif action_type == "multidiscrete":
        actions = np.stack([columns, rows, labels], axis=1)
    else:
        actions = (columns * grid + rows) * 10 + labels
    obs, rewards, _, _, infos = venv.step(actions)
    np.testing.assert_allclose(obs["location"], locations, atol=1e-7)
    np.testing.assert_array_equal(infos["prediction"], labels)
    np.testing.assert_array_equal(rewards, [1.0, 1.0, 0.0])  # images 0, 1, 2 have labels 0, 1, 2


@pytest.mark.parametrize("reward, paid", [("sparse", [0, 0, 1]), ("dense", [1, 0, 0])])
def test_rewards_when_every_step_names_the_right_class(synthetic_kwargs, reward, paid) -> None:
    """Sparse: the answer counts at the last step only. Dense: the shaped rewards sum to it."""
    venv = GlimpseVectorEnv(num_envs=N, num_glimpses=T, reward=reward, **synthetic_kwargs)
    single = GlimpseEnv(num_glimpses=T, reward=reward, **synthetic_kwargs)
    venv.reset(seed=0, options={"image_index": np.arange(N)})
    single.reset(seed=0, options={"image_index": 1})
    actions = np.concatenate([np.zeros((N, 2)), np.eye(10)[np.arange(N)]], axis=1)  # labels 0..
    for t in range(T):
        _, rewards, terminated, _, _ = venv.step(actions.astype(np.float32))
        _, single_reward, *_ = single.step(actions[1].astype(np.float32))
        np.testing.assert_array_equal(rewards, np.full(N, float(paid[t])))
        assert single_reward == paid[t]
        assert terminated.all() == (t == T - 1)


BAD_BATCHES = {
    "box": [np.zeros((N - 1, 12)), np.zeros(12), np.full((N, 12), np.nan), np.zeros((N, 12), bool)],
    "dict": [
        {"location": np.zeros((N, 2))},
        {"location": np.zeros((N, 2)), "label": np.zeros(N - 1, dtype=int)},
        {"location": np.zeros((N, 2)), "label": np.full(N, 10)},
    ],
    "multidiscrete": [np.zeros((N, 2), int), np.full((N, 3), 9), np.full((N, 3), 0.5)],
    "discrete": [np.zeros(N - 1, int), np.full(N, 9 * 9 * 10), np.zeros((N, 1), int), 0],
}
BAD_CASES = [(t, i) for t, batches in BAD_BATCHES.items() for i in range(len(batches))]


@pytest.mark.parametrize(("action_type", "which"), BAD_CASES)
def test_bad_batched_actions_raise(synthetic_kwargs, action_type: str, which: int) -> None:
    venv = GlimpseVectorEnv(num_envs=N, num_glimpses=2, action_type=action_type, **synthetic_kwargs)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        venv.step(BAD_BATCHES[action_type][which])
    assert not venv.step(venv.action_space.sample())[2].any()  # the bad step did not count
    assert venv.step(venv.action_space.sample())[2].all()


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_batched_spaces(synthetic_kwargs, action_type: str) -> None:
    venv = GlimpseVectorEnv(
        num_envs=4, glimpse_size=5, num_scales=2, action_type=action_type, **synthetic_kwargs
    )
    single = GlimpseEnv(glimpse_size=5, num_scales=2, action_type=action_type, **synthetic_kwargs)
    assert venv.single_observation_space == single.observation_space
    assert venv.single_action_space == single.action_space
    assert venv.observation_space["glimpse"].shape == (4, 2, 5, 5)
    assert venv.observation_space["location"].shape == (4, 2)
    assert venv.observation_space["time"].shape == (4, 1)
    obs, infos = venv.reset(seed=0)
    assert venv.observation_space.contains(obs) and infos == {}
    venv.action_space.seed(0)
    assert venv.observation_space.contains(venv.step(venv.action_space.sample())[0])


def test_make_vec_returns_native_env(synthetic_kwargs) -> None:
    venv = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=5, **synthetic_kwargs)
    assert type(venv) is GlimpseVectorEnv and venv.num_envs == 5
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    same = gymnasium.make_vec(
        "GlimpseMNIST-v0", num_envs=2, autoreset_mode=AutoresetMode.SAME_STEP, **synthetic_kwargs
    )
    assert same.autoreset_mode == AutoresetMode.SAME_STEP


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"num_envs": 0}, "num_envs"),
        ({"num_envs": True}, "num_envs"),
        ({"autoreset_mode": "sometimes"}, "autoreset_mode"),
        ({"render_mode": "rgb_array"}, "render"),
        ({"action_type": "joystick"}, "action_type"),
    ],
)
def test_bad_arguments(synthetic_kwargs, overrides: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GlimpseVectorEnv(**{"num_envs": 2, **synthetic_kwargs, **overrides})


@pytest.mark.mnist
@pytest.mark.parametrize("env_id", ram_env.ENV_IDS)
def test_make_vec_registered_ids(env_id: str) -> None:
    _, g, k, num_glimpses = TASKS[env_id]
    venv = gymnasium.make_vec(env_id, num_envs=4)
    assert isinstance(venv, GlimpseVectorEnv)
    assert venv.observation_space["glimpse"].shape == (4, k, g, g)
    assert venv.action_space.shape == (4, 12)
    venv.reset(seed=0)
    ends = [venv.step(venv.action_space.sample())[2].all() for _ in range(num_glimpses)]
    assert ends == [False] * (num_glimpses - 1) + [True]


def run_envs(kwargs: dict, num_envs: int, seed: int) -> list[dict[str, np.ndarray]]:
    """Every observation of two episodes of a vector env under fixed random actions."""
    venv = GlimpseVectorEnv(num_envs=num_envs, autoreset_mode=AutoresetMode.DISABLED, **kwargs)
    venv.action_space.seed(seed)
    observations = []
    for episode in range(2):
        observations.append(venv.reset(seed=seed + episode)[0])
        for _ in range(T):
            observations.append(venv.step(venv.action_space.sample())[0])
    return observations


@pytest.mark.parametrize("threads", ["2", "3", "4"])
def test_threads_give_the_same_episodes(task_kwargs, monkeypatch, threads: str) -> None:
    """Resets and glimpses split over threads (uneven shares included) change nothing."""
    monkeypatch.setattr(episodes, "MIN_ENVS_PER_THREAD", 2)
    monkeypatch.setenv(episodes.ENV_THREADS, "1")
    alone = run_envs(task_kwargs, 9, seed=5)
    monkeypatch.setenv(episodes.ENV_THREADS, threads)
    venv = GlimpseVectorEnv(num_envs=9, **task_kwargs)
    assert len(venv._batch.thread_rows) == int(threads)
    for step, (split, single) in enumerate(zip(run_envs(task_kwargs, 9, 5), alone, strict=True)):
        assert_obs_equal(split, single, f"{threads} threads, observation {step}")


def test_thread_shares_cover_every_env_once() -> None:
    for num_envs, threads, sizes in [
        (100, 4, [100]),  # too few envs to share: one thread
        (256, 2, [128, 128]),
        (300, 2, [150, 150]),
        (1000, 3, [333, 333, 334]),
        (1024, 16, [128] * 8),  # no share under MIN_ENVS_PER_THREAD
    ]:
        shares = episodes.thread_shares(num_envs, threads)
        assert [share.stop - share.start for share in shares] == sizes
        assert shares[0].start == 0 and shares[-1].stop == num_envs
        assert all(a.stop == b.start for a, b in zip(shares, shares[1:], strict=False))


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_thread_count_names_the_variable(synthetic_kwargs, monkeypatch, value: str) -> None:
    monkeypatch.setenv(episodes.ENV_THREADS, value)
    with pytest.raises(ValueError, match="RAM_ENV_THREADS"):
        GlimpseVectorEnv(num_envs=2, **synthetic_kwargs)
