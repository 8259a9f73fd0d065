"""``TorchGlimpseVectorEnv`` (``make_vec(..., device=...)``) plays the numpy env's episodes.

The numpy ``GlimpseVectorEnv`` is the reference: for the same seeds and actions the torch
env on the CPU must give the same images, canvases (training ones included), first
locations, glimpses (to float32 rounding), rewards, terminations and infos.

The torch env runs on the CPU here; ``RAM_ENV_TEST_DEVICE=cuda`` runs these tests with it
on a GPU (``bash benchmarks/gpu.sh env-speed`` does, before it times anything).
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import ram_env
from ram_env import GlimpseVectorEnv
from ram_env.torch_vector_env import TorchGlimpseVectorEnv

DEVICE = os.environ.get("RAM_ENV_TEST_DEVICE", "cpu")
ACTION_TYPES = ("box", "dict", "multidiscrete", "discrete")
MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED)
N = 5
T = 3


@pytest.fixture(params=["bank", "cluttered", "float-gaussian"])
def task_kwargs(request, synthetic_kwargs, make_synthetic) -> dict[str, Any]:
    """Images as given; translated and cluttered canvases with 2 scales; float images with
    3 scales, Gaussian first locations and dense rewards."""
    kwargs = {**synthetic_kwargs, "num_glimpses": T, "grid_size": 4}
    if request.param == "cluttered":
        kwargs.update(canvas_size=40, num_clutter=3, num_scales=2, glimpse_size=6)
    elif request.param == "float-gaussian":
        images, labels = make_synthetic(dtype=np.float32, seed=1)
        kwargs.update(images=images, labels=labels, canvas_size=(36, 44), num_clutter=2)
        kwargs.update(num_scales=3, glimpse_size=5, first_location="gaussian", reward="dense")
    return kwargs


def both(**kwargs) -> tuple[GlimpseVectorEnv, TorchGlimpseVectorEnv]:
    """The numpy env and the torch env on the CPU, built alike through ``make_vec``."""
    numpy_env = gymnasium.make_vec("GlimpseMNIST-v0", **kwargs)
    torch_env = gymnasium.make_vec("GlimpseMNIST-v0", device=DEVICE, **kwargs)
    assert type(numpy_env) is GlimpseVectorEnv and type(torch_env) is TorchGlimpseVectorEnv
    return numpy_env, torch_env


def as_tensors(action) -> Any:
    """A batch of actions as tensors on the test device."""
    if isinstance(action, dict):
        return {key: torch.as_tensor(value).to(DEVICE) for key, value in action.items()}
    return torch.as_tensor(np.asarray(action)).to(DEVICE)


def host(tensor: torch.Tensor) -> np.ndarray:
    return tensor.cpu().numpy()


def assert_obs_close(actual: dict, expected: dict, what: str) -> None:
    assert set(actual) == set(expected), what
    for key, value in expected.items():
        tensor = actual[key]
        assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32, (what, key)
        assert tensor.shape == value.shape, (what, key)
        np.testing.assert_allclose(host(tensor), value, rtol=0, atol=1e-6, err_msg=what)


def assert_infos_equal(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if key == "final_obs":
            assert_obs_close(actual[key], value, "final_obs")
        elif key.startswith("_"):
            np.testing.assert_array_equal(host(actual[key]), value, err_msg=key)
        else:
            mask = expected[f"_{key}"]
            np.testing.assert_array_equal(host(actual[key])[mask], value[mask], err_msg=key)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_matches_the_numpy_env(task_kwargs, mode: AutoresetMode, action_type: str) -> None:
    numpy_env, torch_env = both(
        num_envs=N, autoreset_mode=mode, action_type=action_type, **task_kwargs
    )
    assert torch_env.single_observation_space == numpy_env.single_observation_space
    assert torch_env.single_action_space == numpy_env.single_action_space
    assert_obs_close(torch_env.reset(seed=7)[0], numpy_env.reset(seed=7)[0], "reset")
    numpy_env.action_space.seed(1)
    ends = 0
    for step in range(4 * (T + 1)):
        actions = numpy_env.action_space.sample()
        if action_type == "box":  # far off the canvas too: zero padding, clipping
            actions[:, :2] *= 1.5
        given = as_tensors(actions) if step % 2 == 0 else actions  # tensors and arrays
        if mode == AutoresetMode.DISABLED and numpy_env._ended.any():
            with pytest.raises(RuntimeError, match="reset"):
                torch_env.step(given)
            assert_obs_close(torch_env.reset()[0], numpy_env.reset()[0], f"reset {step}")
            continue
        obs, rewards, terminated, truncated, infos = torch_env.step(given)
        want_obs, want_rewards, want_terminated, _, want_infos = numpy_env.step(actions)
        assert_obs_close(obs, want_obs, f"step {step}")
        assert rewards.dtype == torch.float32 and terminated.dtype == torch.bool
        np.testing.assert_array_equal(host(rewards), want_rewards)
        np.testing.assert_array_equal(host(terminated), want_terminated)
        assert truncated.dtype == torch.bool and not truncated.any()
        assert_infos_equal(infos, want_infos)
        ends += int(want_terminated.all())
    assert ends >= 3
    for env in range(N):  # the same canvases, training ones included
        np.testing.assert_array_equal(torch_env.canvas(env), numpy_env.canvas(env))


def test_image_index_and_fixed_canvases(task_kwargs) -> None:
    numpy_env, torch_env = both(num_envs=N, split="validation", **task_kwargs)
    index = np.array([3, 0, 39, 3, 17])
    for given in (index, torch.as_tensor(index), index.tolist()):
        observation, _ = torch_env.reset(seed=2, options={"image_index": given})
        want, _ = numpy_env.reset(seed=2, options={"image_index": index})
        assert_obs_close(observation, want, "image_index")
    for env in range(N):
        np.testing.assert_array_equal(torch_env.canvas(env), numpy_env.canvas(env))
    with pytest.raises(ValueError, match="image_index"):
        torch_env.reset(options={"image_index": np.full(N, 40)})


def test_resetting_some_envs(task_kwargs) -> None:
    """Envs reset together stay in lockstep, so the env itself resets all or none; the
    batch's reset of some rows (kept for generality) matches the numpy batch's."""
    numpy_env, torch_env = both(num_envs=N, **task_kwargs)
    numpy_env.reset(seed=4)
    torch_env.reset(seed=4)
    some = np.array([1, 3])
    numpy_env._batch.reset(some)
    torch_env._batch.reset(some)
    assert_obs_close(torch_env._batch.observe(), numpy_env._batch.observe(), "some rows")
    for env in range(N):
        np.testing.assert_array_equal(torch_env.canvas(env), numpy_env.canvas(env))


def test_translated_training_canvases_hold_the_whole_digit(make_synthetic) -> None:
    """The recipe's shape, checked directly: each canvas holds its digit, whole, once."""
    images, labels = make_synthetic(seed=3)
    images = np.maximum(images, 1)  # every pixel of a digit shows
    env = gymnasium.make_vec(
        "GlimpseMNIST-v0", num_envs=64, device=DEVICE, images=images, labels=labels,
        canvas_size=(40, 50),
    )  # fmt: skip
    env.reset(seed=0)
    index = host(env.unwrapped._batch.image_index)
    corners = set()
    for i in range(64):
        rows, cols = np.nonzero(env.canvas(i))
        top, left = rows.min(), cols.min()
        assert len(rows) == 28 * 28 and rows.max() - top == 27 and cols.max() - left == 27
        np.testing.assert_array_equal(
            env.canvas(i)[top : top + 28, left : left + 28], images[index[i]]
        )
        corners.add((top, left))
    assert len(corners) > 32  # positions spread over the canvas


