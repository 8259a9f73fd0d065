"""The agent on synthetic images (no MNIST needed): shapes, gradient flow, checkpoints,
evaluation."""

from __future__ import annotations

import copy
import pickle

import gymnasium
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ram_env  # noqa: F401
from agents import reinforce
from agents.checkpoint import (
    CheckpointError,
    load_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from agents.evaluation import evaluate
from agents.ram_policy import (
    CORE_TYPES,
    GlimpseNetwork,
    LocationNetwork,
    RAMConfig,
    RAMPolicy,
    RecurrentAttentionModel,
)
from agents.reinforce import (
    ReinforceConfig,
    collect_rollout,
    compute_losses,
    learning_rate,
    load_model,
    make_optimizer,
    update,
)
from agents.rollout import env_device_kwargs, observation_to_tensors, scores_action

NUM_CLASSES = 10


def make_env(
    num_envs: int = 16,
    labels: np.ndarray | None = None,
    split: str = "train",
    num_images: int = 40,
    **env_kwargs,
) -> gymnasium.vector.VectorEnv:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (num_images, 28, 28), dtype=np.uint8)
    if labels is None:
        labels = np.arange(num_images) % NUM_CLASSES
    return gymnasium.make_vec(
        "GlimpseMNIST-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split=split,
        images=images,
        labels=labels,
        num_classes=NUM_CLASSES,
        **env_kwargs,
    )


def make_model(env, core: str = "rnn", **options) -> RecurrentAttentionModel:
    torch.manual_seed(0)
    return RecurrentAttentionModel.from_spaces(
        env.single_observation_space, env.single_action_space, core=core, **options
    )


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("core", CORE_TYPES)
def test_step_shapes_for_every_core(core):
    config = RAMConfig(num_scales=3, glimpse_size=12, num_classes=NUM_CLASSES, core=core)
    model = RecurrentAttentionModel(config)
    state = model.initial_state(5)
    assert len(state) == (2 if core == "lstm" else 1)
    for _ in range(3):
        out = model.step(torch.rand(5, 3, 12, 12), torch.rand(5, 2) * 2 - 1, state)
        state = out.state
        assert out.hidden.shape == (5, 256)
        assert out.location_mean.shape == (5, 2)
        assert out.location_mean.abs().max() <= 1
        assert out.baseline.shape == (5,)
        assert all(s.shape == (5, 256) for s in state)
    assert model.classify(out.hidden).shape == (5, NUM_CLASSES)


def test_config_from_env_spaces_and_validation():
    env = make_env(num_envs=2)
    config = RAMConfig.from_spaces(env.single_observation_space, env.single_action_space)
    assert (config.num_scales, config.glimpse_size, config.num_classes) == (1, 8, NUM_CLASSES)
    assert RAMConfig(**config.to_dict()) == config
    with pytest.raises(ValueError, match="core"):
        RAMConfig(1, 8, 10, core="transformer")
    with pytest.raises(ValueError, match="location_std"):
        RAMConfig(1, 8, 10, location_std=0.0)


def test_model_built_directly_uses_the_trainers_default_location_std():
    model = RecurrentAttentionModel(RAMConfig(1, 8, NUM_CLASSES))
    std = model.location_network.log_std.exp()
    assert torch.allclose(std, torch.full((2,), ReinforceConfig().std))


def test_glimpse_network_works_alone_as_a_feature_extractor():
    network = GlimpseNetwork(num_scales=2, glimpse_size=6)
    features = network(torch.rand(4, 2, 6, 6), torch.zeros(4, 2))
    assert features.shape == (4, network.features_dim) and (features >= 0).all()


def test_fused_layers_compute_the_papers_formulas():
    config = RAMConfig(num_scales=1, glimpse_size=8, num_classes=NUM_CLASSES)
    model = RecurrentAttentionModel(config)
    glimpse, location = torch.rand(4, 1, 8, 8), torch.rand(4, 2) * 2 - 1
    net = model.glimpse_network
    h_g, h_l = torch.relu(net.what(glimpse.flatten(1))), torch.relu(net.where(location))
    g = torch.relu(net.what_out(h_g) + net.where_out(h_l))
    torch.testing.assert_close(net(glimpse, location), g)
    previous = torch.rand(4, 256)
    core = model.core
    expected = torch.relu(core.input_to_hidden(g) + core.hidden_to_hidden(previous))
    torch.testing.assert_close(core(g, (previous,))[0], expected)


