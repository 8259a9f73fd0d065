"""Gymnasium's and Stable-Baselines3's checkers, SB3 training, and the ``SB3VecEnv`` adapter."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from gymnasium.vector import AutoresetMode
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecCheckNan, VecEnv, VecMonitor, VecNormalize
from stable_baselines3.common.vec_env.util import obs_space_info

import ram_env
from ram_env import GlimpseEnv, GlimpseVectorEnv
from ram_env.sb3 import SB3_ACTION_TYPES, SB3VecEnv, make_sb3_vec_env

ACTION_TYPES = ("box", "dict", "multidiscrete", "discrete")
T = 3


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny networks train faster on one thread than on two (and leave a core free)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sb3_env(synthetic_kwargs, num_envs: int = 4, seed: int | None = 0, **kwargs) -> SB3VecEnv:
    """The adapter on synthetic data, short episodes."""
    kwargs = {"num_glimpses": T, **synthetic_kwargs, **kwargs}
    return make_sb3_vec_env("GlimpseMNIST-v0", num_envs, seed=seed, **kwargs)


# --------------------------------------------------------------------------- env checkers


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_gymnasium_checker_synthetic(synthetic_kwargs, action_type: str) -> None:
    for extra in ({}, {"canvas_size": 40, "num_clutter": 2, "num_scales": 3}):
        kwargs = {"action_type": action_type, **synthetic_kwargs, **extra}
        env = gymnasium.make("GlimpseMNIST-v0", **kwargs).unwrapped
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gymnasium_check_env(env)


@pytest.mark.mnist
@pytest.mark.parametrize("action_type", ACTION_TYPES)
@pytest.mark.parametrize("env_id", ram_env.ENV_IDS)
def test_gymnasium_checker_registered(env_id: str, action_type: str) -> None:
    env = gymnasium.make(env_id, action_type=action_type).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(env)


def sb3_checker_warnings(env: gymnasium.Env) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("action_type", SB3_ACTION_TYPES)
def test_sb3_checker(synthetic_kwargs, action_type: str) -> None:
    """Passes; its only remarks are its image heuristics on the (k, g, g) glimpse, which do
    not apply: SB3 treats only uint8 0..255 boxes as images and flattens this float32 one."""
    messages = sb3_checker_warnings(GlimpseEnv(action_type=action_type, **synthetic_kwargs))
    assert all("image" in message for message in messages), messages


@pytest.mark.mnist
@pytest.mark.parametrize("action_type", SB3_ACTION_TYPES)
def test_sb3_checker_registered(action_type: str) -> None:
    messages = sb3_checker_warnings(
        gymnasium.make("GlimpseClutteredMNIST-v0", action_type=action_type)
    )
    assert all("image" in message for message in messages), messages


def test_dict_actions_are_not_for_sb3(synthetic_kwargs) -> None:
    env = GlimpseEnv(action_type="dict", **synthetic_kwargs)
    assert any(
        "action space is not based off a numpy array" in m for m in sb3_checker_warnings(env)
    )
    with pytest.raises(AssertionError, match="Dict"):
        PPO("MultiInputPolicy", env)
    with pytest.raises(ValueError, match=r"'box', 'multidiscrete', 'discrete'"):
        sb3_env(synthetic_kwargs, action_type="dict")
    venv = GlimpseVectorEnv(
        num_envs=2, autoreset_mode=AutoresetMode.SAME_STEP, action_type="dict", **synthetic_kwargs
    )
    with pytest.raises(ValueError, match="action_type='dict'"):
        SB3VecEnv(venv)


# --------------------------------------------------------------------------- training


@pytest.mark.mnist
def test_ppo_learns_on_registered_env() -> None:
    """As a user would write it: all defaults, 2048 steps (one rollout and its updates)."""
    model = PPO("MultiInputPolicy", gymnasium.make("GlimpseMNIST-v0"), seed=0)
    model.learn(2048)
    assert model.num_timesteps == 2048
    extractors = model.policy.features_extractor.extractors
    assert isinstance(extractors["glimpse"], torch.nn.Flatten)  # not treated as an image
    assert len(model.ep_info_buffer) > 0 and len(model.ep_success_buffer) > 0


def small_net() -> dict:
    """Fresh policy kwargs each time (SB3 adds keys to the dict it is given)."""
    return {"net_arch": [32]}


ALGORITHMS = [
    (PPO, "box", {"n_steps": 32, "batch_size": 64, "n_epochs": 2}),
    (PPO, "multidiscrete", {"n_steps": 32, "batch_size": 64, "n_epochs": 2}),
    (A2C, "box", {"n_steps": 8}),
    (A2C, "discrete", {"n_steps": 8}),
    (SAC, "box", {"learning_starts": 64, "batch_size": 32, "buffer_size": 1000}),
    (TD3, "box", {"learning_starts": 64, "batch_size": 32, "buffer_size": 1000}),
    (DQN, "discrete", {"learning_starts": 64, "batch_size": 32, "buffer_size": 1000}),
]


@pytest.mark.parametrize(
    ("algorithm", "action_type", "settings"),
    ALGORITHMS,
    ids=[f"{a.__name__}-{t}" for a, t, _ in ALGORITHMS],
)
def test_algorithms_learn_on_adapter(synthetic_kwargs, algorithm, action_type, settings) -> None:
    env = sb3_env(synthetic_kwargs, action_type=action_type, grid_size=3)
    model = algorithm(
        "MultiInputPolicy", env, policy_kwargs=small_net(), seed=0, device="cpu", **settings
    )
    model.learn(256)
    assert model.num_timesteps >= 256
    assert len(model.ep_info_buffer) > 0 and len(model.ep_success_buffer) > 0
    episode = model.ep_info_buffer[-1]
    assert episode["l"] == T and episode["r"] in (0.0, 1.0)
    model.predict(env.reset(), deterministic=True)


# --------------------------------------------------------------------------- the adapter


def test_adapter_is_a_vec_env(synthetic_kwargs) -> None:
    env = sb3_env(synthetic_kwargs, num_envs=3, glimpse_size=5, num_scales=2)
    assert isinstance(env, VecEnv) and env.num_envs == 3
    assert (
        env.observation_space
        == GlimpseEnv(glimpse_size=5, num_scales=2, **synthetic_kwargs).observation_space
    )
    keys, shapes, dtypes = obs_space_info(env.observation_space)
    obs = env.reset()
    assert sorted(obs) == sorted(keys)
    for key in keys:
        assert obs[key].shape == (3, *shapes[key]) and obs[key].dtype == dtypes[key]
    assert env.reset_infos == [{}, {}, {}]


@pytest.mark.parametrize("action_type", SB3_ACTION_TYPES)
def test_adapter_step_semantics(synthetic_kwargs, action_type: str) -> None:
    """Matches single envs seeded ``seed + i``; SB3's done/terminal_observation/info rules."""
    n, seed = 3, 21
    env = sb3_env(synthetic_kwargs, num_envs=n, seed=seed, action_type=action_type, reward="dense")
    singles = [
        GlimpseEnv(num_glimpses=T, action_type=action_type, reward="dense", **synthetic_kwargs)
        for _ in range(n)
    ]
    expected = [single.reset(seed=seed + i)[0] for i, single in enumerate(singles)]
    obs = env.reset()
    returns = np.zeros(n)
    for step in range(3 * T):
        for key in obs:
            np.testing.assert_array_equal(obs[key], np.stack([e[key] for e in expected]))
        actions = np.stack([env.action_space.sample() for _ in range(n)])
        obs, rewards, dones, infos = env.step(actions)
        assert rewards.dtype == np.float32 and dones.dtype == bool and len(infos) == n
        results = [single.step(a) for single, a in zip(singles, actions, strict=True)]
        np.testing.assert_array_equal(rewards, [r[1] for r in results])
        np.testing.assert_array_equal(dones, [r[2] for r in results])
        returns += rewards
        expected = [r[0] for r in results]
        if not dones.any():
            assert infos == [{}] * n
            continue
        assert dones.all() and (step + 1) % T == 0
        for i, (info, result) in enumerate(zip(infos, results, strict=True)):
            final = info["terminal_observation"]
            for key in final:
                np.testing.assert_array_equal(final[key], result[0][key])
            assert info["TimeLimit.truncated"] is False
            for key in ("label", "prediction", "is_success"):
                assert info[key] == result[4][key]
            assert info["episode"]["l"] == T and info["episode"]["t"] >= 0
            assert info["episode"]["r"] == pytest.approx(returns[i])
            assert info["episode"]["r"] == float(info["is_success"])  # shaping sums to success
        returns[:] = 0
        expected = [single.reset()[0] for single in singles]
        assert (obs["time"] == 0).all()


