"""``benchmarks/compute_plan.py``: measured speeds into hours and sessions (no training)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.compute_plan import (
    REINFORCE_UPDATES,
    SPEED_STEPS,
    Speed,
    planned_cost,
    read_speeds,
    run_seconds,
    sessions,
    speed_task,
    write_speeds,
)
from benchmarks.lineup import LINEUP
from benchmarks.protocol import task_protocol
from tests.test_run_records import make_record

MNIST = task_protocol("mnist")


def speed(entry="ppo", steps_per_second=5_000.0, eval_seconds=6.0) -> Speed:
    return Speed(MNIST.env_id, entry, 20_000, steps_per_second, eval_seconds, 1, 0.5, "cpu",
                 "2026-12-05")  # fmt: skip


def test_speeds_round_trip_and_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "speed.json"
    assert read_speeds(path) == {}
    speeds = {(MNIST.env_id, "ppo"): speed(), (MNIST.env_id, "dqn"): speed("dqn")}
    write_speeds(path, speeds)
    assert read_speeds(path) == speeds
    path.write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a speed file"):
        read_speeds(path)


def test_a_run_costs_its_training_its_curve_and_its_test_scoring():
    seconds = run_seconds(MNIST, speed(steps_per_second=10_000.0, eval_seconds=5.0))
    expected = 10.0 + MNIST.budget_steps / 10_000.0 + (MNIST.curve_points + 1) * 5.0
    assert seconds == pytest.approx(expected)


def test_recorded_runs_outrank_a_speed_measurement():
    speeds = {(MNIST.env_id, "ppo"): speed()}
    cost = planned_cost(MNIST, LINEUP["ppo"], speeds, [])
    assert cost.source == "speed" and cost.runs == MNIST.seeds
    assert cost.hours == pytest.approx(MNIST.seeds * run_seconds(MNIST, speed()) / 3600.0)
    runs = [
        replace(make_record(entry="ppo", algo="ppo", seed=seed, wall_seconds=wall),
                budget_steps=MNIST.budget_steps)
        for seed, wall in ((0, 600.0), (1, 900.0), (2, 700.0))
    ]  # fmt: skip
    other_budget = replace(runs[0], budget_steps=MNIST.budget_steps * 2, wall_seconds=9e9)
    cost = planned_cost(MNIST, LINEUP["ppo"], speeds, [*runs, other_budget])
    assert cost.source == "runs" and cost.seconds_per_run == 700.0  # the median
    unmeasured = planned_cost(MNIST, LINEUP["dqn"], speeds, [])
    assert unmeasured.source == "none" and unmeasured.hours is None


def test_sessions_share_the_hours_between_parallel_runs():
    assert sessions(10.0, parallel=2) == pytest.approx(2.0)
    assert sessions(10.0, parallel=1, session_hours=5.0) == pytest.approx(2.0)


def test_a_speed_run_is_short_and_reinforce_gets_whole_updates():
    assert speed_task(MNIST, LINEUP["ppo"]).budget_steps == SPEED_STEPS
    reinforce = speed_task(MNIST, LINEUP["reinforce-reward"])
    assert reinforce.budget_steps >= REINFORCE_UPDATES * 1024 * MNIST.glimpses