def test_clutter_pieces_come_from_other_digits(make_synthetic) -> None:
    """A cluttered canvas is its digit plus ``num_clutter`` 8x8 crops, clipped: with tiny
    pixel values nothing clips, and the canvas sums to the digit's sum plus the crops'."""
    images, labels = make_synthetic(seed=4)
    images = np.full_like(images, 1)
    env = gymnasium.make_vec(
        "GlimpseMNIST-v0", num_envs=32, device=DEVICE, images=images, labels=labels,
        canvas_size=60, num_clutter=5,
    )  # fmt: skip
    env.reset(seed=0)
    for i in range(32):
        assert env.canvas(i).astype(int).sum() == 28 * 28 + 5 * 8 * 8


@pytest.mark.parametrize("first_location", ["random", "center", "gaussian"])
def test_same_seed_same_episodes(synthetic_kwargs, first_location: str) -> None:
    kwargs = {**synthetic_kwargs, "canvas_size": 36, "num_clutter": 2, "num_scales": 2}
    kwargs["first_location"] = first_location
    first = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=4, device=DEVICE, **kwargs)
    second = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=4, device=DEVICE, **kwargs)
    a, b = first.reset(seed=9)[0], second.reset(seed=9)[0]
    for key in a:
        assert torch.equal(a[key], b[key])
    c = second.reset(seed=10)[0]
    assert not torch.equal(a["glimpse"], c["glimpse"])
    listed = first.reset(seed=[9, 10, 11, 12])[0]  # env i seeded seed[i]: the same as 9 + i
    assert torch.equal(listed["glimpse"], a["glimpse"])
    assert not torch.equal(first.reset()[0]["glimpse"], a["glimpse"])  # OS entropy


