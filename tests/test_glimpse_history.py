"""``ppo-history`` (``agents.glimpse_history``) and the SB3 route's observation-transform hook.

The transform is checked against a history written out by hand, the extractor's output
against its slots, the hook in ``TransformedVecEnv`` and ``SB3Policy`` on synthetic images;
one ``mnist`` test trains and scores a short run through ``train.py``.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from gymnasium import spaces

import train
from agents.glimpse_history import GlimpseHistory, HistoryFeaturesExtractor
from agents.sb3_algorithms import SB3Policy, TransformedVecEnv
from agents.sb3_registry import ALGORITHMS
from ram_env.sb3 import make_sb3_vec_env

TINY = spaces.Dict(
    {
        "glimpse": spaces.Box(0.0, 1.0, (1, 1, 1), dtype=np.float32),
        "location": spaces.Box(-1.0, 1.0, (2,), dtype=np.float32),
        "time": spaces.Box(0.0, 1.0, (1,), dtype=np.float32),
    }
)


def tiny_observation(values: list[int]) -> dict[str, np.ndarray]:
    """A batch of ``TINY`` observations that each carry one value ``v``: glimpse ``v/100``,
    location ``(v/100, -v/100)``, time ``v/100``."""
    v = np.array(values, dtype=np.float32) / 100
    return {
        "glimpse": v.reshape(-1, 1, 1, 1),
        "location": np.stack([v, -v], axis=1),
        "time": v.reshape(-1, 1),
    }


def test_history_matches_a_hand_written_one():
    """Two envs, T=3: env 0 restarts at call 3, env 1 at call 2 and then runs past T."""
    history = GlimpseHistory(TINY, num_glimpses=3)
    starts = [[1, 1], [0, 0], [0, 1], [1, 0], [0, 0], [0, 0]]
    # Value of each slot (slot 0 = now, 0 = not seen) after each call, env 0 then env 1.
    expected = [
        [[1, 0, 0], [11, 0, 0]],
        [[2, 1, 0], [12, 11, 0]],
        [[3, 2, 1], [13, 0, 0]],
        [[4, 0, 0], [14, 13, 0]],
        [[5, 4, 0], [15, 14, 13]],
        [[6, 5, 4], [16, 15, 14]],
    ]
    memory, outputs = None, []
    for call, (start, slots) in enumerate(zip(starts, expected, strict=True)):
        observation = tiny_observation([call + 1, call + 11])
        out, memory = history(observation, memory, np.array(start, dtype=bool))
        v = np.array(slots, dtype=np.float32) / 100
        np.testing.assert_allclose(out["glimpse"].reshape(2, 3), v)
        np.testing.assert_allclose(out["location"], np.stack([v, -v], axis=2))
        np.testing.assert_array_equal(out["seen"], np.array(slots) > 0)
        np.testing.assert_array_equal(out["time"], observation["time"])
        assert all(
            history.observation_space[key].shape == value.shape[1:] for key, value in out.items()
        )
        outputs.append(out)
    # Later calls leave earlier outputs as they were (SB3 stores each one a step later).
    np.testing.assert_allclose(outputs[0]["glimpse"].reshape(2, 3), [[0.01, 0, 0], [0.11, 0, 0]])


def test_history_space_and_input_space():
    history = GlimpseHistory(TINY, num_glimpses=4)
    assert history.input_space == TINY
    space = history.observation_space
    assert space["glimpse"] == spaces.Box(0.0, 1.0, (4, 1, 1, 1), dtype=np.float32)
    assert space["location"] == spaces.Box(-1.0, 1.0, (4, 2), dtype=np.float32)
    assert space["seen"].shape == (4,) and space["time"] == TINY["time"]
    with pytest.raises(ValueError, match="glimpse"):
        GlimpseHistory(spaces.Box(0, 1, (3,)), 4)


def test_extractor_concatenates_masked_slots_and_time(synthetic_kwargs):
    env = make_sb3_vec_env("GlimpseMNIST-v0", 2, seed=0, action_type="box", **synthetic_kwargs)
    history = GlimpseHistory(env.observation_space, env.venv.num_glimpses)
    extractor = HistoryFeaturesExtractor(history.observation_space, glimpse_features=16)
    slots = env.venv.num_glimpses
    assert extractor.features_dim == slots * 16 + 1
    raw = env.reset()
    observation, _ = history(raw, None, np.ones(2, dtype=bool))
    features = extractor({key: torch.as_tensor(value) for key, value in observation.items()})
    assert features.shape == (2, slots * 16 + 1)
    per_slot = features[:, :-1].reshape(2, slots, 16)
    assert per_slot[:, 1:].abs().sum() == 0  # slots not seen give nothing
    one_step = extractor.step_features(
        {key: torch.as_tensor(raw[key]) for key in ("glimpse", "location")}
    )
    torch.testing.assert_close(per_slot[:, 0], one_step)  # slot 0: the glimpse net on now
    torch.testing.assert_close(features[:, -1], torch.zeros(2))  # time 0 at the start


def test_wrapped_env_restarts_histories_where_episodes_end(synthetic_kwargs):
    env = make_sb3_vec_env("GlimpseMNIST-v0", 3, seed=0, action_type="box", **synthetic_kwargs)
    slots = env.venv.num_glimpses
    wrapped = TransformedVecEnv(env, GlimpseHistory(env.observation_space, slots))
    assert wrapped.observation_space == wrapped.transform.observation_space
    observation = wrapped.reset()
    assert observation["seen"].tolist() == [[1] + [0] * (slots - 1)] * 3
    for step in range(1, slots + 1):
        previous = observation
        observation, _, dones, infos = wrapped.step(np.zeros((3, *env.action_space.shape)))
        assert dones.all() == (step == slots)  # all episodes end at step T, then restart
        assert observation["seen"].sum(axis=1).tolist() == [step % slots + 1] * 3
    terminal = infos[0]["terminal_observation"]
    assert terminal["seen"].tolist() == [1] * slots  # the ended episode's whole history
    np.testing.assert_array_equal(terminal["glimpse"][1:], previous["glimpse"][0, :-1])
    np.testing.assert_array_equal(terminal["location"][1:], previous["location"][0, :-1])


def test_sb3_policy_feeds_the_model_the_history():
    history = GlimpseHistory(TINY, num_glimpses=3)
    seen_by_model = []

    def predict(observation, state, episode_start, deterministic):
        seen_by_model.append((observation["seen"].copy(), episode_start.copy()))
        return np.zeros((len(episode_start), 2)), state

    model = SimpleNamespace(observation_space=history.observation_space, predict=predict)
    policy = SB3Policy(model, "box", history)
    policy.check_observation_space(TINY)  # the env's space, not the model's
    with pytest.raises(ValueError, match="expects observations"):
        policy.check_observation_space(history.observation_space)
    state = None
    for call in range(3):
        _, state = policy(tiny_observation([call, call]), state)
    assert [seen.sum(axis=1).tolist() for seen, _ in seen_by_model] == [[1, 1], [2, 2], [3, 3]]
    assert [starts.tolist() for _, starts in seen_by_model][:2] == [[True, True], [False, False]]


def test_registry_line_and_help(capsys):
    spec, ppo = ALGORITHMS["ppo-history"], ALGORITHMS["ppo"]
    assert spec.observation_transform == "agents.glimpse_history:GlimpseHistory"
    assert spec.hyperparams == ppo.hyperparams and spec.action_types == ppo.action_types
    assert spec.load_policy_kwargs()["features_extractor_class"] is HistoryFeaturesExtractor
    assert ppo.observation_transform is None
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--algo", "ppo-history", "--help"])
    assert exit_info.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, even in words
    assert "ppo-history:PPO,glimpsenetontheepisode'sglimpsehistory" in text
    assert "HistoryFeaturesExtractor" in text


@pytest.mark.mnist
def test_train_then_score_through_train_py(tmp_path):
    out = str(tmp_path / "run")
    args = ["--algo", "ppo-history", "--total-timesteps", "3072", "--val-images", "100"]
    assert train.main([*args, "--out", out, "--no-progress", "--threads", "1"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["num_glimpses"] == 6 and config["result"]["timesteps"] >= 3072
    assert config["observation_transform"] == "agents.glimpse_history:GlimpseHistory"
    command = ["--eval", out, "--split", "validation", "--eval-batch-size", "500"]
    assert train.main(command) == 0
    report = json.loads((tmp_path / "run" / "eval-validation.json").read_text())
    assert report["algo"] == "ppo-history" and report["split"] == "validation"
    assert 0.0 <= report["accuracy"] <= 100.0