def test_sampled_location_is_detached_but_its_log_prob_is_not():
    network = LocationNetwork(hidden_size=8, std=0.2)
    hidden = torch.rand(6, 8)
    mean = network(hidden)
    location, log_prob = network.sample(mean, torch.Generator().manual_seed(0))
    assert not location.requires_grad and log_prob.requires_grad
    (grad,) = torch.autograd.grad(log_prob.sum(), mean)
    torch.testing.assert_close(grad, (location - mean.detach()) / 0.2**2)
    reference = torch.distributions.Normal(mean, 0.2).log_prob(location).sum(-1)
    torch.testing.assert_close(log_prob, reference)


def test_learned_std_is_a_parameter_and_fixed_std_is_not():
    assert "log_std" in dict(LocationNetwork(8, 0.1, learn_std=True).named_parameters())
    assert "log_std" not in dict(LocationNetwork(8, 0.1).named_parameters())


# --------------------------------------------------------------------------- gradient flow


def test_no_location_change_when_the_advantage_is_zero():
    """Every episode earns reward 1 and the baseline predicts exactly 1: no policy gradient."""
    env = make_env(labels=np.zeros(40, dtype=np.int64))
    model = make_model(env)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.arange(NUM_CLASSES, 0, -1).float())  # argmax 0
        model.baseline_layer.weight.zero_()
        model.baseline_layer.bias.fill_(1.0)
    # Without weight decay, which shrinks every weight whatever its gradient.
    config = ReinforceConfig(batch_size=16, weight_decay=0.0)
    optimizer = make_optimizer(model, config)
    before = copy.deepcopy(model.location_network.state_dict())
    stats = update(model, optimizer, env, config, update_index=0)
    assert stats[4] == 1.0  # every episode was right
    for name, tensor in model.location_network.state_dict().items():
        assert torch.equal(before[name], tensor), name
    assert not model.location_network.mean_layer.weight.grad.any()


def test_random_locations_are_uniform_seeded_and_never_trained():
    """The paper's control: glimpses at random places; the location network gets nothing."""
    env = make_env()
    model = make_model(env, locations="random")
    rollout = collect_rollout(model, env, seed=3, sample_class=False)
    assert rollout.location_log_probs.shape == (0, 16)
    assert compute_losses(rollout).location == 0
    before = copy.deepcopy(model.location_network.state_dict())
    update(model, make_optimizer(model, ReinforceConfig()), env, ReinforceConfig(batch_size=16), 0)
    for name, tensor in model.location_network.state_dict().items():
        assert torch.equal(before[name], tensor), name
    out = model.step(torch.zeros(500, 1, 8, 8), torch.zeros(500, 2), model.initial_state(500))
    draws = [model.next_location(out, torch.Generator().manual_seed(9), False)[0] for _ in "ab"]
    assert torch.equal(draws[0], draws[1]) and draws[0].abs().max() <= 1
    assert draws[0].min() < -0.9 and draws[0].max() > 0.9  # spread over the canvas
    assert not torch.allclose(draws[0], out.location_mean)
    with pytest.raises(ValueError, match="locations must be one of"):
        RAMConfig(num_scales=1, glimpse_size=8, num_classes=10, locations="fixed")


def test_reinforce_gradient_reaches_core_and_glimpse_network():
    env = make_env()
    model = make_model(env)
    rollout = collect_rollout(model, env, seed=3, sample_class=False)
    compute_losses(rollout).location.backward()
    for module in (model.location_network, model.core, model.glimpse_network.what):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
    assert model.classifier.weight.grad is None


def test_baseline_loss_does_not_reach_the_core():
    env = make_env()
    model = make_model(env)
    rollout = collect_rollout(model, env, seed=3, sample_class=False)
    compute_losses(rollout).baseline.backward()
    assert model.baseline_layer.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.core.parameters())


def test_summed_glimpse_input_is_the_means_times_the_block_areas():
    torch.manual_seed(0)
    summed = GlimpseNetwork(3, 6, glimpse_input="sum")
    torch.manual_seed(0)
    averaged = GlimpseNetwork(3, 6)
    glimpse, location = torch.rand(4, 3, 6, 6), torch.rand(4, 2)
    areas = torch.tensor([1.0, 4.0, 16.0])[:, None, None]
    torch.testing.assert_close(summed(glimpse, location), averaged(glimpse * areas, location))
    assert summed.state_dict().keys() == averaged.state_dict().keys()  # checkpoints as before
    with pytest.raises(ValueError, match="glimpse_input"):
        RAMConfig(num_scales=3, glimpse_size=6, num_classes=3, glimpse_input="max")