def test_adapter_seeding(synthetic_kwargs) -> None:
    env = sb3_env(synthetic_kwargs, seed=None, canvas_size=40)
    assert env.seed(7) == [7, 8, 9, 10]
    first = env.reset()
    unseeded = env.reset()
    assert not np.array_equal(first["glimpse"], unseeded["glimpse"])
    env.seed(7)
    np.testing.assert_array_equal(env.reset()["glimpse"], first["glimpse"])
    same = sb3_env(synthetic_kwargs, seed=7, canvas_size=40).reset()
    np.testing.assert_array_equal(same["glimpse"], first["glimpse"])
    env._seeds = [1, None, None, None]
    with pytest.raises(ValueError, match="seed"):
        env.reset()


def test_adapter_options(synthetic_kwargs) -> None:
    env = sb3_env(synthetic_kwargs, num_envs=2, num_glimpses=1)
    env.set_options([{"image_index": 3}, {"image_index": 14}])
    env.reset()
    infos = env.step(np.zeros((2, 12), dtype=np.float32))[3]
    assert [info["label"] for info in infos] == [3, 4]
    env.set_options({"image_index": 7})
    env.reset()
    assert [info["label"] for info in env.step(np.zeros((2, 12)))[3]] == [7, 7]
    env.reset()  # options are used once
    env.set_options([{"image_index": 1}, {}])
    with pytest.raises(ValueError, match="option"):
        env.reset()


