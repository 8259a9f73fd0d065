"""``benchmarks/protocol.py`` and ``benchmarks/lineup.py``: budgets, curve points, the
normalised score, and every algorithm's declared track."""

from __future__ import annotations

import pytest

from agents.reinforce_config import ReinforceConfig
from agents.sb3_registry import ALGORITHMS
from agents.tracks import HYBRID, REWARD_ONLY
from benchmarks.lineup import LINEUP, entries_in
from benchmarks.protocol import (
    CHANCE,
    TASK_PROTOCOLS,
    TaskProtocol,
    normalised_score,
    steps_label,
    task_protocol,
)
from ram_env.registration import TASKS


def test_every_registered_task_has_a_budget_and_the_paper_s_accuracy():
    assert set(TASK_PROTOCOLS) == set(TASKS)
    paper_errors = {"mnist": 1.12, "translated": 1.22, "cluttered60": 4.08, "cluttered100": 10.83}
    for task in TASK_PROTOCOLS.values():
        assert task.paper_error == paper_errors[task.name]
        assert task.glimpses == TASKS[task.env_id][3]
        assert task.reduced == (task.budget_steps < task.full_steps)
        steps = task.curve_steps()
        assert len(steps) == task.curve_points and steps[-1] == task.budget_steps
        assert task.reinforce_images() * task.glimpses >= task.budget_steps


def test_normalised_score_is_zero_at_chance_and_one_at_the_paper():
    mnist = task_protocol("mnist")
    assert mnist.normalised(CHANCE) == 0.0
    assert mnist.normalised(mnist.paper_accuracy) == pytest.approx(1.0)
    assert mnist.normalised(100.0) > 1.0
    assert normalised_score(5.0, 90.0) == pytest.approx(-5.0 / 80.0)
    with pytest.raises(ValueError, match="must exceed chance"):
        normalised_score(50.0, 10.0)
    with pytest.raises(ValueError, match="is a percentage"):
        normalised_score(150.0, 90.0)


def test_tasks_are_found_by_name_or_id_and_bad_settings_are_refused():
    assert task_protocol("cluttered100") is task_protocol("GlimpseClutteredMNIST100-v0")
    with pytest.raises(ValueError, match="unknown task 'cifar'.*mnist \\(GlimpseMNIST-v0\\)"):
        task_protocol("cifar")
    with pytest.raises(ValueError, match="not a multiple of 3 curve points"):
        TaskProtocol("mnist", budget_steps=1_000_000, full_steps=1_000_000, seeds=1, curve_points=3)
    with pytest.raises(ValueError, match="must be positive"):
        TaskProtocol("mnist", budget_steps=1_000, full_steps=1_000, seeds=0)


def test_steps_labels_are_short_and_exact():
    assert [steps_label(n) for n in (3_000_000, 1_500_000, 500_000, 12_340, 960)] == [
        "3M", "1.5M", "500k", "12.34k", "960",
    ]  # fmt: skip
    assert steps_label(1_234_567) == "1234567"


def test_the_lineup_has_every_sb3_algorithm_and_reinforce_in_both_tracks():
    assert set(ALGORITHMS) <= set(LINEUP)
    assert LINEUP["reinforce-reward"].flags[:2] == ("--loss", "reinforce")
    assert LINEUP["reinforce-reward"].track == REWARD_ONLY
    assert LINEUP["reinforce-hybrid"].track == HYBRID
    for name in ("ppo", "a2c", "sac", "td3", "dqn"):
        assert LINEUP[name].memory == "none" and LINEUP[f"{name}-history"].has_memory
    assert LINEUP["recurrent-ppo-lstm"].track == REWARD_ONLY
    assert LINEUP["recurrent-ppo-reward"].track == REWARD_ONLY
    assert [entry.name for entry in entries_in(tracks=[HYBRID])] == [
        "reinforce-hybrid", "recurrent-ppo",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown algorithm 'trpo'"):
        entries_in(["trpo"])


def test_a_track_is_told_from_what_trains_on_the_label():
    """Hybrid exactly when training reads the label: the supervised loss of recurrent-ppo,
    the cross-entropy of REINFORCE's hybrid loss; everything else is reward only."""
    hybrid_ppo = ALGORITHMS["recurrent-ppo"]
    assert hybrid_ppo.tracks == (REWARD_ONLY, HYBRID)
    assert hybrid_ppo.track() == HYBRID
    assert hybrid_ppo.track({"supervised_coef": 0.0}) == REWARD_ONLY
    for name, spec in ALGORITHMS.items():
        if name != "recurrent-ppo":
            assert spec.label_setting is None and spec.track() == REWARD_ONLY, name
    assert ReinforceConfig(loss="hybrid").track == HYBRID
    assert ReinforceConfig(loss="reinforce").track == REWARD_ONLY


def test_off_policy_algorithms_declare_how_they_use_their_budget():
    for name in ("sac", "td3", "dqn", "sac-history", "td3-history", "dqn-history"):
        settings = LINEUP[name].settings
        assert settings["train_freq"] == 1 and settings["gradient_steps"] >= 1
        assert settings["envs"] == 256 and settings["batch_size"] == 256
    for name in ("dqn", "dqn-history"):  # the target net lags >= 100 gradient steps
        settings = LINEUP[name].settings
        per_gradient_step = settings["envs"] / settings["gradient_steps"]
        assert settings["target_update_interval"] / per_gradient_step >= 100
    assert LINEUP["sac-history"].settings["buffer_size"] < LINEUP["sac"].settings["buffer_size"]