def test_baseline_trains_the_core_when_asked():
    env = make_env()
    model = make_model(env, baseline_trains_core=True)
    rollout = collect_rollout(model, env, seed=3, sample_class=False)
    compute_losses(rollout).baseline.backward()
    assert all(p.grad.abs().sum() > 0 for p in model.core.parameters())


def test_reinforce_loss_trains_the_classifier_by_policy_gradient():
    env = make_env()
    model = make_model(env)
    rollout = collect_rollout(model, env, seed=3, sample_class=True)
    assert rollout.decision_log_probs is not None
    assert rollout.decision_log_probs.shape == rollout.decision_entropy.shape == (1, 16)
    compute_losses(rollout).classification.backward()
    assert model.classifier.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("core", CORE_TYPES)
def test_rollout_shapes_and_accumulated_batches(core):
    env = make_env(num_envs=8)
    model = make_model(env, core=core)
    rollout = collect_rollout(model, env, seed=0, sample_class=False)
    assert rollout.location_log_probs.shape == (5, 8)
    assert rollout.baselines.shape == (6, 8)
    assert rollout.logits.shape == (8, NUM_CLASSES)
    assert set(rollout.rewards.tolist()) <= {0.0, 1.0}
    config = ReinforceConfig(batch_size=16, num_envs=8)
    stats = update(model, make_optimizer(model, config), env, config, update_index=0)
    assert stats.shape == (5,) and torch.isfinite(stats).all()


def test_updates_are_reproducible_from_seed_and_index():
    env = make_env()
    results = []
    for _ in range(2):
        model = make_model(env)
        optimizer = make_optimizer(model, ReinforceConfig())
        for index in range(2):
            update(model, optimizer, env, ReinforceConfig(batch_size=16, seed=5), index)
        results.append(model.state_dict())
    for name in results[0]:
        assert torch.equal(results[0][name], results[1][name]), name


@pytest.mark.parametrize("sample_class", [False, True])
def test_rollout_on_the_torch_env_is_the_numpy_envs(sample_class):
    """The trainer on the torch env (here on the CPU) plays the same episodes: same rewards,
    labels and losses; its observations reach the model without a copy."""
    kwargs = {"canvas_size": 40, "num_clutter": 2, "num_scales": 2}
    on_numpy, on_torch = make_env(**kwargs), make_env(device="cpu", **kwargs)
    model = make_model(on_numpy, core="lstm")
    first, second = (
        collect_rollout(model, env, seed=3, sample_class=sample_class)
        for env in (on_numpy, on_torch)
    )
    assert torch.equal(first.rewards, second.rewards) and torch.equal(first.labels, second.labels)
    for a, b in zip(compute_losses(first), compute_losses(second), strict=True):
        torch.testing.assert_close(a, b)
    observation, _ = on_torch.reset(seed=0)
    glimpse, location = observation_to_tensors(observation, "cpu")
    assert glimpse is observation["glimpse"] and location is observation["location"]


def test_runs_off_the_cpu_train_on_the_torch_env():
    assert env_device_kwargs("cpu") == {} and env_device_kwargs(torch.device("cpu")) == {}
    assert env_device_kwargs("cuda") == {"device": "cuda"}
    assert env_device_kwargs("cuda:1") == {"device": "cuda:1"}
    assert env_device_kwargs("cuda", "GlimpseCatch-v0") == {}  # Catch: its numpy env


def test_env_hands_out_fresh_arrays():
    """Observations are shared with torch without a copy; that needs a new array per step."""
    env = make_env(num_envs=4)
    first, _ = env.reset(seed=0)
    second, *_ = env.step(scores_action(torch.zeros(4, 2), None, NUM_CLASSES))
    assert not np.shares_memory(first["glimpse"], second["glimpse"])


def test_a_checkpoint_config_keeps_what_it_trained_with():
    """An old run's config lacks weight decay: it trained without it, whatever the default."""
    old = ReinforceConfig().to_dict()
    del old["weight_decay"]
    assert ReinforceConfig().weight_decay > 0
    restored = ReinforceConfig.from_dict(old)
    assert restored.weight_decay == 0.0
    assert ReinforceConfig.from_dict(ReinforceConfig().to_dict()) == ReinforceConfig()


