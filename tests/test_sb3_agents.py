"""The SB3 route: the RAM policy for RecurrentPPO, the algorithm registry, training runs,
atomic saves, scoring on fixed canvases and the ``train.py`` helpers.

Policy tests run on synthetic images; tests that train or score go through the registered
``GlimpseMNIST-v0`` and are marked ``mnist``. Runs are a few hundred steps on one thread.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

import train
from agents.registry import algorithm_of_run
from agents.sb3_algorithms import (
    ALGORITHM_NAMES,
    ALGORITHMS,
    BudgetSchedule,
    evaluate_sb3,
    get_spec,
    is_sb3_run,
    load_run,
    resolve_action_type,
    save_model_atomic,
    train_sb3,
)
from agents.sb3_policy import GlimpseFeaturesExtractor, RecurrentRAMPolicy
from ram_env import GlimpseVectorEnv

NUM_ENVS = 4


def vector_env(synthetic_kwargs, action_type="multidiscrete", **kwargs) -> GlimpseVectorEnv:
    return GlimpseVectorEnv(
        num_envs=NUM_ENVS, action_type=action_type, **synthetic_kwargs, **kwargs
    )


def make_policy(env: GlimpseVectorEnv, **kwargs) -> RecurrentRAMPolicy:
    return RecurrentRAMPolicy(
        env.single_observation_space, env.single_action_space, lambda _: 1e-3, **kwargs
    )


def as_tensors(observation: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {key: torch.as_tensor(value) for key, value in observation.items()}


def zero_states(policy: RecurrentRAMPolicy, batch: int):
    from sb3_contrib.common.recurrent.type_aliases import RNNStates

    zeros = torch.zeros(1, batch, policy.lstm_output_dim)
    return RNNStates((zeros, zeros), (zeros, zeros))


# --------------------------------------------------------------------------- the policy


@pytest.mark.parametrize("use_time, width", [(True, 257), (False, 256)])
def test_features_extractor_shape(synthetic_kwargs, use_time, width):
    env = vector_env(synthetic_kwargs)
    extractor = GlimpseFeaturesExtractor(env.single_observation_space, use_time=use_time)
    observation, _ = env.reset(seed=0)
    features = extractor(as_tensors(observation))
    assert extractor.features_dim == width
    assert features.shape == (NUM_ENVS, width)
    if use_time:
        assert torch.equal(features[:, -1], torch.zeros(NUM_ENVS))  # time 0 at reset


def test_features_extractor_rejects_other_spaces():
    from gymnasium import spaces

    with pytest.raises(ValueError, match="glimpse"):
        GlimpseFeaturesExtractor(spaces.Box(0, 1, (4,)))


@pytest.mark.parametrize("action_type, shape", [("multidiscrete", (3,)), ("box", (12,))])
@pytest.mark.parametrize("core", ["lstm", "rnn", "gru"])
def test_policy_forward_on_env_spaces(synthetic_kwargs, action_type, shape, core):
    env = vector_env(synthetic_kwargs, action_type)
    policy = make_policy(env, core=core, num_glimpses=env.num_glimpses)
    observation, _ = env.reset(seed=0)
    starts = torch.ones(NUM_ENVS)
    actions, values, log_prob, states = policy(
        as_tensors(observation), zero_states(policy, NUM_ENVS), starts
    )
    assert actions.shape == (NUM_ENVS, *shape)
    assert values.shape == (NUM_ENVS, 1)
    assert log_prob.shape == (NUM_ENVS,)
    assert states.pi[0].shape == (1, NUM_ENVS, 256)
    env.step(actions.detach().numpy().clip(-1, 1))  # the env accepts them
    assert isinstance(policy, RecurrentActorCriticPolicy)


@pytest.mark.parametrize("core", ["lstm", "rnn"])
def test_whole_episode_fast_path_matches_step_loop(core):
    torch.manual_seed(0)
    policy_env = GlimpseVectorEnv(
        num_envs=1,
        action_type="multidiscrete",
        images=np.zeros((10, 28, 28), np.uint8),
        labels=np.arange(10),
    )
    policy = make_policy(policy_env, core=core)
    sequences, length = 5, 6
    features = torch.randn(sequences * length, policy.features_dim)
    starts = torch.zeros(sequences, length)
    starts[:, 0] = 1.0
    starts[1, 0] = 0.0  # a sequence that carries on from its stored state
    states = (torch.randn(1, sequences, 256), torch.randn(1, sequences, 256))
    fast, fast_states = policy._process_sequence(
        features, states, starts.flatten(), policy.lstm_actor
    )
    slow, slow_states = RecurrentActorCriticPolicy._process_sequence(
        features, states, starts.flatten(), policy.lstm_actor
    )
    torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(fast_states[0], slow_states[0])


def test_log_prob_counts_only_the_parts_the_env_uses(synthetic_kwargs):
    env = vector_env(synthetic_kwargs)
    time = torch.tensor([[0.0], [4 / 6], [5 / 6]])
    observation = {"time": time}
    expected = {
        "last": [[1, 1, 0], [1, 1, 0], [0, 0, 1]],
        "all": [[1, 1, 1], [1, 1, 1], [0, 0, 1]],
        "none": [[1, 1, 0], [1, 1, 0], [0, 0, 0]],
    }
    for classify_steps, weights in expected.items():
        policy = make_policy(env, num_glimpses=6, classify_steps=classify_steps)
        assert policy.action_weights(observation).tolist() == weights
    assert make_policy(env).action_weights(observation) is None  # num_glimpses unset
    box_policy = make_policy(vector_env(synthetic_kwargs, "box"), num_glimpses=6)
    assert box_policy.action_weights(observation)[2].tolist() == [0, 0] + [1] * 10


def test_policy_rejects_unknown_options(synthetic_kwargs):
    env = vector_env(synthetic_kwargs)
    with pytest.raises(ValueError, match="core must be one of"):
        make_policy(env, core="transformer")
    with pytest.raises(ValueError, match="classify_steps"):
        make_policy(env, classify_steps="first")


def test_budget_schedule_follows_the_larger_fraction():
    schedule = BudgetSchedule(1.0, "linear")
    assert schedule(1.0) == 1.0
    schedule.time_fraction = 0.75
    assert schedule(0.9) == pytest.approx(0.25)
    assert BudgetSchedule(1.0, "cosine")(0.0) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="lr_schedule"):
        BudgetSchedule(1.0, "step")


def test_hybrid_loss_pairs_each_episode_with_its_label(monkeypatch):
    from agents.sb3_algorithms import HybridRecurrentPPO
    from ram_env.sb3 import make_sb3_vec_env

    labels = np.arange(20) % 10
    images = np.repeat(labels * 20, 28 * 28).reshape(20, 28, 28).astype(np.uint8)  # value=label
    env = make_sb3_vec_env(
        "GlimpseMNIST-v0", 4, seed=0, action_type="multidiscrete", images=images, labels=labels
    )
    model = HybridRecurrentPPO(
        RecurrentRAMPolicy,
        env,
        n_steps=12,
        batch_size=24,
        n_epochs=1,
        policy_kwargs=dict(num_glimpses=6, hidden_size=16),
        seed=0,
    )
    seen = []
    monkeypatch.setattr(model, "_train_classifier", lambda *batch: seen.append(batch))
    model.learn(2 * 12 * 4)
    assert len(seen) == 2
    for observations, episode_labels in seen:
        assert observations["glimpse"].shape == (6, 8, 1, 8, 8)  # (T, 2 episodes x 4 envs)
        steps = observations["time"][:, :, 0] * 6
        np.testing.assert_allclose(steps, np.arange(6)[:, None].repeat(8, 1), atol=1e-5)
        shown = np.rint(observations["glimpse"].max(axis=(2, 3, 4)) * 255 / 20)
        assert (shown == episode_labels[None, :]).all()


# --------------------------------------------------------------------------- the registry


def test_registry_names_and_defaults():
    assert ALGORITHM_NAMES[:6] == ("recurrent-ppo", "ppo", "a2c", "sac", "td3", "dqn")
    for name, spec in ALGORITHMS.items():
        assert resolve_action_type(name, None) == spec.action_types[0]


def test_unknown_algorithm_lists_the_known_ones():
    with pytest.raises(ValueError, match="recurrent-ppo, ppo, a2c, sac, td3, dqn"):
        get_spec("trpo")


@pytest.mark.parametrize(
    "algo, action_type, usable",
    [
        ("dqn", "box", "discrete"),
        ("sac", "discrete", "box"),
        ("td3", "multidiscrete", "box"),
        ("recurrent-ppo", "discrete", "multidiscrete, box"),
    ],
)
def test_incompatible_action_type_lists_what_works(algo, action_type, usable):
    with pytest.raises(
        ValueError, match=f"{algo} cannot use action type '{action_type}'; it can use: {usable}"
    ):
        resolve_action_type(algo, action_type)


# --------------------------------------------------------------------------- training runs


def small_settings(spec) -> dict:
    """Settings that let a few hundred steps train and update (any registered algorithm)."""
    if spec.rollout_episodes is None:  # off-policy: learn from the first steps, small buffer
        return dict(learning_starts=50, buffer_size=1_000, batch_size=32)
    return dict(batch_size=48) if "batch_size" in spec.hyperparams else {}


def small_run(algo, out_dir, steps=240, **kwargs):
    return train_sb3(
        algo,
        out_dir=out_dir,
        total_timesteps=steps,
        num_envs=8,
        seed=1,
        hyperparams=small_settings(ALGORITHMS[algo]),
        val_images=16,
        log_every_s=0.0,
        **kwargs,
    )


@pytest.mark.mnist
@pytest.mark.parametrize("algo", ALGORITHM_NAMES)
def test_each_algorithm_trains_and_writes_its_run(tmp_path, algo):
    summary = small_run(algo, tmp_path)
    assert summary["timesteps"] >= 240 and summary["stop_reason"] == "done"
    assert is_sb3_run(tmp_path) and is_sb3_run(tmp_path / "model.zip")
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["algo"] == algo
    assert config["action_type"] == get_spec(algo).default_action_type
    assert config["track"] == get_spec(algo).track() and config["memory"] == get_spec(algo).memory
    assert config["result"]["timesteps"] == summary["timesteps"]
    with (tmp_path / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows and int(rows[-1]["timesteps"]) == summary["timesteps"]
    assert 0.0 <= float(rows[-1]["val_accuracy"]) <= 100.0
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.mnist
def test_time_budget_stops_the_run(tmp_path):
    summary = train_sb3(
        "a2c", out_dir=tmp_path, train_minutes=0.02, num_envs=8, val_images=0, log_every_s=0.0
    )
    assert summary["stop_reason"] == "time budget used"
    assert 0 < summary["minutes"] < 0.5


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("recurrent-ppo")
    small_run("recurrent-ppo", out_dir, steps=480)
    return out_dir


@pytest.mark.mnist
def test_evaluate_sb3_scores_a_subset_deterministically(trained_run):
    first = evaluate_sb3(trained_run, "test", batch_size=20, max_images=50)
    again = evaluate_sb3(trained_run / "model.zip", "test", batch_size=50, max_images=50)
    assert first.n == 50 and first.split == "test" and first.mc == 1
    assert 0.0 <= first.accuracy <= 100.0
    assert first.error == pytest.approx(100.0 - first.accuracy)
    assert first.accuracy == again.accuracy  # the batch size does not change the score


@pytest.mark.mnist
def test_load_run_errors_are_clear(tmp_path, trained_run):
    from agents.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="not found"):
        load_run(tmp_path)
    (tmp_path / "model.zip").write_bytes((trained_run / "model.zip").read_bytes()[:100])
    with pytest.raises(CheckpointError, match="config.json"):
        load_run(tmp_path)
    (tmp_path / "config.json").write_text((trained_run / "config.json").read_text())
    with pytest.raises(CheckpointError, match="cannot load"):
        load_run(tmp_path)


@pytest.mark.mnist
def test_save_is_atomic_when_writing_fails(tmp_path, trained_run):
    model, _, _ = load_run(trained_run)
    target = tmp_path / "model.zip"
    save_model_atomic(model, target)
    before = target.read_bytes()

    def failing_save(file):
        file.write(b"partial")
        raise OSError("disk full")

    model.save = failing_save
    with pytest.raises(OSError, match="disk full"):
        save_model_atomic(model, target)
    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.zip"]


# --------------------------------------------------------------------------- train.py helpers


def test_cli_refuses_an_incompatible_action_type(capsys, tmp_path):
    with pytest.raises(SystemExit):
        train.main(["--algo", "dqn", "--action-type", "box", "--out", str(tmp_path / "run")])
    assert "dqn cannot use action type 'box'; it can use: discrete" in capsys.readouterr().err


def test_cli_help_names_every_algorithm():
    text = train.algo_help()
    for name, spec in ALGORITHMS.items():
        assert f"{name}: {spec.summary}" in text
    assert "reinforce: " in text


@pytest.mark.mnist
def test_cli_trains_then_scores_the_test_split(tmp_path, capsys):
    out_dir = tmp_path / "run"
    flags = ["--algo", "a2c", "--out", str(out_dir), "--total-timesteps", "96", "--test"]
    flags += ["--val-images", "0", "--num-envs", "8", "--threads", "1", "--no-progress"]
    flags += ["--eval-batch-size", "2500"]
    assert train.main(flags) == 0
    report = json.loads((out_dir / "eval-test.json").read_text())
    assert report["n"] == 10_000 and report["algo"] == "a2c"
    assert algorithm_of_run(out_dir).name == "a2c"
    scored = ["--eval", str(out_dir / "model.zip"), "--split", "test", "--eval-batch-size", "2500"]
    assert train.main(scored) == 0
    assert "test error" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        train.main(flags)  # the folder already holds a run
    assert "already holds a run" in capsys.readouterr().err
    assert train.main(["--eval", str(out_dir), "--mc", "5"]) == 2
    assert "SB3 models are scored on their deterministic path" in capsys.readouterr().err
    assert train.main(["--eval", str(out_dir), "--precision", "bf16"]) == 2
    assert "SB3 policies are scored in fp32" in capsys.readouterr().err


@pytest.mark.mnist
def test_cli_eval_of_an_sb3_run_takes_the_task_flags_and_draws_its_paths(tmp_path):
    """--eval is one path for every algorithm: an SB3 run is scored on the task flags typed
    (4 glimpses instead of its 6) and --plot-glimpses draws its paths."""
    out_dir, picture = tmp_path / "run", tmp_path / "paths.png"
    flags = ["--algo", "recurrent-ppo", "--out", str(out_dir), "--total-timesteps", "96"]
    assert train.main([*flags, "--val-images", "0", "--num-envs", "8", "--no-progress"]) == 0
    scored = ["--eval", str(out_dir), "--split", "validation", "--glimpses", "4"]
    scored += ["--plot-glimpses", str(picture), "--plot-count", "2", "--eval-batch-size", "2500"]
    assert train.main(scored) == 0
    report = json.loads((out_dir / "eval-validation.json").read_text())
    assert report["env_kwargs"]["num_glimpses"] == 4 and report["n"] == 10_000
    with Image.open(picture) as image:
        width, height = image.size
    assert width > 3 * height / 2  # two rows of four frames