BAD_TENSOR_ACTIONS = {
    "box": [
        torch.full((N, 12), float("nan")),
        torch.zeros(N - 1, 12),
        torch.zeros(N, 12, dtype=torch.bool),
    ],
    "dict": [
        {"location": torch.zeros(N, 2), "label": torch.full((N,), 10)},
        {"location": torch.full((N, 2), float("inf")), "label": torch.zeros(N, dtype=torch.int64)},
        {"location": torch.zeros(N, 2), "label": torch.full((N,), 0.5)},
    ],
    "multidiscrete": [torch.full((N, 3), 9), torch.full((N, 3), -1), torch.zeros(N, 2)],
    "discrete": [torch.full((N,), 9 * 9 * 10), torch.full((N,), 1.5), torch.zeros(N, 1)],
}
BAD_CASES = [(t, i) for t, batch in BAD_TENSOR_ACTIONS.items() for i in range(len(batch))]


@pytest.mark.parametrize(("action_type", "which"), BAD_CASES)
def test_bad_tensor_actions_raise_before_they_count(synthetic_kwargs, action_type, which):
    env = gymnasium.make_vec(
        "GlimpseMNIST-v0", num_envs=N, device=DEVICE, num_glimpses=2, action_type=action_type,
        **synthetic_kwargs,
    )  # fmt: skip
    env.action_checks = "step"  # the default on the CPU only
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(BAD_TENSOR_ACTIONS[action_type][which])
    env.action_space.seed(0)
    assert not env.step(as_tensors(env.action_space.sample()))[2].any()  # it did not count
    assert env.step(as_tensors(env.action_space.sample()))[2].all()


def test_checks_read_once_an_episode(synthetic_kwargs) -> None:
    """With ``action_checks="episode"`` (the default off the CPU) a bad action is refused
    when its episode ends; until then the env stays safe (finite glimpses, no bad index)."""
    env = gymnasium.make_vec(
        "GlimpseMNIST-v0", num_envs=N, device=DEVICE, num_glimpses=3, **synthetic_kwargs
    )
    assert env.action_checks == ("step" if DEVICE == "cpu" else "episode")
    env.action_checks = "episode"
    env.reset(seed=0)
    observation = env.step(torch.full((N, 12), float("nan")))[0]
    assert torch.isfinite(observation["glimpse"]).all()
    env.step(torch.zeros(N, 12))
    with pytest.raises(ValueError, match="NaN or inf"):
        env.step(torch.zeros(N, 12))  # the last step
    env.reset(seed=0)  # the problem was reported once
    env.step(torch.zeros(N, 12))
    env.step(torch.full((N, 12), 3.0).to(torch.int64))
    with pytest.raises(ValueError, match="action_checks"):
        env.action_checks = "never"


def test_actions_with_gradients_under_autocast(synthetic_kwargs) -> None:
    """A learner's actions may carry gradients and come under autocast: the env's own work
    is neither recorded nor cast."""
    kwargs = {**synthetic_kwargs, "canvas_size": 40, "num_scales": 3}
    env = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=N, device=DEVICE, **kwargs)
    reference = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=N, device=DEVICE, **kwargs)
    env.reset(seed=0)
    reference.reset(seed=0)
    action = torch.rand(N, 12, device=DEVICE, requires_grad=True)
    with torch.autocast(torch.device(DEVICE).type, dtype=torch.bfloat16):
        observation = env.step(action * 2 - 1)[0]
    want = reference.step((action * 2 - 1).detach())[0]
    assert not observation["glimpse"].requires_grad
    assert torch.equal(observation["glimpse"], want["glimpse"])