def test_weight_decay_is_decoupled():
    env = make_env(num_envs=2)
    for weight_decay, factor in ((0.0, 1.0), (0.5, 1.0 - 0.1 * 0.5)):
        model = make_model(env)
        config = ReinforceConfig(lr=0.1, weight_decay=weight_decay)
        optimizer = make_optimizer(model, config)
        before = model.classifier.weight.detach().clone()
        for parameter in model.parameters():
            parameter.grad = torch.zeros_like(parameter)
        optimizer.step()  # a zero gradient: only the decay moves the weights
        torch.testing.assert_close(model.classifier.weight, before * factor)


def test_learning_rate_schedules():
    config = ReinforceConfig(lr=1.0, lr_schedule="cosine")
    assert learning_rate(config, 0.0) == 1.0
    assert learning_rate(config, 0.5) == pytest.approx(0.5)
    assert learning_rate(config, 1.0) == pytest.approx(0.0)
    assert learning_rate(ReinforceConfig(lr=2.0, lr_schedule="linear"), 0.25) == 1.5
    assert learning_rate(ReinforceConfig(lr=2.0, lr_schedule="constant"), 0.9) == 2.0


# --------------------------------------------------------------------------- evaluation


def test_evaluation_scores_every_image_once_whatever_the_batch():
    model = make_model(make_env(num_envs=2))
    policy = RAMPolicy(model)
    results = [evaluate(policy, make_env(num_envs=n, split="validation"), seed=1) for n in (16, 40)]
    assert results[0].n == results[1].n == 40
    assert results[0].accuracy == results[1].accuracy
    assert results[0].accuracy + results[0].error == pytest.approx(100.0)
    again = evaluate(policy, make_env(num_envs=16, split="validation"), seed=1)
    assert again == results[0]
    sampling = RAMPolicy(model, sample_paths=True)
    sampled = evaluate(sampling, make_env(num_envs=16, split="validation"), mc=3, seed=1)
    assert sampled.mc == 3 and sampled.n == 40


# --------------------------------------------------------------------------- checkpoints


