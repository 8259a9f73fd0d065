"""``benchmarks.critic_check``: an off-policy run's last-step decisions and its critic's value
of them, read from runs trained for a few thousand steps by ``train.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import train
from benchmarks import critic_check

pytestmark = pytest.mark.mnist


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, str]:
    """A DQN run (discrete actions) and a TD3 run (box actions), 4,096 env steps each."""
    out = tmp_path_factory.mktemp("critic-check")
    made = {}
    for algo in ("dqn", "td3"):
        run = str(out / algo)
        flags = ["--algo", algo, "--total-timesteps", "4096", "--val-images", "0"]
        assert train.main([*flags, "--out", run, "--no-progress", "--threads", "1"]) == 0
        made[algo] = run
    return made


def test_dqn_is_valued_at_its_greedy_action(runs):
    loaded = critic_check.load(runs["dqn"])
    env = critic_check.make_eval_env(loaded.env_id, "test", 8, **loaded.env_kwargs)
    observation, _ = env.reset(seed=0)
    action, _ = loaded.policy(observation, None)
    values = critic_check.critic_values(loaded.policy.model, observation, action)
    with torch.no_grad():
        q = loaded.policy.model.q_net(loaded.policy.model.policy.obs_to_tensor(observation)[0])
    np.testing.assert_allclose(values, q.max(1).values.numpy(), rtol=1e-6)


def test_td3_is_valued_by_the_smaller_of_its_twin_critics(runs):
    loaded = critic_check.load(runs["td3"])
    model = loaded.policy.model
    env = critic_check.make_eval_env(loaded.env_id, "test", 8, **loaded.env_kwargs)
    observation, _ = env.reset(seed=0)
    action = np.random.default_rng(0).uniform(-1, 1, (8, *env.single_action_space.shape))
    values = critic_check.critic_values(model, observation, action.astype(np.float32))
    with torch.no_grad():
        seen = model.policy.obs_to_tensor(observation)[0]
        twins = model.critic(seen, torch.as_tensor(action, dtype=torch.float32))
    assert np.all(values <= twins[0].squeeze(1).numpy() + 1e-6)
    assert np.all(values <= twins[1].squeeze(1).numpy() + 1e-6)
    assert np.all(np.isin(values, torch.cat(twins, 1).numpy()))


def test_a_line_per_run_with_bounds_only_for_box_actions(runs, capsys):
    dqn = critic_check.last_step(runs["dqn"], episodes=40, seed=0)
    td3 = critic_check.last_step(runs["td3"], episodes=40, seed=0)
    assert dqn.scores_at_bounds is None and 0.0 <= td3.scores_at_bounds <= 100.0
    for step in (dqn, td3):
        assert step.episodes == 40 and 0.0 <= step.accuracy <= 100.0
        assert 100.0 / 10 <= step.top_class_share <= 100.0  # 10 classes: one has >= 1/10
        assert np.isfinite(step.critic_mean) and step.critic_max >= step.critic_mean
    critic_check.main([runs["dqn"], runs["td3"], "--episodes", "40"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [runs["dqn"], runs["td3"]]
    assert "at the bounds" in lines[1] and "at the bounds" not in lines[0]


def test_fewer_than_one_episode_is_refused(runs, capsys):
    with pytest.raises(SystemExit):
        critic_check.main([runs["dqn"], "--episodes", "0"])
    assert "--episodes must be at least 1, got 0" in capsys.readouterr().err