def test_adapter_attributes_and_methods(synthetic_kwargs) -> None:
    env = sb3_env(synthetic_kwargs)
    assert env.get_attr("num_glimpses") == [T] * 4
    assert env.get_attr("num_classes", indices=[0, 2]) == [10, 10]
    assert env.get_attr("render_mode") == [None] * 4 and env.render_mode is None
    assert env.has_attr("task") and not env.has_attr("no_such_attribute")
    env.set_attr("custom_flag", 3)
    assert env.get_attr("custom_flag", indices=1) == [3]
    with pytest.raises(ValueError, match="all of them"):
        env.set_attr("custom_flag", 4, indices=[0])
    assert env.env_method("reset", seed=0)[0][0]["time"].shape == (4, 1)
    with pytest.raises(ValueError, match="all of them"):
        env.env_method("reset", indices=[1])
    assert env.env_is_wrapped(gymnasium.Wrapper) == [False] * 4
    assert env.env_is_wrapped(gymnasium.Wrapper, indices=[3]) == [False]
    with pytest.raises(IndexError):
        env.get_attr("num_glimpses", indices=[4])
    with pytest.raises(NotImplementedError, match="render_mode='rgb_array'"):
        env.render()
    with pytest.raises(NotImplementedError, match="does not render"):
        env.get_images()
    env.close()


def test_adapter_rejects_other_vector_envs(synthetic_kwargs) -> None:
    next_step = GlimpseVectorEnv(num_envs=2, **synthetic_kwargs)
    with pytest.raises(ValueError, match="SAME_STEP"):
        SB3VecEnv(next_step)
    with pytest.raises(TypeError, match="GlimpseVectorEnv"):
        SB3VecEnv(gymnasium.make_vec("CartPole-v1", num_envs=2))
    env = sb3_env(synthetic_kwargs)
    with pytest.raises(RuntimeError, match="step_async"):
        env.step_wait()


def test_adapter_under_sb3_wrappers(synthetic_kwargs) -> None:
    """VecMonitor (same statistics), VecNormalize and VecCheckNan stack on the adapter."""
    env = VecCheckNan(
        VecNormalize(VecMonitor(sb3_env(synthetic_kwargs)), norm_obs_keys=["glimpse"]),
        raise_exception=True,
    )
    env.reset()
    for _ in range(T):
        obs, rewards, dones, infos = env.step(
            np.stack([env.action_space.sample() for _ in range(4)])
        )
    assert dones.all() and obs["glimpse"].shape == (4, 1, 8, 8)
    assert all(info["episode"]["l"] == T and "is_success" in info for info in infos)


def test_evaluate_policy_on_adapter(synthetic_kwargs) -> None:
    env = sb3_env(synthetic_kwargs, action_type="discrete", grid_size=3)
    model = DQN("MultiInputPolicy", env, policy_kwargs=small_net(), seed=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "not wrapped with a Monitor wrapper"
        rewards, lengths = evaluate_policy(
            model, env, n_eval_episodes=8, return_episode_rewards=True
        )
    assert len(rewards) == 8 and set(lengths) == {T} and set(rewards) <= {0.0, 1.0}