def _payload(model, optimizer) -> dict:
    return {
        "algo": "reinforce",
        "config": {"seed": 3},
        "model_config": model.config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": rng_states(),
    }


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    env = make_env(num_envs=8)
    model = make_model(env, core="lstm")
    optimizer = make_optimizer(model, ReinforceConfig())
    update(model, optimizer, env, ReinforceConfig(batch_size=8), 0)
    path = save_checkpoint(tmp_path / "last.pt", _payload(model, optimizer))
    raw = torch.load(path, weights_only=True)  # plain types and tensors only
    assert raw["format"] == "ram-env-agent"
    loaded = load_model(load_checkpoint(path))
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name])
    fresh = make_optimizer(loaded, ReinforceConfig())
    fresh.load_state_dict(raw["optimizer"])
    assert fresh.state_dict()["state"].keys() == optimizer.state_dict()["state"].keys()
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    env = make_env(num_envs=2)
    model = make_model(env)
    optimizer = make_optimizer(model, ReinforceConfig())
    path = save_checkpoint(tmp_path / "last.pt", _payload(model, optimizer))
    good = path.read_bytes()

    def failing_save(obj, file):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr("agents.checkpoint.torch.save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, _payload(model, optimizer))
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left


class _Exploit:
    ran = False

    def __reduce__(self):
        return (setattr, (_Exploit, "ran", True))


@pytest.mark.parametrize("content", ["garbage", "truncated", "pickle", "foreign", "missing"])
def test_unusable_checkpoints_raise_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    if content == "garbage":
        path.write_bytes(b"\x00not a checkpoint at all" * 10)
    elif content == "truncated":
        model = RecurrentAttentionModel(RAMConfig(1, 8, 10))
        save_checkpoint(
            path,
            {
                "algo": "reinforce",
                "config": {},
                "model_config": model.config.to_dict(),
                "model": model.state_dict(),
            },
        )
        path.write_bytes(path.read_bytes()[:5000])
    elif content == "pickle":  # arbitrary objects are refused, their code never runs
        torch.save({"format": "ram-env-agent", "evil": _Exploit()}, path)
    elif content == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not _Exploit.ran


def test_checkpoint_that_does_not_fit_its_model_is_refused(tmp_path):
    model = RecurrentAttentionModel(RAMConfig(1, 8, 10))
    model_config = {**model.config.to_dict(), "glimpse_size": 12}
    path = save_checkpoint(
        tmp_path / "x.pt",
        {
            "algo": "reinforce",
            "config": {},
            "model_config": model_config,
            "model": model.state_dict(),
        },
    )
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model(load_checkpoint(path))


def test_rng_states_round_trip():
    states = rng_states()
    pickle.dumps(states)  # plain types
    expected = (torch.rand(3), np.random.rand(3), __import__("random").random())
    restore_rng_states(states)
    again = (torch.rand(3), np.random.rand(3), __import__("random").random())
    assert torch.equal(expected[0], again[0]) and np.array_equal(expected[1], again[1])
    assert expected[2] == again[2]


# --------------------------------------------------------------------------- Catch


def make_catch_env(num_envs: int = 8, **kwargs) -> gymnasium.vector.VectorEnv:
    return gymnasium.make_vec(
        "GlimpseCatch-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        **kwargs,
    )


def test_catch_rollout_decides_a_move_every_step():
    """Every step samples a move (T log-probs, one per step's baseline) and, but for the
    last, a location; no label exists. The moves sent are the ones whose log-prob is kept."""
    env = make_catch_env(num_envs=6, screen_size=8, glimpse_size=4)
    model = make_model(env, core="lstm", hidden_size=32)
    assert model.config.num_classes == 3  # the three moves
    sent = []
    step = env.step

    def recording_step(action):
        sent.append(action[:, 2:].argmax(-1))
        return step(action)

    env.step = recording_step
    rollout = collect_rollout(model, env, seed=1, sample_class=True)
    assert rollout.labels is None and rollout.logits.shape == (6, 3)
    assert rollout.location_log_probs.shape == (6, 6) and rollout.baselines.shape == (7, 6)
    assert rollout.decision_log_probs.shape == rollout.decision_entropy.shape == (7, 6)
    assert set(rollout.rewards.tolist()) <= {0.0, 1.0}
    assert len(sent) == 7 and all(set(moves.tolist()) <= {0, 1, 2} for moves in sent)
    with pytest.raises(ValueError, match="no labels"):
        collect_rollout(model, env, seed=1, sample_class=False)


def test_move_policy_gradient_uses_each_steps_advantage():
    """``dLoss / dlog pi(move_t) = -(R - b_t) / N`` for every step t; the entropy bonus
    pushes each step's entropy up by ``entropy_weight / N``."""
    move_log_probs = torch.tensor([[-0.5, -1.5], [-1.0, -0.2], [-0.7, -0.9]], requires_grad=True)
    entropy = torch.tensor([[1.0, 0.9], [0.8, 1.1], [0.5, 0.4]], requires_grad=True)
    baselines = torch.tensor([[0.2, 0.7], [0.6, 0.1], [0.9, 0.4]], requires_grad=True)
    rewards = torch.tensor([1.0, 0.0])
    rollout = reinforce.Rollout(
        location_log_probs=torch.zeros(2, 2, requires_grad=True),
        baselines=baselines,
        logits=torch.zeros(2, 3, requires_grad=True),
        decision_log_probs=move_log_probs,
        decision_entropy=entropy,
        rewards=rewards,
        labels=None,
    )
    losses = compute_losses(rollout, 1.0, entropy_weight=0.1)
    losses.total.backward()
    torch.testing.assert_close(move_log_probs.grad, -(rewards - baselines.detach()) / 2)
    torch.testing.assert_close(entropy.grad, torch.full((3, 2), -0.1 / 2))
    expected = -(move_log_probs.detach() * (rewards - baselines.detach())).sum(0).mean()
    torch.testing.assert_close(losses.classification, expected)


def test_catch_updates_train_and_repeat():
    config = ReinforceConfig(
        env_id="GlimpseCatch-v0", core="lstm", hidden_size=32, batch_size=8, loss="reinforce"
    )
    config.validate()
    env = make_catch_env(num_envs=8, screen_size=8, glimpse_size=4)
    rows = []
    for _ in range(2):
        model = make_model(env, core="lstm", hidden_size=32)
        before = copy.deepcopy(model.state_dict())
        optimizer = make_optimizer(model, config)
        rows.append(update(model, optimizer, env, config, update_index=3))
        assert not torch.equal(model.classifier.weight, before["classifier.weight"])
    torch.testing.assert_close(rows[0], rows[1], rtol=0, atol=0)


def test_catch_defaults_and_what_catch_refuses():
    config = ReinforceConfig(env_id="GlimpseCatch-v0", lr=0.01)
    config.with_task_defaults(typed={"env_id", "lr"})
    assert (config.core, config.loss, config.lr) == ("lstm", "reinforce", 0.01)
    config.validate()
    mnist = ReinforceConfig().with_task_defaults(typed=set())
    assert mnist == ReinforceConfig()  # the classification defaults stay as they are
    with pytest.raises(ValueError, match="no labels"):
        ReinforceConfig(env_id="GlimpseCatch-v0", loss="hybrid").validate()
    with pytest.raises(ValueError, match="--glimpses does not apply"):
        ReinforceConfig(env_id="GlimpseCatch-v0", loss="reinforce", num_glimpses=4).validate()


def test_reward_only_classification_gets_an_entropy_bonus_unless_one_is_typed():
    # Without a bonus the sampled class settles on one class and the run stays at chance.
    config = ReinforceConfig(loss="reinforce").with_task_defaults(typed={"loss"})
    assert (config.entropy_weight, config.batch_size) == (0.3, 256)
    typed = ReinforceConfig(loss="reinforce", entropy_weight=0.0, batch_size=1024)
    typed.with_task_defaults(typed={"loss", "entropy_weight", "batch_size"})
    assert (typed.entropy_weight, typed.batch_size) == (0.0, 1024)  # given: kept
    translated = ReinforceConfig(env_id="GlimpseTranslatedMNIST-v0", loss="reinforce")
    assert translated.with_task_defaults(typed={"loss"}).entropy_weight == 0.3


def test_ram_policy_plays_catch_and_is_scored_by_its_catch_rate():
    env = make_catch_env(num_envs=250, split="validation")
    model = make_model(env, core="lstm", hidden_size=32)
    result = evaluate(RAMPolicy(model), env, seed=0, num_images=500)
    assert result.n == 500 and result.per_class_accuracy == [] and 0 <= result.accuracy <= 100
    with pytest.raises(ValueError, match="Catch decides a move"):
        evaluate(RAMPolicy(model, sample_paths=True), env, mc=2, num_images=500)


def test_glimpse_classification_loss_is_the_mean_cross_entropy_of_the_earlier_steps():
    """``--glimpse-classification-weight c`` adds ``c`` times the mean CE of the classifier
    on h_1..h_{T-1} to the total; the paper's terms stay as they were."""
    env = make_env()
    model = make_model(env)
    plain = collect_rollout(model, env, seed=3, sample_class=False)
    early = collect_rollout(model, env, seed=3, sample_class=False, classify_early=True)
    steps = env.unwrapped.num_glimpses - 1
    assert plain.early_logits is None
    assert early.early_logits.shape == (steps, 16, NUM_CLASSES)
    torch.testing.assert_close(early.logits, plain.logits)  # the same episodes
    base, weighted = compute_losses(early), compute_losses(early, early_class_weight=0.5)
    ce = torch.stack(
        [F.cross_entropy(logits, early.labels) for logits in early.early_logits]
    ).mean()
    torch.testing.assert_close(weighted.total, base.total + 0.5 * ce)
    for name in ("classification", "location", "baseline"):
        torch.testing.assert_close(getattr(weighted, name), getattr(base, name))
    model.zero_grad()
    (weighted.total - base.total).backward()
    assert model.classifier.weight.grad.abs().sum() > 0  # the classifier and the core
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.core.parameters())
    with pytest.raises(ValueError, match="early logits"):
        compute_losses(plain, early_class_weight=0.5)


@pytest.mark.parametrize(
    "options", [{"loss": "reinforce"}, {"env_id": "GlimpseCatch-v0", "loss": "reinforce"}]
)
def test_glimpse_classification_weight_needs_the_hybrid_loss(options):
    config = ReinforceConfig(glimpse_classification_weight=0.5, **options)
    with pytest.raises(ValueError, match="needs --loss hybrid on a classification task"):
        config.validate()


def test_an_update_with_the_glimpse_classification_loss_trains_and_repeats():
    env = make_env()
    config = ReinforceConfig(batch_size=16, glimpse_classification_weight=0.5)
    config.validate()
    stats = []
    for _ in range(2):
        model = make_model(env)
        before = model.classifier.weight.detach().clone()
        stats.append(update(model, make_optimizer(model, config), env, config, 0))
        assert not torch.equal(before, model.classifier.weight)
    torch.testing.assert_close(stats[0], stats[1])