def test_make_vec_routes_device(synthetic_kwargs) -> None:
    assert type(gymnasium.make_vec("GlimpseMNIST-v0", num_envs=2, **synthetic_kwargs)) is (
        GlimpseVectorEnv
    )
    env = gymnasium.make_vec(
        "GlimpseMNIST-v0", num_envs=2, device=torch.device("cpu"), **synthetic_kwargs
    )
    assert isinstance(env, TorchGlimpseVectorEnv) and env.device == torch.device("cpu")
    observation, _ = env.reset(seed=0)
    assert all(value.device.type == "cpu" for value in observation.values())
    with pytest.raises(ValueError, match="device"):
        gymnasium.make_vec("GlimpseMNIST-v0", num_envs=2, device="gpu", **synthetic_kwargs)
    with pytest.raises(ValueError, match="meta"):
        gymnasium.make_vec("GlimpseMNIST-v0", num_envs=2, device="meta", **synthetic_kwargs)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            gymnasium.make_vec("GlimpseMNIST-v0", num_envs=2, device="cuda", **synthetic_kwargs)
    with pytest.raises(TypeError, match="make_vec"):
        GlimpseVectorEnv(num_envs=2, device="cpu", **synthetic_kwargs)
    with pytest.raises(ValueError, match="render"):
        TorchGlimpseVectorEnv(num_envs=2, render_mode="rgb_array", **synthetic_kwargs)
    with pytest.raises(ValueError, match="num_envs"):
        TorchGlimpseVectorEnv(num_envs=0, **synthetic_kwargs)


def test_play_keeps_tensors(synthetic_kwargs) -> None:
    """``ram_env.play`` on the torch env returns tensors, equal to the numpy env's arrays."""
    from ram_env.play import play

    numpy_env, torch_env = both(
        num_envs=N, autoreset_mode=AutoresetMode.DISABLED, num_glimpses=T, **synthetic_kwargs
    )

    def policy(observation, state):
        glimpse = torch.as_tensor(observation["glimpse"])
        scores = glimpse.mean(dim=(1, 2, 3))[:, None] * torch.arange(10.0, device=glimpse.device)
        location = torch.as_tensor(observation["location"])
        action = torch.cat([location * 0.5, scores], dim=1)
        return (
            action if isinstance(observation["glimpse"], torch.Tensor) else action.numpy()
        ), state

    on_torch, on_numpy = play(policy, torch_env, 3), play(policy, numpy_env, 3)
    for name in ("locations", "returns", "labels", "predictions", "correct"):
        value = getattr(on_torch, name)
        assert isinstance(value, torch.Tensor), name
        np.testing.assert_allclose(host(value), getattr(on_numpy, name), atol=1e-6)


@pytest.mark.mnist
@pytest.mark.parametrize("env_id", ram_env.ENV_IDS)
def test_registered_ids_match_the_numpy_env(env_id: str) -> None:
    """Every registered id, training canvases and fixed validation ones (by image index),
    locations off the canvas included."""
    rng = np.random.default_rng(0)
    for split in ("train", "validation"):
        numpy_env = gymnasium.make_vec(env_id, num_envs=64, split=split)
        torch_env = gymnasium.make_vec(env_id, num_envs=64, split=split, device=DEVICE)
        options = None if split == "train" else {"image_index": rng.integers(0, 10_000, 64)}
        want, _ = numpy_env.reset(seed=5, options=options)
        assert_obs_close(torch_env.reset(seed=5, options=options)[0], want, split)
        for step in range(numpy_env.num_glimpses):
            actions = rng.uniform(-1.3, 1.3, (64, 12)).astype(np.float32)
            want, rewards, *_ = numpy_env.step(actions)
            observation, torch_rewards, *_ = torch_env.step(as_tensors(actions))
            assert_obs_close(observation, want, f"{split} step {step}")
            np.testing.assert_array_equal(host(torch_rewards), rewards)
        for env in (0, 63):
            np.testing.assert_array_equal(torch_env.canvas(env), numpy_env.canvas(env))
